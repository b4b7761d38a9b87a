package gdnsddiffe2e

import (
	"bufio"
	"encoding/hex"
	"math/rand/v2"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// commonTypes are asked at every name of every zone.
var commonTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeMX, dns.TypeTXT, dns.TypeNS,
	dns.TypeSOA, dns.TypeCAA, dns.TypeSRV, dns.TypeANY}

// target is a name to ask about and what it holds.
type target struct {
	name    string
	feature string
	types   []uint16
	dynamic bool // answers depend on the client, ECS or admin_state
}

// targets lists every name of every zone (with its feature), the empty
// non-terminals between them, names under wildcards and delegations,
// random names under each zone, and names no zone serves.
func targets(zones []*zoneInfo, rng *rand.Rand) []target {
	var out []target
	for _, z := range zones {
		byName := map[string][]zoneRecord{}
		for _, r := range z.records {
			byName[r.owner] = append(byName[r.owner], r)
		}
		types := commonTypes
		if strings.HasSuffix(z.name, ".arpa.") {
			types = append(append([]uint16{}, commonTypes...), dns.TypePTR)
		}
		cuts := map[string]bool{} // delegation points
		for _, r := range z.records {
			if r.rtype == "NS" && r.owner != z.name {
				cuts[r.owner] = true
			}
		}
		for _, name := range sortedKeys(byName) {
			feat, dyn := feature(z.name, name, byName[name])
			for p := parent(name); strings.HasSuffix(p, z.name) && p != z.name; p = parent(p) {
				if cuts[p] {
					feat, dyn = "glue (below a delegation)", false
				}
			}
			ts := types
			if strings.Contains(feat, "delegation") {
				ts = append(append([]uint16{}, types...), dns.TypeDS)
			}
			out = append(out, target{name: name, feature: feat, types: ts, dynamic: dyn})
			if strings.HasPrefix(name, "*.") {
				out = append(out, target{name: randLabel(rng) + name[1:], feature: "under " + feat, types: ts, dynamic: dyn})
				out = append(out, target{name: randLabel(rng) + "." + randLabel(rng) + name[1:], feature: "under " + feat, types: ts, dynamic: dyn})
			}
			if feat == "delegation" {
				out = append(out, target{name: randLabel(rng) + "." + name, feature: "under delegation", types: ts})
			}
			// empty non-terminals between the apex and this name
			for p := parent(name); strings.HasSuffix(p, z.name) && p != z.name; p = parent(p) {
				if _, ok := byName[p]; !ok && !strings.HasPrefix(p, "*.") {
					byName[p] = nil
					out = append(out, target{name: p, feature: "empty non-terminal", types: types})
				}
			}
		}
		for i := 0; i < 3; i++ {
			out = append(out, target{name: randLabel(rng) + "." + z.name, feature: "random name", types: types})
		}
		out = append(out, target{name: randLabel(rng) + "." + randLabel(rng) + "." + z.name, feature: "random name", types: types})
	}
	for _, n := range []string{"example.", "invalid.", "www.example.com.", "no-such-zone.test."} {
		out = append(out, target{name: n, feature: "out of zone", types: []uint16{dns.TypeA, dns.TypeSOA, dns.TypeNS}})
	}
	return out
}

// feature names what a name holds, for grouping mismatches, and whether
// its answers are dynamic.
func feature(zone, name string, recs []zoneRecord) (string, bool) {
	var f []string
	dyn := false
	for _, r := range recs {
		switch r.rtype {
		case "DYNA", "DYNC":
			res := ""
			if len(r.rdata) > 0 {
				res = r.rdata[0]
			}
			plugin, rest, _ := strings.Cut(res, "!")
			kind := strings.ToLower(r.rtype) + " " + plugin
			if strings.Contains(rest, "/") {
				kind += " pinned"
			}
			if !slices.Contains(f, kind) {
				f = append(f, kind)
			}
			dyn = true
		case "NS":
			if name != zone && !slices.Contains(f, "delegation") {
				f = append(f, "delegation")
			}
		}
	}
	if strings.HasPrefix(name, "*.") {
		f = append([]string{"wildcard"}, f...)
	}
	if name == zone {
		f = append([]string{"apex"}, f...)
	}
	if len(f) == 0 {
		return "static", false
	}
	return strings.Join(f, " "), dyn
}

