package adminstate

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Entry
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{name: "comments", in: "# c\n; c\n\n", want: nil},
		{name: "gdnsd forms", in: "geoip/generic-map/esams => DOWN\ngeoip/text*/ulsfo => up/30 # trailing\n\"site/eqiad\" => \"DOWN/120\"\n",
			want: []Entry{
				{Pattern: "geoip/generic-map/esams", Down: true, Line: 1},
				{Pattern: "geoip/text*/ulsfo", TTL: 30, HasTTL: true, Line: 2},
				{Pattern: "site/eqiad", Down: true, TTL: 120, HasTTL: true, Line: 3},
			}},
		{name: "bad state", in: "ok => UP\nsite/x => SIDEWAYS\n", wantErr: "f:2: key \"site/x\": state \"SIDEWAYS\" is not UP or DOWN"},
		{name: "bad ttl", in: "site/x => DOWN/268435456", wantErr: "f:1: key \"site/x\": TTL"},
		{name: "negative ttl", in: "site/x => DOWN/-1", wantErr: "f:1:"},
		{name: "no arrow", in: "site/x DOWN", wantErr: "f:1: expected"},
		{name: "bad glob", in: "site/[x => DOWN", wantErr: "unterminated"},
		{name: "two errors", in: "a\nb\n", wantErr: "f:2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Parse("f", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if st != nil {
					t.Fatal("a file with errors must be rejected whole")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Entries) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", st.Entries, tt.want)
			}
			for i := range tt.want {
				if st.Entries[i] != tt.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, st.Entries[i], tt.want[i])
				}
			}
		})
	}
}

func TestLookupLastLineWins(t *testing.T) {
	st, err := Parse("f", []byte("geoip/*/esams => DOWN\ngeoip/text-addrs/esams => UP\ngeoip/*/esams => DOWN/60\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := st.Lookup("geoip/text-addrs/esams")
	if !ok || !e.Down || e.TTL != 60 || e.Line != 3 {
		t.Fatalf("got %+v %v", e, ok)
	}
	if _, ok := st.Lookup("geoip/text-addrs/eqiad"); ok {
		t.Fatal("eqiad should not be forced")
	}
	var nilState *State
	if _, ok := nilState.Lookup("x"); ok {
		t.Fatal("nil state forces nothing")
	}
	for key, want := range map[string]int{"geoip/text-addrs/esams": 2, "geoip/m/esams": 2, "geoip/text-addrs/eqiad": -1} {
		if got := st.Find(key); got != want {
			t.Errorf("Find(%s) = %d, want %d", key, got, want)
		}
	}
	if nilState.Find("x") != -1 {
		t.Error("Find in a nil state should be -1")
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		p, k string
		want bool
	}{
		{"geoip/*/esams", "geoip/generic-map/esams", true},
		{"*", "geoip/a/b", true}, // * crosses '/'
		{"geoip/text*/ulsfo", "geoip/text-addrs/ulsfo", true},
		{"geoip/text*/ulsfo", "geoip/upload-addrs/ulsfo", false},
		{"site/e?ams", "site/esams", true},
		{"site/[ce]*", "site/codfw", true},
		{"site/[!ce]*", "site/codfw", false},
		{"site/[a-d]odfw", "site/codfw", true},
		{"site/\\*", "site/*", true},
		{"site/\\*", "site/x", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"", "", true},
		{"x", "", false},
	}
	for _, tt := range tests {
		if got := Match(tt.p, tt.k); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.p, tt.k, got, tt.want)
		}
	}
}

func TestDiff(t *testing.T) {
	a, _ := Parse("f", []byte("site/a => DOWN\nsite/b => DOWN\n"))
	b, _ := Parse("f", []byte("site/a => DOWN/30\nsite/c => DOWN\n"))
	got := strings.Join(Diff(a, b), "|")
	want := "state of 'site/a' re-forced from DOWN to DOWN/30|state of 'site/c' forced to DOWN|state of 'site/b' no longer forced (was forced to DOWN)"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
