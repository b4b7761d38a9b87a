package zones

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Set is every served zone: an immutable snapshot swapped in whole.
type Set struct {
	zones  map[string]*Zone // by lowercase wire apex
	list   []*Zone          // sorted by name
	Digest string           // sha256 over every zone file and include, in name order
	hinfo  *RRset           // RFC 8482 answer to ANY
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

// LoadDir loads every zone file in dir: one zone per file, named after the
// zone; dotfiles and subdirectories (which hold $INCLUDE files) are
// skipped. The whole set is validated before it is returned; any error
// refuses the whole set, with every problem reported as `file:line: reason`.
func LoadDir(dir string, checker DynChecker) (*Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("zones: %w", err)
	}
	set := &Set{zones: map[string]*Zone{}}
	var errs []error
	h := sha256.New()
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		if !e.Type().IsRegular() && e.Type()&os.ModeSymlink == 0 {
			continue
		}
		zoneName := strings.TrimSuffix(name, ".") + "."
		if name == "ROOT_ZONE" {
			zoneName = "."
		}
		z, raw, err := loadZone(dir, name, zoneName, checker)
		h.Write([]byte(name))
		h.Write(raw)
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
	if len(errs) > 0 {
		return nil, joinErrs(flatten(errs))
	}
	sort.Slice(set.list, func(i, j int) bool { return set.list[i].Name < set.list[j].Name })
	set.Digest = hex.EncodeToString(h.Sum(nil))
	set.hinfo = rfc8482HINFO()
	return set, nil
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

func loadZone(dir, file, zoneName string, checker DynChecker) (*Zone, []byte, error) {
	path := filepath.Join(dir, file)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := newBuilder(zoneName, path)
	if err != nil {
		return nil, raw, fmt.Errorf("%s:1: %w", path, err)
	}
	files := []string{path}
	zp := dns.NewZoneParser(bytes.NewReader(preprocess(0, raw)), zoneName, file)
	zp.SetIncludeAllowed(true)
	zp.SetIncludeFS(includeFS{root: os.DirFS(dir), dir: dir, files: &files})
	zp.SetDefaultTTL(3600)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		where := path
		if fi, line, ok := markerFrom(zp.Comment()); ok && fi < len(files) {
			where = files[fi] + ":" + strconv.Itoa(line)
		}
		b.add(rr, where, checker)
	}
	if err := zp.Err(); err != nil {
		return nil, raw, fmt.Errorf("%s", parseErrorString(dir, err))
	}
	z, err := b.finish()
	return z, raw, err
}

var parseErrRe = regexp.MustCompile(`^(.*?): dns: (.*): "(.*)" at line: (\d+):(\d+)$`)

// parseErrorString turns miekg/dns's `FILE: dns: ERR: "TOK" at line: L:C`
// into `DIR/FILE:L: ERR near "TOK"`.
func parseErrorString(dir string, err error) string {
	m := parseErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return err.Error()
	}
	msg := m[2]
	if tok := strings.TrimSpace(strings.SplitN(m[3], lineMarker, 2)[0]); tok != "" {
		msg += fmt.Sprintf(" near %q", tok)
	}
	return fmt.Sprintf("%s:%s: %s", filepath.Join(dir, m[1]), m[4], msg)
}

func rfc8482HINFO() *RRset {
	rr := &dns.HINFO{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: 3600}, Cpu: "RFC8482", Os: ""}
	s := &RRset{Owner: []byte{0}, Type: dns.TypeHINFO, Class: dns.ClassINET, TTL: 3600}
	_ = s.add(rr, "builtin")
	return s
}
