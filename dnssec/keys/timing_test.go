package keys

import (
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 31, 45, 999, time.FixedZone("CET", 3600))
	nowUTC := time.Date(2026, 12, 6, 11, 31, 45, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
		err  string
	}{
		{"20270102030405", time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC), ""},
		{"20270102", time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), ""},
		{"now", nowUTC, ""},
		{"none", time.Time{}, ""},
		{"+30", nowUTC.Add(30 * time.Second), ""},
		{"+30d", nowUTC.Add(30 * 24 * time.Hour), ""},
		{"+2w", nowUTC.Add(14 * 24 * time.Hour), ""},
		{"+1mo", nowUTC.Add(30 * 24 * time.Hour), ""},
		{"+1y", nowUTC.Add(365 * 24 * time.Hour), ""},
		{"+90mi", nowUTC.Add(90 * time.Minute), ""},
		{"-1h", nowUTC.Add(-time.Hour), ""},
		{"+0s", nowUTC, ""},
		{"+d", time.Time{}, `time "+d": want a number`},
		{"+1x", time.Time{}, `time "+1x": want a number`},
		{"++1", time.Time{}, `time "++1": want a number`},
		{"+99999999999y", time.Time{}, `want a number`},
		{"+4294967295y", time.Time{}, `offset too large`},
		{"20271302", time.Time{}, `time "20271302000000": want YYYYMMDDHHMMSS`},
		{"2027010203040", time.Time{}, `time "2027010203040": want YYYYMMDDHHMMSS, YYYYMMDD, now, +OFFSET`},
		{"tomorrow", time.Time{}, `time "tomorrow": want`},
		{"", time.Time{}, `time "": want`},
	} {
		got, err := ParseTime(tt.in, now)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseTime(%q): %v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestTimingZero(t *testing.T) {
	if !(Timing{}).Zero() {
		t.Error("Timing{} is not Zero")
	}
	for _, f := range timingFields {
		var tm Timing
		*f.field(&tm) = time.Unix(1, 0)
		if events := len(tm.events()); tm.Zero() || events != 1 && f.name != "Created" || events != 0 && f.name == "Created" {
			t.Errorf("%s set: Zero %v, %d events", f.name, tm.Zero(), events)
		}
		if timingField(&tm, strings.ToLower(f.name)) != f.field(&tm) {
			t.Errorf("%s: not found by its lower-case name", f.name)
		}
	}
}

// FuzzParseTime reads dnssec keygen's date arguments: a time that parses
// is whole seconds in UTC, and one given as a stamp (14 digits; an offset
// such as +0000000000000 can be as long) prints back to itself.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"20270102030405", "20270102", "now", "none", "+30d", "-1h", "+1mo", "+90mi", "+0", "+4294967295y", "2027010203040x", "+", "-"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 6, 12, 31, 45, 999, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, now)
		if err != nil {
			if !strings.Contains(err.Error(), "time ") {
				t.Fatalf("error without the argument: %v", err)
			}
			return
		}
		if got.IsZero() {
			if s != "none" {
				t.Fatalf("%q: the zero time", s)
			}
			return
		}
		if got.Location() != time.UTC || got.Nanosecond() != 0 {
			t.Fatalf("%q: %v", s, got)
		}
		if len(s) == 14 && strings.Trim(s, "0123456789") == "" && FormatStamp(got) != s {
			t.Fatalf("%q printed back as %s", s, FormatStamp(got))
		}
	})
}
