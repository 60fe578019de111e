//go:build !linux

package media

import (
	"context"
	"errors"
)

func newSlotClock(context.Context) (slotClock, error) {
	return newTimerClock(), errors.New("a realtime player is built for Linux only")
}
