package zones

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// zoneDir writes files (path relative to the zones directory: content)
// into a new directory.
func zoneDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// head is a zone start without warnings.
const head = "@ 300 SOA ns1 hostmaster 1 7200 1800 1209600 300\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n"

// answer looks name/qtype up and returns the answer records as text,
// one per line.
func answer(t *testing.T, set *Set, name string, qtype uint16) string {
	t.Helper()
	w, err := wireName(name)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	res.Reset()
	set.Lookup(lowerWire(w), qtype, noDyn{}, &res)
	var out []string
	for _, it := range res.Answer {
		if it.Set == nil {
			continue
		}
		for _, rr := range it.Set.RRs() { // unpacked from the served bytes
			out = append(out, strings.ReplaceAll(rr.String(), "\t", " "))
		}
	}
	return strings.Join(out, "\n")
}

func mustLoad(t *testing.T, dir string, opt Options) *Set {
	t.Helper()
	set, err := Load(dir, fakeChecker{"r": true}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestAtZAndAtF(t *testing.T) {
	dir := zoneDir(t, map[string]string{
		"example.com": head + "a.@Z 300 A 192.0.2.10\n" +
			"m 300 MX 10 ns1.@Z\n" +
			"c 300 CNAME @Z\n" +
			"t 300 TXT @Z\n" +
			"$ORIGIN sub.@Z\n" +
			"x 300 CNAME y.@F\n" +
			"y 300 A 192.0.2.11\n" +
			"$INCLUDE inc/one foo.@Z\n" +
			"$ORIGIN @z\n" +
			"low 300 CNAME x.@f\n",
		"inc/one": "@F 300 TXT \"f\"\nb 300 CNAME @F\nz 300 CNAME q.@Z\n",
	})
	set := mustLoad(t, dir, Options{})
	for _, tt := range []struct {
		name string
		qt   uint16
		want string
	}{
		{"a.example.com.", dns.TypeA, "a.example.com. 300 IN A 192.0.2.10"},
		{"m.example.com.", dns.TypeMX, "m.example.com. 300 IN MX 10 ns1.example.com."},
		{"c.example.com.", dns.TypeCNAME, "c.example.com. 300 IN CNAME example.com."},
		{"t.example.com.", dns.TypeTXT, `t.example.com. 300 IN TXT "@Z"`},
		{"x.sub.example.com.", dns.TypeCNAME, "x.sub.example.com. 300 IN CNAME y.example.com."},
		{"foo.example.com.", dns.TypeTXT, `foo.example.com. 300 IN TXT "f"`},
		{"b.foo.example.com.", dns.TypeCNAME, "b.foo.example.com. 300 IN CNAME foo.example.com."},
		{"z.foo.example.com.", dns.TypeCNAME, "z.foo.example.com. 300 IN CNAME q.example.com."},
		{"low.example.com.", dns.TypeCNAME, "low.example.com. 300 IN CNAME x.example.com."},
	} {
		if got := answer(t, set, tt.name, tt.qt); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, bad := range []string{"a.@X A 192.0.2.1\n", "@Q A 192.0.2.1\n", "m MX 10 a.@ZZ\n", "$ORIGIN x.@Y\n", "$INCLUDE inc/one @W\n"} {
		dir := zoneDir(t, map[string]string{"example.com": head + bad, "inc/one": "x A 192.0.2.1\n"})
		_, err := Load(dir, nil, Options{})
		if err == nil || !strings.Contains(err.Error(), "example.com:6: ") || !strings.Contains(err.Error(), "only @Z and @F") {
			t.Errorf("%q: err = %v, want example.com:6: ... only @Z and @F", bad, err)
		}
	}
}

func TestInclude(t *testing.T) {
	dir := zoneDir(t, map[string]string{
		"example.com": "$TTL 600\n" + head +
			"$INCLUDE sub/a.inc\n" +
			"after A 192.0.2.20\n" +
			"$INCLUDE \"sub/sp\\032ace\\\"q\" in.@Z\n" +
			"$INCLUDE sub/a.inc deeper\n",
		"sub/a.inc":     "$TTL 77\n$ORIGIN inner.@F\nx A 192.0.2.8\n$INCLUDE b.inc\n",
		"sub/b.inc":     "y A 192.0.2.9\n",
		"sub/sp ace\"q": "q A 192.0.2.10\n",
	})
	set := mustLoad(t, dir, Options{})
	for _, tt := range []struct{ name, want string }{
		{"x.inner.example.com.", "x.inner.example.com. 77 IN A 192.0.2.8"},
		{"y.inner.example.com.", "y.inner.example.com. 77 IN A 192.0.2.9"},
		{"after.example.com.", "after.example.com. 600 IN A 192.0.2.20"}, // neither $TTL nor $ORIGIN flow back
		{"q.in.example.com.", "q.in.example.com. 600 IN A 192.0.2.10"},
		{"x.inner.deeper.example.com.", "x.inner.deeper.example.com. 77 IN A 192.0.2.8"},
	} {
		if got := answer(t, set, tt.name, dns.TypeA); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}

	for _, tt := range []struct{ body, inc, want string }{
		{"$INCLUDE ../x\n", "", "example.com:6: $INCLUDE ../x: outside the zones directory"},
		{"$INCLUDE sub/.hidden\n", "", "example.com:6: $INCLUDE sub/.hidden: dotfiles are not allowed"},
		{"$INCLUDE sub/i other.net.\n", "", "example.com:6: $INCLUDE origin other.net. is outside zone example.com."},
		{"$INCLUDE sub/missing\n", "", "example.com:6: failed to open"},
		{"$INCLUDE sub/i\n", "x A 192.0.2.1\ny A 999.1.1.1\n", "sub/i:2: bad A A"},
		{"$INCLUDE sub/i\n", "$INCLUDE ../../x\n", "sub/i:1: $INCLUDE ../../x: outside the zones directory"},
		{"$INCLUDE sub/i\n", "x A 192.0.2.1\n$INCLUDE i\n", "sub/i:2: $INCLUDE i: includes itself"},
		{"$INCLUDE example.com\n", "", "example.com:6: $INCLUDE example.com: includes itself"},
	} {
		files := map[string]string{"example.com": head + tt.body}
		if tt.inc != "" {
			files["sub/i"] = tt.inc
		}
		dir := zoneDir(t, files)
		_, err := Load(dir, nil, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), dir) {
			t.Errorf("%q: err = %v\nwant containing %q", tt.body, err, tt.want)
		}
	}
}

func TestTTLs(t *testing.T) {
	dir := zoneDir(t, map[string]string{"example.com": head +
		"a 1H A 192.0.2.1\nb 5M A 192.0.2.1\nc 1D A 192.0.2.1\nd 2W A 192.0.2.1\n" +
		"e A 192.0.2.1\n" + // not the last TTL written (RFC 1035): the default
		"f 1 A 192.0.2.1\ng 4000000 A 192.0.2.1\n"})
	check := func(set *Set, want map[string]uint32) {
		t.Helper()
		for name, ttl := range want {
			n := set.Zone("example.com").Node(lowerWire(must(wireName(name + ".example.com."))))
			if got := n.Find(dns.TypeA).TTL; got != ttl {
				t.Errorf("%s: TTL %d, want %d", name, got, ttl)
			}
		}
	}
	set := mustLoad(t, dir, Options{})
	check(set, map[string]uint32{"a": 3600, "b": 300, "c": 86400, "d": 1209600, "e": 86400, "f": MinTTL, "g": MaxTTL})
	check(mustLoad(t, dir, Options{DefaultTTL: 600}), map[string]uint32{"e": 600})
	// The clamps to [MinTTL, MaxTTL] stay warnings in strict mode.
	if _, err := Load(dir, nil, Options{Strict: true}); err != nil {
		t.Fatalf("strict: %v", err)
	}
	if w := strings.Join(set.Warnings, "\n"); !strings.Contains(w, "example.com:11: A TTL 1 too small, raised to 5") {
		t.Errorf("warnings = %s", w)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestDynTTL(t *testing.T) {
	tests := []struct {
		line     string
		opt      Options
		max, min uint32
		warn     string // "" none; in strict mode an error unless clampOnly
		note     bool   // the warning stays one in strict mode
	}{
		{"d 1h/10m DYNA geoip!r", Options{}, 3600, 600, "", false},
		{"d 1H/1M DYNC geoip!r", Options{}, 3600, 60, "", false},
		{"d 2w DYNA geoip!r", Options{}, 1209600, 604800, "", false},
		{"d 100 DYNA geoip!r", Options{}, 100, 50, "", false},
		{"d 100/0 DYNA geoip!r", Options{}, 100, 50, "", false},
		{"d DYNA geoip!r", Options{}, 86400, 43200, "", false},
		{"d DYNA geoip!r", Options{DefaultTTL: 60}, 60, 30, "", false},
		{"d 100/200 DYNA geoip!r", Options{}, 100, 100, "DYNA MIN TTL 200 is above MAX TTL 100, lowered to it", false},
		{"d 100/2 DYNA geoip!r", Options{}, 100, 5, "DYNA MIN TTL 2 too small, raised to 5", false},
		{"d 8 DYNA geoip!r", Options{}, 8, 5, "DYNA MIN TTL 4 too small, raised to 5", false},
		{"d 5000000/10 DYNA geoip!r", Options{}, MaxTTL, 10, "DYNA TTL 5000000 too large, lowered to 3600000", true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			dir := zoneDir(t, map[string]string{"example.com": head + tt.line + "\n"})
			set := mustLoad(t, dir, tt.opt)
			d := set.Zone("example.com").Dyns[0]
			if d.MaxTTL != tt.max || d.MinTTL != tt.min {
				t.Errorf("MAX/MIN = %d/%d, want %d/%d", d.MaxTTL, d.MinTTL, tt.max, tt.min)
			}
			w := strings.Join(set.Warnings, "\n")
			if tt.warn != "" && !strings.Contains(w, "example.com:6: "+tt.warn) {
				t.Errorf("warnings = %q, want %q", w, tt.warn)
			}
			strict := tt.opt
			strict.Strict = true
			_, err := Load(dir, fakeChecker{"r": true}, strict)
			if (err != nil) != (tt.warn != "" && !tt.note) {
				t.Errorf("strict: err = %v", err)
			}
		})
	}
	for _, bad := range []string{"d 1h30m DYNA geoip!r", "d 30s DYNA geoip!r", "d 1h/x DYNA geoip!r", "d 99999999999 DYNA geoip!r"} {
		dir := zoneDir(t, map[string]string{"example.com": head + bad + "\n"})
		if _, err := Load(dir, fakeChecker{"r": true}, Options{}); err == nil || !strings.Contains(err.Error(), "example.com:6: DYNA TTL") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

func TestRefusedSyntax(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{"$GENERATE 1-2 a$ A 192.0.2.$\n", "example.com:6: $GENERATE is not supported"},
		{"$ADDR_LIMIT_V4 3\n", "example.com:6: $ADDR_LIMIT_V4 is not supported"},
		{"$addr_limit_v6 3\n", "example.com:6: $ADDR_LIMIT_V6 is not supported"},
		{"$FOO x\n", "example.com:6: unknown directive $FOO"},
		{"a A 192.0.2.1\r\nb A 192.0.2.2\r\n", "example.com:6: line ends in CR"},
	} {
		dir := zoneDir(t, map[string]string{"example.com": head + tt.body})
		_, err := Load(dir, nil, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.body, err, tt.want)
		}
	}
}

func TestLongTXTIsSplit(t *testing.T) {
	long := strings.Repeat("a", 300)
	dir := zoneDir(t, map[string]string{"example.com": head + "t TXT \"" + long + "\"\n"})
	set := mustLoad(t, dir, Options{})
	n := set.Zone("example.com").Node(lowerWire(must(wireName("t.example.com."))))
	txt := n.Find(dns.TypeTXT).RRs()[0].(*dns.TXT).Txt
	if len(txt) != 2 || len(txt[0]) != 255 || txt[0]+txt[1] != long {
		t.Fatalf("TXT strings of %d bytes, want 255 and 45", len(txt))
	}
}

func TestDataWarnings(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"MX target without addresses", "m MX 10 nope\n", "example.com:6: MX target nope.example.com. at m.example.com. is in this zone and has no addresses"},
		{"MX target a CNAME", "m MX 10 c\nc CNAME ns1\n", "example.com:6: MX target c.example.com."},
		{"SRV target without addresses", "_s._tcp SRV 1 1 1 txt\ntxt TXT \"x\"\n", "example.com:6: SRV target txt.example.com."},
		{"CNAME to NXDOMAIN", "c CNAME nothere\n", "example.com:6: CNAME c.example.com. points to nothere.example.com., which does not exist in this zone"},
		{"CNAME to an empty non-terminal", "c CNAME e\nx.e A 192.0.2.1\n", "example.com:6: CNAME c.example.com. points to e.example.com."},
		{"in-zone PTR", "p PTR www\n", "example.com:6: PTR at p.example.com. points into its own zone (www.example.com.)"},
		{"TTL mismatch", "a 100 A 192.0.2.1\na 200 A 192.0.2.2\n", "example.com:7: the TTLs of the A records at a.example.com. differ: using 100, the first"},
		{"out of zone", "www.example.net. A 192.0.2.1\n", "example.com:6: www.example.net. is outside zone example.com.: ignored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := zoneDir(t, map[string]string{"example.com": head + tt.body})
			want := tt.want
			set := mustLoad(t, dir, Options{})
			if w := strings.Join(set.Warnings, "\n"); !strings.Contains(w, filepath.Join(dir, want)) {
				t.Errorf("warnings = %q\nwant %q", w, want)
			}
			_, err := Load(dir, fakeChecker{"r": true}, Options{Strict: true})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("strict: err = %v", err)
			}
		})
	}
	t.Run("TTL mismatch keeps the first", func(t *testing.T) {
		dir := zoneDir(t, map[string]string{"example.com": head + "a 200 A 192.0.2.1\na 100 A 192.0.2.2\n"})
		if got := answer(t, mustLoad(t, dir, Options{}), "a.example.com.", dns.TypeA); !strings.Contains(got, "a.example.com. 200 IN A 192.0.2.2") {
			t.Errorf("answer %q", got)
		}
	})
	for _, tt := range []struct{ name, zone, want string }{
		{"one NS", "$TTL 300\n@ SOA ns1 h 1 2 3 4 300\n@ NS ns1\nns1 A 192.0.2.1\n", "example.com:3: zone example.com. has only one NS record"},
		{"MNAME not an NS", "$TTL 300\n@ SOA other.net. h 1 2 3 4 300\n@ NS ns1\n@ NS ns2\n", "example.com:2: SOA MNAME other.net. is not among the NS records"},
		{"SOA TTL above ncache", "@ SOA ns1 h 1 2 3 4 300\n@ NS ns1\n@ NS ns2\n", "example.com:1: SOA TTL 86400 is above the negative-cache TTL 300, lowered to it"},
		{"ncache too large", "$TTL 300\n@ SOA ns1 h 1 2 3 4 20000\n@ NS ns1\n@ NS ns2\n", "example.com:2: SOA negative-cache TTL 20000 too large, lowered to 10800"},
		{"ncache too small", "$TTL 3\n@ SOA ns1 h 1 2 3 4 1\n@ NS ns1\n@ NS ns2\n", "example.com:2: SOA negative-cache TTL 1 too small, raised to 5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := zoneDir(t, map[string]string{"example.com": tt.zone})
			set := mustLoad(t, dir, Options{})
			if w := strings.Join(set.Warnings, "\n"); !strings.Contains(w, tt.want) {
				t.Errorf("warnings = %q\nwant %q", w, tt.want)
			}
			if _, err := Load(dir, nil, Options{Strict: true}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("strict: err = %v", err)
			}
		})
	}
	t.Run("clamped SOA is served", func(t *testing.T) {
		dir := zoneDir(t, map[string]string{"example.com": "$TTL 3600\n@ SOA ns1 h 1 2 3 4 20000\n@ NS ns1\n@ NS ns2\n"})
		set := mustLoad(t, dir, Options{})
		if got, want := answer(t, set, "example.com.", dns.TypeSOA), "example.com. 3600 IN SOA ns1.example.com. h.example.com. 1 2 3 4 10800"; got != want {
			t.Errorf("SOA %q, want %q", got, want)
		}
	})
	t.Run("no warnings", func(t *testing.T) {
		dir := zoneDir(t, map[string]string{"example.com": head +
			"c CNAME x.w\n*.w A 192.0.2.1\n" + // a wildcard answers
			"d CNAME x.deleg\ndeleg NS ns.example.net.\n" + // delegated
			"m MX 10 dyn\nm MX 20 ns1\ndyn DYNA geoip!r\n" +
			"n MX 0 .\n" + // null MX
			"p PTR www.example.net.\n"})
		if set := mustLoad(t, dir, Options{}); len(set.Warnings) > 0 {
			t.Errorf("warnings: %q", set.Warnings)
		}
	})
}

