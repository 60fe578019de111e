package pbx

import (
	"strings"
	"testing"
	"time"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/pbx/store"
)

func TestParseUntil(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, rome)
	tests := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{"", time.Time{}, ""},
		{"15:00", time.Date(2026, 11, 27, 15, 0, 0, 0, rome), ""},
		{"09:00", time.Time{}, "already passed"},
		{"2026-12-24 15:00", time.Date(2026, 12, 24, 15, 0, 0, 0, rome), ""},
		{"2h", now.Add(2 * time.Hour), ""},
		{"-1h", time.Time{}, "positive"},
		{"2026-12-24T15:00:00Z", time.Date(2026, 12, 24, 15, 0, 0, 0, time.UTC), ""},
		{"domani", time.Time{}, "write a time"},
	}
	for _, tt := range tests {
		got, err := parseUntil(tt.in, rome, now)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseUntil(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseUntil(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFeatureState(t *testing.T) {
	f := config.Features{Available: "*30", Meeting: "*31", Away: "*32", DND: "*33"}
	for in, want := range map[string]string{"*30": "available", "*31": "meeting", "*32": "away", "*33": "dnd", "*34": "", "100": "", "": ""} {
		if got := featureState(f, in); got != want {
			t.Errorf("featureState(%q) = %q, want %q", in, got, want)
		}
	}
}

// A decision keeps reading the statuses it was given while a change
// replaces them.
func TestStatusBoardCopyOnWrite(t *testing.T) {
	b := newStatusBoard(store.NewMemory())
	if err := b.set(store.Status{Tenant: "t", Person: "p", State: "meeting", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	before := b.forTenant("t")
	if err := b.set(store.Status{Tenant: "t", Person: "p", State: "away", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if before["p"].State != "meeting" || b.forTenant("t")["p"].State != "away" {
		t.Errorf("before = %v, now = %v", before["p"].State, b.forTenant("t")["p"].State)
	}
	b2 := newStatusBoard(b.store)
	if err := b2.load(); err != nil || b2.forTenant("t")["p"].State != "away" {
		t.Errorf("reloaded board: %v, %v", b2.forTenant("t"), err)
	}
}
