package zones

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Set is every served zone: an immutable snapshot swapped in whole.
type Set struct {
	zones  map[string]*Zone // by lowercase wire apex
	list   []*Zone          // sorted by name
	Digest string           // sha256 over every zone file and include, in name order
	hinfo  *RRset           // RFC 8482 answer to ANY
	// noChain and noAdditional are Options.NoCNAMEChain and
	// Options.NoAdditional.
	noChain, noAdditional bool
	// Warnings are the data problems gdnsd warns about (strict mode
	// refuses them), each `file:line: reason`.
	Warnings []string
}

// Zones lists the zones sorted by name.
func (s *Set) Zones() []*Zone { return s.list }

// Zone returns a zone by presentation name.
func (s *Set) Zone(name string) *Zone {
	w, err := wireName(name)
	if err != nil {
		return nil
	}
	return s.zones[string(lowerWire(w))]
}

// Options are the gdnsd options that shape zone data.
type Options struct {
	// DefaultTTL is the TTL of a record written without one in a zone
	// without $TTL (gdnsd's zones_default_ttl); 0 means DefaultZoneTTL.
	DefaultTTL uint32
	// Strict refuses a zone on the data warnings gdnsd's
	// zones_strict_data turns into errors.
	Strict bool
	// Log receives every data warning; nil logs none (Set.Warnings
	// still lists them).
	Log *slog.Logger
	// NoCNAMEChain answers a CNAME without following it inside the zone
	// (gdnsd's experimental_no_chain, its default).
	NoCNAMEChain bool
	// NoAdditional leaves out the in-zone addresses of NS, MX and SRV
	// targets outside referrals, as gdnsd 3 does; referral glue stays.
	NoAdditional bool
}

// gdnsd's defaults for the TTL options authdns does not expose: every TTL
// is clamped to [MinTTL, MaxTTL], the SOA negative-caching TTL to
// [MinTTL, MaxNcacheTTL].
const (
	DefaultZoneTTL = 86400
	MinTTL         = 5
	MaxTTL         = 3600000
	MaxNcacheTTL   = 10800
)

// LoadDir loads dir with the default Options.
func LoadDir(dir string, checker DynChecker) (*Set, error) {
	return Load(dir, checker, Options{})
}

