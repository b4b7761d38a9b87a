package keys

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeLayout is BIND's YYYYMMDDHHMMSS, always UTC.
const timeLayout = "20060102150405"

// timingFields are the timing names in the order BIND writes them, with
// the Timing field each one sets.
var timingFields = [...]struct {
	name  string
	field func(*Timing) *time.Time
}{
	{"Created", func(t *Timing) *time.Time { return &t.Created }},
	{"Publish", func(t *Timing) *time.Time { return &t.Publish }},
	{"Activate", func(t *Timing) *time.Time { return &t.Activate }},
	{"Revoke", func(t *Timing) *time.Time { return &t.Revoke }},
	{"Inactive", func(t *Timing) *time.Time { return &t.Inactive }},
	{"Delete", func(t *Timing) *time.Time { return &t.Delete }},
	{"SyncPublish", func(t *Timing) *time.Time { return &t.SyncPublish }},
	{"SyncDelete", func(t *Timing) *time.Time { return &t.SyncDelete }},
}

// timingField returns the Timing field called name (case-insensitive, as
// BIND reads it), or nil.
func timingField(t *Timing, name string) *time.Time {
	for _, f := range timingFields {
		if strings.EqualFold(f.name, name) {
			return f.field(t)
		}
	}
	return nil
}

// Zero reports whether no timing field is set: a key from before timing
// metadata (dnssec-keygen -C, private key format v1.2), which BIND treats
// as always published and active.
func (t Timing) Zero() bool {
	for _, f := range timingFields {
		if !f.field(&t).IsZero() {
			return false
		}
	}
	return true
}

// events returns every set field that changes what the key does (all but
// Created).
func (t Timing) events() []time.Time {
	var ev []time.Time
	for _, f := range timingFields {
		if v := *f.field(&t); !v.IsZero() && f.name != "Created" {
			ev = append(ev, v)
		}
	}
	return ev
}

// parseStamp parses a YYYYMMDDHHMMSS time as key files hold it.
func parseStamp(s string) (time.Time, error) {
	if len(s) != len(timeLayout) || strings.Trim(s, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("time %q: want YYYYMMDDHHMMSS", s)
	}
	t, err := time.ParseInLocation(timeLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want YYYYMMDDHHMMSS", s)
	}
	return t, nil
}

// FormatStamp formats t as key files hold it: YYYYMMDDHHMMSS in UTC.
func FormatStamp(t time.Time) string { return t.UTC().Format(timeLayout) }

// offsetUnits are the suffixes of a BIND relative time (dnssec-keygen's
// +30d); the two-letter ones first.
var offsetUnits = []struct {
	suffix string
	d      time.Duration
}{
	{"mo", 30 * 24 * time.Hour},
	{"mi", time.Minute},
	{"y", 365 * 24 * time.Hour},
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"s", time.Second},
}

// ParseTime reads a timing argument as dnssec-keygen's -P/-A/-I/-D do:
// YYYYMMDDHHMMSS or YYYYMMDD (UTC), "now", an offset from now such as
// +30d or -1h (units y, mo, w, d, h, mi, s; none: seconds), or "none"
// (the zero time: unset). The result is truncated to the second.
func ParseTime(s string, now time.Time) (time.Time, error) {
	switch {
	case s == "none":
		return time.Time{}, nil
	case s == "now":
		return now.UTC().Truncate(time.Second), nil
	case strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-"):
		d, err := parseOffset(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		if s[0] == '-' {
			d = -d
		}
		return now.UTC().Truncate(time.Second).Add(d), nil
	case len(s) == 8 && strings.Trim(s, "0123456789") == "":
		return parseStamp(s + "000000")
	}
	t, err := parseStamp(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want YYYYMMDDHHMMSS, YYYYMMDD, now, +OFFSET (such as +30d) or none", s)
	}
	return t, nil
}

func parseOffset(s string) (time.Duration, error) {
	unit := time.Second
	for _, u := range offsetUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, unit = strings.TrimSuffix(s, u.suffix), u.d
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("want a number of y, mo, w, d, h, mi or s")
	}
	if time.Duration(n) > (1<<62)/unit {
		return 0, fmt.Errorf("offset too large")
	}
	return time.Duration(n) * unit, nil
}