func parent(name string) string {
	_, rest, ok := strings.Cut(name, ".")
	if !ok {
		return ""
	}
	return rest
}

func randLabel(rng *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 4+rng.IntN(8))
	for i := range b {
		b[i] = letters[rng.IntN(len(letters)-10)]
		if i > 0 {
			b[i] = letters[rng.IntN(len(letters))]
		}
	}
	return string(b)
}

// ecsSource draws ECS subnets: mostly from the MMDB's networks, some from
// the fixture's nets overrides, a few from space the MMDB does not hold.
type ecsSource struct {
	mmdb, nets []netip.Prefix
}

var netsKey = regexp.MustCompile(`(?m)^\s*"?([0-9a-fA-F:.]+/[0-9]+)"?\s*=>`)

// loadECSSource reads the MMDB's source CSV (first column) and the
// prefixes of the given nets files or stanzas.
func loadECSSource(csvPath string, netsFiles ...string) (*ecsSource, error) {
	s := &ecsSource{}
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if p, err := netip.ParsePrefix(strings.SplitN(line, ",", 2)[0]); err == nil {
			s.mmdb = append(s.mmdb, p)
		}
	}
	for _, nf := range netsFiles {
		data, err := os.ReadFile(nf)
		if err != nil {
			return nil, err
		}
		for _, m := range netsKey.FindAllStringSubmatch(string(data), -1) {
			if p, err := netip.ParsePrefix(m[1]); err == nil {
				s.nets = append(s.nets, p)
			}
		}
	}
	sort.Slice(s.nets, func(i, j int) bool { return s.nets[i].String() < s.nets[j].String() })
	return s, nil
}

var (
	v4Lens = []int{8, 12, 16, 20, 22, 24, 24, 24, 25, 26, 27, 28, 30, 32}
	v6Lens = []int{16, 32, 36, 40, 44, 48, 48, 56, 56, 64, 96, 128}
	// outside is address space the MMDB does not hold (the default list).
	outside = []netip.Prefix{netip.MustParsePrefix("1.0.0.0/8"), netip.MustParsePrefix("2a00::/12")}
)

func (s *ecsSource) draw(rng *rand.Rand) netip.Prefix {
	var base netip.Prefix
	switch x := rng.IntN(100); {
	case x < 75:
		base = s.mmdb[rng.IntN(len(s.mmdb))]
	case x < 93 && len(s.nets) > 0:
		base = s.nets[rng.IntN(len(s.nets))]
	default:
		base = outside[rng.IntN(len(outside))]
	}
	addr := randomIn(rng, base)
	lens := v4Lens
	if addr.Is6() {
		lens = v6Lens
	}
	p, _ := addr.Prefix(lens[rng.IntN(len(lens))])
	return p
}