// Load loads every zone file in dir: one zone per file, named after the
// zone (`@` in a file name stands for `/`, ROOT_ZONE is the root);
// dotfiles and subdirectories (which hold $INCLUDE files) are skipped.
// The whole set is validated before it is returned; any error refuses the
// whole set, with every problem reported as `file:line: reason`.
func Load(dir string, checker DynChecker, opt Options) (*Set, error) {
	if opt.DefaultTTL == 0 {
		opt.DefaultTTL = DefaultZoneTTL
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("zones: %w", err)
	}
	type job struct {
		name, zoneName string
		z              *Zone
		src            *source
		err            error
	}
	var jobs []*job
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		if !e.Type().IsRegular() && e.Type()&os.ModeSymlink == 0 {
			continue
		}
		zoneName := strings.ReplaceAll(strings.TrimSuffix(name, "."), "@", "/") + "."
		if name == "ROOT_ZONE" {
			zoneName = "."
		}
		jobs = append(jobs, &job{name: name, zoneName: zoneName})
	}
	// Zones are independent: they load in parallel, and are assembled in
	// name order below, so errors and the digest do not depend on timing.
	var locked DynChecker // stays nil without a checker: addDyn refuses then
	if checker != nil {
		locked = &lockedChecker{c: checker}
	}
	next := make(chan *job)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(jobs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				j.z, j.src, j.err = loadZone(dir, j.name, j.zoneName, locked, opt)
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()

	set := &Set{zones: map[string]*Zone{}, noChain: opt.NoCNAMEChain, noAdditional: opt.NoAdditional}
	var errs []error
	h := sha256.New()
	for _, j := range jobs {
		z, src, err := j.z, j.src, j.err
		h.Write([]byte(j.name))
		for _, raw := range src.raw {
			h.Write(raw)
		}
		set.Warnings = append(set.Warnings, src.warnings...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := string(z.Apex)
		if prev, dup := set.zones[key]; dup {
			errs = append(errs, fmt.Errorf("%s:1: zone %s is also loaded from %s", z.File, z.Name, prev.File))
			continue
		}
		set.zones[key] = z
		set.list = append(set.list, z)
	}
	if opt.Log != nil {
		for _, w := range set.Warnings {
			opt.Log.Warn("zone data", "warning", w)
		}
	}
	if len(errs) > 0 {
		return nil, joinErrs(flatten(errs))
	}
	sort.Slice(set.list, func(i, j int) bool { return set.list[i].Name < set.list[j].Name })
	set.Digest = hex.EncodeToString(h.Sum(nil))
	set.hinfo = rfc8482HINFO()
	return set, nil
}

// lockedChecker lets zones loading in parallel share a DynChecker, which
// need not be safe for concurrent use.
type lockedChecker struct {
	mu sync.Mutex
	c  DynChecker
}

func (l *lockedChecker) CheckDyn(plugin, res, dc string, dync bool) (any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.CheckDyn(plugin, res, dc, dync)
}

func flatten(errs []error) []error {
	var out []error
	for _, e := range errs {
		var m multiError
		if errors.As(e, &m) {
			out = append(out, m...)
		} else {
			out = append(out, e)
		}
	}
	return out
}

func loadZone(dir, file, zoneName string, checker DynChecker, opt Options) (*Zone, *source, error) {
	path := filepath.Join(dir, file)
	src := &source{dir: dir, zone: zoneName}
	src.addFile(path, zoneName, -1)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, src, fmt.Errorf("%s: %w", path, err)
	}
	src.raw[0] = raw
	b, err := newBuilder(zoneName, path, opt)
	if err != nil {
		return nil, src, fmt.Errorf("%s:1: %w", path, err)
	}
	// A $TTL line ahead of the file gives records without a TTL the
	// default, as gdnsd, rather than the last TTL written (RFC 1035);
	// parseError takes it off the line numbers.
	text := append([]byte("$TTL "+strconv.FormatUint(uint64(opt.DefaultTTL), 10)+"\n"), src.preprocess(0, raw)...)
	zp := dns.NewZoneParser(bytes.NewReader(text), zoneName, file)
	zp.SetIncludeAllowed(true)
	zp.SetIncludeFS(includeFS{src})
	where := pos{path, 1}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		// A record without a marker (only in broken text) keeps the
		// previous record's place.
		if id, line, ok := markerFrom(zp.Comment()); ok && id < len(src.files) {
			where = pos{src.files[id], line}
		}
		b.add(rr, where, checker)
	}
	errs := src.errs
	if err := zp.Err(); err != nil {
		errs = append(errs, parseError(src, file, err))
	}
	if len(errs) > 0 {
		return nil, src, joinErrs(errs)
	}
	z, err := b.finish()
	src.warnings = b.warnings
	return z, src, err
}

var (
	parseErrRe = regexp.MustCompile(`^(.*?): dns: (.*): "(.*)" at line: (\d+):(\d+)$`)
	includeRe  = regexp.MustCompile("`?" + includePrefix + "([0-9]+)'?")
)

// parseError turns miekg/dns's `FILE: dns: ERR: "TOK" at line: L:C` into
// `PATH:L: ERR near "TOK"`, FILE being the zone file or an include's ID.
func parseError(src *source, file string, err error) error {
	m := parseErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%s:1: %v", src.files[0], err)
	}
	path, line := src.files[0], m[4]
	if m[1] == file {
		n, _ := strconv.Atoi(line)
		line = strconv.Itoa(max(n-1, 1)) // the $TTL line loadZone added
	} else if sm := includeRe.FindStringSubmatch(m[1]); sm != nil {
		if id, _ := strconv.Atoi(sm[1]); id < len(src.files) {
			path = src.files[id]
		}
	}
	msg := includeRe.ReplaceAllStringFunc(m[2], func(s string) string {
		id, _ := strconv.Atoi(includeRe.FindStringSubmatch(s)[1])
		if id < len(src.files) {
			return src.files[id]
		}
		return s
	})
	if msg == "" {
		msg = "syntax error"
	}
	if tok := strings.TrimSpace(strings.SplitN(m[3], lineMarker, 2)[0]); tok != "" {
		msg += fmt.Sprintf(" near %q", tok)
	}
	return fmt.Errorf("%s:%s: %s", path, line, msg)
}

func rfc8482HINFO() *RRset {
	rr := &dns.HINFO{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: 3600}, Cpu: "RFC8482", Os: ""}
	s := &RRset{Owner: []byte{0}, Type: dns.TypeHINFO, Class: dns.ClassINET, TTL: 3600}
	_ = s.add(rr, pos{"builtin", 0}, nil)
	return s
}
