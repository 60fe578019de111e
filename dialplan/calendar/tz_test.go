package calendar

import (
	"testing"
	"time"
)

func TestZonesLookup(t *testing.T) {
	tests := []struct {
		tzid string
		want string // "" for unknown
	}{
		{"Europe/Rome", "Europe/Rome"},
		{" Europe/Rome ", "Europe/Rome"},
		{"UTC", "Etc/UTC"}, // a Windows name too
		{"W. Europe Standard Time", "Europe/Berlin"},
		{"Central Europe Standard Time", "Europe/Budapest"},
		{"GMT Standard Time", "Europe/London"},
		{"Romance Standard Time", "Europe/Paris"},
		{"Eastern Standard Time", "America/New_York"},
		{"(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"},
		{"(GMT+01.00) Amsterdam / Berlin / Bern / Rome / Stockholm / Vienna", "Europe/Berlin"},
		{"/mozilla.org/20050126_1/Europe/Rome", "Europe/Rome"},
		{"/citadel.org/20190914_1/America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"},
		{"Europa Centrale", "Europe/Rome"}, // through X-LIC-LOCATION
		{"Customized Time Zone", ""},
		{"Local", ""}, // time.LoadLocation would give the server's zone
		{"", ""},
		{"../../etc/passwd", ""},
		{"/etc/passwd", ""},
	}
	z := newZones()
	z.licLocation["Europa Centrale"] = "Europe/Rome"
	for _, tt := range tests {
		got := z.lookup(tt.tzid)
		name := ""
		if got != nil {
			name = got.String()
		}
		if name != tt.want {
			t.Errorf("lookup(%q) = %q, want %q", tt.tzid, name, tt.want)
		}
		if again := z.lookup(tt.tzid); again != got {
			t.Errorf("lookup(%q) the second time = %v, want the cached %v", tt.tzid, again, got)
		}
	}
}

// TestWindowsZonesLoad checks every mapped name exists in the tz database.
func TestWindowsZonesLoad(t *testing.T) {
	for windows, iana := range windowsZones {
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("%q → %q: %v", windows, iana, err)
		}
	}
	for cities, iana := range displayCities {
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("%q → %q: %v", cities, iana, err)
		}
	}
}