// randomIn is a random address inside p.
func randomIn(rng *rand.Rand, p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		if rng.IntN(2) == 1 {
			b[i/8] |= 0x80 >> (i % 8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// randomCase flips the case of some letters (0x20 style): the reply must
// repeat the question's case.
func randomCase(rng *rand.Rand, name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'a' && c <= 'z' && rng.IntN(2) == 0 {
			b[i] = c - 32
		}
	}
	return string(b)
}

var bufSizes = []uint16{512, 1024, 1232, 1232, 1400, 4096, 65535}

// vary fills in a query's transport, flags and EDNS at random; ECS is
// added (when EDNS is on) with probability ecsPct percent.
func vary(rng *rand.Rand, q query, ecs *ecsSource, ecsPct int) query {
	q.ID = uint16(rng.Uint32())
	q.Qclass = dns.ClassINET
	q.TCP = rng.IntN(100) < 15
	q.IPv6 = rng.IntN(5) == 0
	q.RD = rng.IntN(2) == 0
	q.CD = rng.IntN(10) == 0
	if rng.IntN(6) == 0 {
		q.Name = randomCase(rng, q.Name)
	}
	if rng.IntN(5) == 0 {
		return q // no EDNS
	}
	q.EDNS = true
	q.BufSize = bufSizes[rng.IntN(len(bufSizes))]
	q.DO = rng.IntN(3) == 0
	if rng.IntN(10) == 0 {
		var c [8]byte
		for i := range c {
			c[i] = byte(rng.IntN(256))
		}
		q.Cookie = hex.EncodeToString(c[:])
	}
	q.NSID = rng.IntN(10) == 0
	q.Keepalive = q.TCP && rng.IntN(3) == 0
	if rng.IntN(100) < ecsPct {
		q.ECS = ecs.draw(rng)
	}
	return q
}

// specials are protocol corner cases asked once per phase.
func specials(rng *rand.Rand, zone string) []query {
	base := func(name string, t uint16) query {
		return query{Name: name, Qtype: t, Qclass: dns.ClassINET, ID: uint16(rng.Uint32()), Feature: "protocol"}
	}
	var qs []query
	for _, n := range []string{"version.bind.", "id.server.", "hostname.bind.", "whatever." + zone} {
		q := base(n, dns.TypeTXT)
		q.Qclass = dns.ClassCHAOS
		qs = append(qs, q)
		q.EDNS, q.BufSize, q.ID = true, 1232, uint16(rng.Uint32())
		qs = append(qs, q)
	}
	hs := base(zone, dns.TypeA)
	hs.Qclass = dns.ClassHESIOD
	qs = append(qs, hs)
	any := base(zone, dns.TypeANY)
	any.Qclass = dns.ClassANY
	qs = append(qs, any)
	for _, t := range []uint16{dns.TypeAXFR, dns.TypeIXFR, dns.TypeMAILB, dns.TypeTSIG, dns.TypeOPT, 0, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY, dns.TypeHINFO, 65, 65280} {
		q := base(zone, t)
		qs = append(qs, q)
		q.TCP, q.ID = true, uint16(rng.Uint32())
		qs = append(qs, q)
	}
	for _, op := range []int{dns.OpcodeStatus, dns.OpcodeNotify, dns.OpcodeUpdate, dns.OpcodeIQuery, 7} {
		q := base(zone, dns.TypeSOA)
		q.Opcode = op
		qs = append(qs, q)
	}
	v1 := base(zone, dns.TypeSOA)
	v1.EDNS, v1.BufSize, v1.Version = true, 1232, 1
	qs = append(qs, v1)
	small := base(zone, dns.TypeSOA)
	small.EDNS, small.BufSize = true, 100
	qs = append(qs, small)
	bad := base("en."+zone, dns.TypeA)
	bad.EDNS, bad.BufSize, bad.ECS, bad.BadECS = true, 1232, netip.MustParsePrefix("192.0.2.0/24"), true
	qs = append(qs, bad)
	for _, p := range []string{"0.0.0.0/0", "::/0", "::ffff:192.0.2.64/122", "64:ff9b::c000:240/122", "2002:c000:0240::/40", "192.0.2.77/32", "2001:db8:200::/128"} {
		q := base("en."+zone, dns.TypeA)
		q.EDNS, q.BufSize, q.ECS = true, 1232, netip.MustParsePrefix(p).Masked()
		qs = append(qs, q)
		q.Qtype, q.ID = dns.TypeAAAA, uint16(rng.Uint32())
		qs = append(qs, q)
	}
	// Replies larger than 512 bytes: truncated over UDP without EDNS or
	// with a small buffer, whole over TCP.
	for _, nt := range []struct {
		name string
		t    uint16
	}{{"big." + zone, dns.TypeA}, {"mail._domainkey." + zone, dns.TypeTXT}, {zone, dns.TypeANY}, {zone, dns.TypeTXT}} {
		q := base(nt.name, nt.t)
		qs = append(qs, q)
		q.EDNS, q.BufSize, q.ID = true, 512, uint16(rng.Uint32())
		qs = append(qs, q)
		q.TCP, q.ID = true, uint16(rng.Uint32())
		qs = append(qs, q)
		q.EDNS, q.ID = false, uint16(rng.Uint32())
		qs = append(qs, q)
	}
	root := base(".", dns.TypeSOA)
	qs = append(qs, root)
	return qs
}
