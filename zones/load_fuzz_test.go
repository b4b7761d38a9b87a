package zones

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// A zone file is operator input, and arrives from rollouts: any text
// either loads or is refused with `DIR/FILE:LINE: reason` lines. A zone
// that loads answers its own SOA, authoritatively.
func FuzzLoadZone(f *testing.F) {
	for _, glob := range []string{"testdata/good/*.org", "testdata/bad/*.test", "../config/zones/*"} {
		files, _ := filepath.Glob(glob)
		if len(files) == 0 {
			f.Fatalf("no seed zone matches %s", glob)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(data))
		}
	}
	f.Add("$TTL 300\n@ IN SOA a. b. 1 2 3 4 5\n@ IN NS ns1.example.com.\n$INCLUDE inc/hosts.inc\n$INCLUDE ../x\n")
	f.Add("$ORIGIN sub.example.org.\n@ SOA a. b. 1 2 3 4 5\n@ NS a.\nwww 600/120 DYNA geoip!text-addrs\n*.w 300 DYNC geoip!text-addrs/eqiad ;@@9:9\n")
	// gdnsd's extensions: @Z/@F, $INCLUDE with a quoted name and an
	// origin, DYNA/DYNC TTL units, refused directives and CRLF.
	f.Add("@ 300 SOA ns1.@Z h.@Z 1 2 3 4 300\n@ NS ns1\n@ NS ns2.@F\nns1 A 192.0.2.1\n$ORIGIN x.@Z\na CNAME b.@F\nb.@z MX 10 ns1.@Z\n$INCLUDE \"inc/hosts\\.inc\" sub.@Z\n$INCLUDE inc/hosts.inc @\n")
	f.Add("@ SOA a. b. 1 2 3 4 5\n@ NS a.\nw 1h/10M DYNA geoip!text-addrs\nv 2W/0 DYNC geoip!text-addrs\nu 1d A 192.0.2.1\nt 5m/99999 DYNA geoip!text-addrs\n")
	f.Add("@ SOA a. b. 1 2 3 4 5\n@ NS a.\n$GENERATE 1-3 h$ A 192.0.2.$\n$ADDR_LIMIT_V4 2\nx.@Q A 192.0.2.1\r\n")
	f.Add("@ SOA a. b. 1 2 3 4 5\n@ NS a.\np PTR www\nc CNAME nowhere\nm MX 1 nohost\nt 9 TXT \"" + strings.Repeat("x", 300) + "\"\nout.example.net. A 192.0.2.1\n")
	// Found by fuzzing: a lone ")" and an open quote lost the line marker.
	f.Add("$aaaaaaaaaaaaa\naaa 100/10 DYNA )00000000000000000000000000000000")
	f.Add("0 100/10 DYNA \"00000000000000000000000000000000000000000000000")
	f.Add("$ORIGIN 0\n22 DYNC 0)0000000000")
	// One directory for every input (a fresh one each time costs most of
	// the run): the zone file is rewritten, its include stays.
	dir := f.TempDir()
	inc, err := os.ReadFile("testdata/good/inc/hosts.inc")
	if err == nil {
		os.Mkdir(filepath.Join(dir, "inc"), 0o755)
		err = os.WriteFile(filepath.Join(dir, "inc", "hosts.inc"), inc, 0o644)
	}
	if err != nil {
		f.Fatal(err)
	}
	lineRe := regexp.MustCompile(`^(.+):([0-9]+): .`)
	f.Fuzz(func(t *testing.T, text string) {
		if err := os.WriteFile(filepath.Join(dir, "example.org"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		set, err := LoadDir(dir, fakeChecker{"text-addrs": true})
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				m := lineRe.FindStringSubmatch(line)
				if m == nil || !strings.HasPrefix(m[1], dir+string(filepath.Separator)) {
					t.Fatalf("error line %q is not DIR/FILE:LINE: reason", line)
				}
			}
			return
		}
		if zs := set.Zones(); len(zs) != 1 || zs[0].Name != "example.org." {
			t.Fatalf("loaded zones %v from one file", zs)
		}
		var res Result
		res.Reset()
		set.Lookup([]byte("\x07example\x03org\x00"), dns.TypeSOA, noDyn{}, &res)
		if res.Rcode != dns.RcodeSuccess || !res.AA || len(res.Answer) != 1 {
			t.Fatalf("apex SOA: rcode %d, AA %v, %d answers", res.Rcode, res.AA, len(res.Answer))
		}
	})
}

// noDyn answers every dynamic record with nothing.
type noDyn struct{}

func (noDyn) ResolveDyn(*Dyn, *DynAnswer) {}
