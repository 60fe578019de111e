//go:build !linux

package media

import "context"

func newSlotClock(context.Context) slotClock { return newTimerClock() }