// A quoted string may go on over lines, as in gdnsd; the record keeps the
// line it started on, and later lines keep their numbers.
func TestQuotedStringOverLines(t *testing.T) {
	dir := zoneDir(t, map[string]string{"example.com": head + "t 300 TXT \"abc\ndef\" ; x\nu 300 TXT \"a\" (\n \"b\n\" )\nbad A 999.1.1.1\n"})
	_, err := Load(dir, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "example.com:11: bad A A") {
		t.Fatalf("err = %v, want example.com:11: bad A A", err)
	}
	dir = zoneDir(t, map[string]string{"example.com": head + "t 300 TXT \"abc\ndef\" ; x\nu 300 TXT \"a\" (\n \"b\n\" )\nt 400 TXT \"x\"\n"})
	set := mustLoad(t, dir, Options{})
	if got := answer(t, set, "u.example.com.", dns.TypeTXT); got != `u.example.com. 300 IN TXT "a" "b\010"` {
		t.Errorf("u: %q", got)
	}
	if w := strings.Join(set.Warnings, "\n"); !strings.Contains(w, "example.com:11: the TTLs of the TXT records at t.example.com. differ") {
		t.Errorf("warnings %q", w)
	}
	n := set.Zone("example.com").Node(lowerWire(must(wireName("t.example.com."))))
	if s := n.Find(dns.TypeTXT); s.lines[0].String() != filepath.Join(dir, "example.com")+":6" {
		t.Errorf("t at %s", s.lines[0])
	}
	if got := answer(t, set, "t.example.com.", dns.TypeTXT); got != `t.example.com. 300 IN TXT "abc\010def"`+"\n"+`t.example.com. 300 IN TXT "x"` {
		t.Errorf("t: %q", got)
	}
}

