package dnssece2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// bindTime is a BIND key timing value (YYYYMMDDHHMMSS, UTC).
func bindTime(t time.Time) string { return t.UTC().Format("20060102150405") }

// keyTag is the tag in a key's base name (K<zone>+<alg>+<tag>).
func keyTag(t *testing.T, base string) int {
	t.Helper()
	i := strings.LastIndex(base, "+")
	tag, err := strconv.Atoi(base[i+1:])
	if i < 0 || err != nil {
		t.Fatalf("not a key base name: %q", base)
	}
	return tag
}

// dnskeyTags lists the tags of the DNSKEY set authdns serves, as dig
// prints them (+multi shows "; ZSK; alg = ...; key id = N").
func dnskeyTags(t *testing.T, addr string) map[int]bool {
	t.Helper()
	out := dig(t, addr, "+multi", "example.org", "DNSKEY")
	tags := map[int]bool{}
	for _, m := range regexp.MustCompile(`key id = (\d+)`).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		tags[n] = true
	}
	return tags
}

// sigTags lists the key tags of the RRSIGs over name/qtype from authdns.
func sigTags(t *testing.T, addr, name, qtype string) map[int]bool {
	t.Helper()
	out := dig(t, addr, "+dnssec", name, qtype)
	tags := map[int]bool{}
	re := regexp.MustCompile(`IN\s+RRSIG\s+` + qtype + ` \d+ \d+ \d+ \d{14} \d{14} (\d+) `)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		tags[n] = true
	}
	return tags
}

func sameTags(got map[int]bool, want ...int) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !got[w] {
			return false
		}
	}
	return true
}

// validating asks unbound for a static, a DYNA and a denied name in a
// loop until stop, and records every answer that did not validate.
type validating struct {
	stop   chan struct{}
	done   sync.WaitGroup
	mu     sync.Mutex
	asked  int
	failed []string
}

func keepValidating(r *resolver) *validating {
	v := &validating{stop: make(chan struct{})}
	v.done.Add(1)
	go func() {
		defer v.done.Done()
		qs := [][2]string{{"www.example.org", "A"}, {"geo.example.org", "A"}, {"nosuch.example.org", "A"}, {"example.org", "DNSKEY"}}
		for i := 0; ; i++ {
			select {
			case <-v.stop:
				return
			default:
			}
			q := qs[i%len(qs)]
			out, err := digOnce(r.addr, "+dnssec", q[0], q[1])
			got := parseDig(out)
			v.mu.Lock()
			v.asked++
			if err != nil || !got.ad || got.status != "NOERROR" {
				v.failed = append(v.failed, fmt.Sprintf("%s %s at %s: %v\n%s", q[0], q[1], time.Now().Format(time.StampMilli), err, out))
			}
			v.mu.Unlock()
		}
	}()
	return v
}

// finish stops the loop and fails t for every answer that did not
// validate.
func (v *validating) finish(t *testing.T, r *resolver) {
	t.Helper()
	close(v.stop)
	v.done.Wait()
	if len(v.failed) > 0 {
		t.Errorf("%d of %d answers through unbound did not validate during the rollover; first:\n%s\nunbound's log:\n%s",
			len(v.failed), v.asked, v.failed[0], r.Logs())
	}
	if v.asked < 8 {
		t.Errorf("only %d queries were asked during the rollover", v.asked)
	}
}

