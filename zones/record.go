package zones

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// The rewriting of record lines: gdnsd's @Z/@F names and DYNA/DYNC TTLs.

// record rewrites one record line: @Z/@F in the owner and in name rdata,
// and a DYNA/DYNC `MAX[/MIN]` TTL. It reports whether the line still
// starts without an owner.
func (f *fileScan) record(toks []token, blankStart bool) ([]token, bool, error) {
	i := 0
	if blankStart && !f.owned {
		// The first record of a file without an owner belongs to the origin.
		toks = append([]token{{s: f.origin}}, toks...)
		blankStart = false
	}
	if !blankStart {
		s, err := f.subst(toks[0].s)
		if err != nil {
			return nil, false, err
		}
		toks[0].s = s
		i = 1
		f.owned = true
	}
	typeAt := -1
	for j := i; j < len(toks) && j < i+3; j++ {
		if isTypeToken(toks[j].s) {
			typeAt = j
			break
		}
	}
	if typeAt < 0 {
		return toks, blankStart, nil // the parser reports it
	}
	typ := strings.ToUpper(toks[typeAt].s)
	text := textTypes[typ] || (typeAt+1 < len(toks) && toks[typeAt+1].s == `\#`)
	if typ == "DYNA" || typ == "DYNC" {
		toks, err := f.dynTTL(toks, i, typeAt)
		return toks, blankStart, err
	}
	f.textCont = text
	return toks, blankStart, f.rdata(toks[typeAt+1:], text)
}

// textTypes are the types whose rdata holds no domain name, where @Z is
// text.
var textTypes = map[string]bool{"TXT": true, "SPF": true, "HINFO": true, "CAA": true}

func isTypeToken(s string) bool {
	u := strings.ToUpper(s)
	if _, ok := dns.StringToType[u]; ok {
		return true
	}
	if rest, ok := strings.CutPrefix(u, "TYPE"); ok {
		_, err := strconv.ParseUint(rest, 10, 16)
		return err == nil
	}
	return false
}

func (f *fileScan) rdata(toks []token, text bool) error {
	if text {
		return nil
	}
	for k := range toks {
		if toks[k].quoted {
			continue
		}
		s, err := f.subst(toks[k].s)
		if err != nil {
			return err
		}
		toks[k].s = s
	}
	return nil
}

// dynTTL rewrites a DYNA/DYNC TTL field `MAX[/MIN]` (gdnsd units) to MAX
// in seconds, appending MIN to the rdata when it is given and not 0.
func (f *fileScan) dynTTL(toks []token, from, typeAt int) ([]token, error) {
	for j := from; j < typeAt; j++ {
		t := toks[j].s
		if t == "" || t[0] < '0' || t[0] > '9' {
			continue // the class
		}
		maxS, minS, slash := strings.Cut(t, "/")
		maxTTL, err := parseGdnsdTTL(maxS)
		if err == nil && slash {
			var minTTL uint32
			if minTTL, err = parseGdnsdTTL(minS); err == nil && minTTL > 0 {
				toks = append(toks, token{s: minTTLMarker + strconv.FormatUint(uint64(minTTL), 10)})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s TTL %q: %w", strings.ToUpper(toks[typeAt].s), t, err)
		}
		toks[j].s = strconv.FormatUint(uint64(maxTTL), 10)
	}
	return toks, nil
}

// parseGdnsdTTL reads gdnsd's TTL: digits with an optional single unit
// m, h, d or w (any case).
func parseGdnsdTTL(s string) (uint32, error) {
	mult := uint64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'm', 'M':
			mult = 60
		case 'h', 'H':
			mult = 3600
		case 'd', 'D':
			mult = 86400
		case 'w', 'W':
			mult = 604800
		}
		if mult > 1 {
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || s[0] == '+' || n*mult > 1<<32-1 {
		return 0, fmt.Errorf("not a TTL (digits with one optional unit m, h, d or w)")
	}
	return uint32(n * mult), nil
}

// subst replaces a final `@Z` or `@F` label of a name by the zone name or
// the file's starting origin; any other `@X` final label is refused.
func (f *fileScan) subst(name string) (string, error) {
	if strings.HasSuffix(name, ".") && !strings.HasSuffix(name, `\.`) {
		return name, nil // absolute
	}
	label, prefix := name, ""
	if i := lastDot(name); i >= 0 {
		label, prefix = name[i+1:], name[:i+1]
	}
	if len(label) < 2 || label[0] != '@' {
		return name, nil
	}
	var abs string
	switch strings.ToUpper(label) {
	case "@Z":
		abs = f.src.zone
	case "@F":
		abs = f.src.starts[f.id]
	default:
		return "", fmt.Errorf("%q: %s is not a name (only @Z and @F)", name, label)
	}
	if prefix == "" || abs == "." {
		if prefix == "" {
			return abs, nil
		}
		return prefix, nil
	}
	return prefix + abs, nil
}

// lastDot is the index of the last unescaped '.' of name, or -1.
func lastDot(name string) int {
	last := -1
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++
		case '.':
			last = i
		}
	}
	return last
}

// absName resolves a $ORIGIN or $INCLUDE origin to an absolute name.
func (f *fileScan) absName(name string) (string, error) {
	if name == "@" {
		return f.origin, nil
	}
	s, err := f.subst(name)
	if err != nil {
		return "", err
	}
	if s != name || (strings.HasSuffix(s, ".") && !strings.HasSuffix(s, `\.`)) {
		return s, nil
	}
	if f.origin == "." {
		return s + ".", nil
	}
	return s + "." + f.origin, nil
}

// nameWithin reports whether the presentation name child is at or below
// parent.
func nameWithin(child, parent string) bool {
	c, err1 := wireName(child)
	p, err2 := wireName(parent)
	return err1 == nil && err2 == nil && isSubdomain(lowerWire(c), lowerWire(p))
}