// The zone `make run` serves loads without a warning, even in strict mode.
func TestShippedZoneHasNoWarnings(t *testing.T) {
	set, err := Load("../config/zones", anyDyn{}, Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) > 0 {
		t.Fatalf("warnings: %q", set.Warnings)
	}
}

// An included file's first record without an owner belongs to its
// origin; `@` in a zone file name stands for `/` (RFC 2317 zones).
func TestIncludeOwnerAndSlashZone(t *testing.T) {
	dir := zoneDir(t, map[string]string{
		"example.com":                   head + "$INCLUDE inc/i sub\n",
		"inc/i":                         " 300 A 192.0.2.7\n",
		"0@25.2.0.192.in-addr.arpa":     head + "1 300 PTR h.example.com.\n",
		"sub/ignored-directory-entry.x": "not a zone\n",
	})
	set := mustLoad(t, dir, Options{})
	if got := answer(t, set, "sub.example.com.", dns.TypeA); got != "sub.example.com. 300 IN A 192.0.2.7" {
		t.Errorf("include owner: %q", got)
	}
	if got := answer(t, set, "1.0/25.2.0.192.in-addr.arpa.", dns.TypePTR); got != "1.0/25.2.0.192.in-addr.arpa. 300 IN PTR h.example.com." {
		t.Errorf("RFC 2317 zone: %q", got)
	}
}