// A ZSK rollover by pre-publication, driven by key files and their
// timing metadata alone (keys made by authdns dnssec keygen, dates set by
// BIND's dnssec-settime, the successor made by dnssec-keygen -S; no
// reload): the new ZSK is published at once, signs from T1, when the old
// one stops signing, and the old one leaves the DNSKEY set at T2. unbound
// validates every answer throughout.
func TestZSKRolloverByKeyFilesKeepsValidating(t *testing.T) {
	s := newSetup(t, "  dnskey_ttl: 1\n")
	ksk := keyTag(t, s.keygen("--ksk"))
	zsk1Base := s.keygen("--zsk")
	zsk1 := keyTag(t, zsk1Base)
	srv := s.start()
	r := startUnbound(t, s.ds()[0], srv.addr)
	r.wantSecure(t, "www.example.org", "A", "NOERROR")
	if got := dnskeyTags(t, srv.addr); !sameTags(got, ksk, zsk1) {
		t.Fatalf("DNSKEY tags %v, want the KSK %d and the ZSK %d", got, ksk, zsk1)
	}
	if got := sigTags(t, srv.addr, "www.example.org", "A"); !sameTags(got, zsk1) {
		t.Fatalf("www A signed by %v, want the ZSK %d", got, zsk1)
	}
	v := keepValidating(r)

	// T1 leaves time to see the new key published before it signs; the
	// DNSKEY TTL is 1 s and unbound caches for at most a second.
	t1 := time.Now().Add(6 * time.Second).Truncate(time.Second).Add(time.Second)
	t2 := t1.Add(3 * time.Second)
	mark := len(srv.Logs())
	// docs/dnssec.md's runbook: the old key's Inactive and Delete, then
	// its successor, published a prepublication interval before it
	// becomes active at the old key's Inactive. dnssec-keygen refuses an
	// interval reaching into the past: the new key is published a second
	// or two from now, by a timing event.
	run(t, "dnssec-settime", "-K", s.keys, "-I", bindTime(t1), "-D", bindTime(t2), filepath.Base(zsk1Base))
	interval := strconv.Itoa(int(time.Until(t1).Seconds()) - 2)
	zsk2 := keyTag(t, strings.TrimSpace(run(t, "dnssec-keygen", "-q", "-K", s.keys, "-S", filepath.Base(zsk1Base), "-i", interval)))

	// Published: the watcher saw the files, or its Publish came; the old
	// ZSK still signs.
	srv.WaitLog(mark, fmt.Sprintf("tag=%d alg=13 role=ZSK state=published", zsk2))
	if got := dnskeyTags(t, srv.addr); !sameTags(got, ksk, zsk1, zsk2) {
		t.Fatalf("after the new key files: DNSKEY tags %v, want %d %d %d", got, ksk, zsk1, zsk2)
	}
	if got := sigTags(t, srv.addr, "www.example.org", "A"); !sameTags(got, zsk1) {
		t.Fatalf("before T1: www A signed by %v, want the old ZSK %d", got, zsk1)
	}
	// T1: the timer re-signs with the new ZSK; the old one stays published.
	srv.WaitLog(mark, fmt.Sprintf("tag=%d alg=13 role=ZSK state=active was=published", zsk2))
	srv.WaitLog(mark, fmt.Sprintf("tag=%d alg=13 role=ZSK state=retired was=active", zsk1))
	if got := sigTags(t, srv.addr, "www.example.org", "A"); !sameTags(got, zsk2) {
		t.Fatalf("after T1: www A signed by %v, want the new ZSK %d", got, zsk2)
	}
	if got := sigTags(t, srv.addr, "geo.example.org", "A"); !sameTags(got, zsk2) {
		t.Fatalf("after T1: the DYNA answer signed by %v, want the new ZSK %d", got, zsk2)
	}
	// T2: the old ZSK leaves the DNSKEY set.
	testutil.WaitFor(t, "the old ZSK deleted from DNSKEY", func() bool { return sameTags(dnskeyTags(t, srv.addr), ksk, zsk2) })
	srv.WaitLog(mark, fmt.Sprintf("tag=%d alg=13 role=ZSK state=deleted was=retired", zsk1))
	r.wantSecure(t, "www.example.org", "A", "NOERROR")
	v.finish(t, r)
	if strings.Contains(srv.Logs(), "msg=\"reload complete\"") {
		t.Errorf("the rollover reloaded the configuration; it must follow the key files alone")
	}
}

// digOnce is dig without a test to fail: the validating loop runs in
// its own goroutine.
func digOnce(addr string, args ...string) (string, error) {
	host, port := splitAddr(addr)
	out, err := execOutput("dig", append([]string{"@" + host, "-p", port, "+time=3", "+tries=2"}, args...)...)
	return out, err
}
