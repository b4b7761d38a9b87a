package gdnsddiffe2e

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// A mismatch is one way two answers to the same query differ. Class
// names the section and kind ("answer/ttl", "flag/AA", "opt/ecs-scope")
// and is what the report counts; Detail shows the two values.
type mismatch struct {
	Class  string
	Detail string
}

// compareMsgs lists every difference between want (gdnsd's reply) and
// got (the other server's) to q, after normalising both. A nil reply is
// no reply at all (timeout); two nil replies agree.
func compareMsgs(q query, want, got *dns.Msg) []mismatch {
	switch {
	case want == nil && got == nil:
		return nil
	case want == nil:
		return []mismatch{{"no-reply/reference", "only the compared server answered: " + summary(got)}}
	case got == nil:
		return []mismatch{{"no-reply/compared", "the reference answered " + summary(want) + ", the compared server did not"}}
	}
	want, got = want.Copy(), got.Copy()
	normalise(q, want)
	normalise(q, got)
	var out []mismatch
	add := func(class, format string, args ...any) {
		out = append(out, mismatch{class, fmt.Sprintf(format, args...)})
	}
	if want.Id != got.Id {
		add("header/id", "%d vs %d", want.Id, got.Id)
	}
	if want.Opcode != got.Opcode {
		add("header/opcode", "%s vs %s", dns.OpcodeToString[want.Opcode], dns.OpcodeToString[got.Opcode])
	}
	if want.Rcode != got.Rcode {
		add("rcode", "%s vs %s", rcodeName(want.Rcode), rcodeName(got.Rcode))
	}
	flags := []struct {
		name string
		a, b bool
	}{
		{"QR", want.Response, got.Response}, {"AA", want.Authoritative, got.Authoritative},
		{"TC", want.Truncated, got.Truncated}, {"RD", want.RecursionDesired, got.RecursionDesired},
		{"RA", want.RecursionAvailable, got.RecursionAvailable}, {"Z", want.Zero, got.Zero},
		{"AD", want.AuthenticatedData, got.AuthenticatedData}, {"CD", want.CheckingDisabled, got.CheckingDisabled},
	}
	for _, f := range flags {
		if f.a != f.b {
			add("flag/"+f.name, "%v vs %v", f.a, f.b)
		}
	}
	if q1, q2 := questionText(want.Question), questionText(got.Question); q1 != q2 {
		add("question", "%s vs %s", q1, q2)
	}
	out = append(out, compareSection("answer", want.Answer, got.Answer)...)
	out = append(out, compareSection("authority", want.Ns, got.Ns)...)
	out = append(out, compareSection("additional", withoutOPT(want.Extra), withoutOPT(got.Extra))...)
	out = append(out, compareOPT(want.IsEdns0(), got.IsEdns0())...)
	return out
}

func rcodeName(r int) string {
	if r == dns.RcodeBadVers { // shares 16 with BADSIG, which only TSIG uses
		return "BADVERS"
	}
	if s, ok := dns.RcodeToString[r]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", r)
}

// questionText is the question section as sent, case kept: the reply
// must repeat the question's case.
func questionText(qs []dns.Question) string {
	var parts []string
	for _, q := range qs {
		parts = append(parts, q.Name+" "+dns.ClassToString[q.Qclass]+" "+dns.TypeToString[q.Qtype])
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func withoutOPT(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

// rrset is one RRset of a section: its records' data and TTLs, and the
// owner names as written (for case).
type rrset struct {
	rdata  []string // sorted
	ttls   []uint32 // sorted
	owners []string // distinct, sorted, case kept
}

// rrsetKey is owner (lower case), class and type.
func rrsetKey(rr dns.RR) string {
	h := rr.Header()
	return strings.ToLower(h.Name) + " " + dns.ClassToString[h.Class] + " " + dns.TypeToString[h.Rrtype]
}

// rdataText is the record's data in presentation form, without header.
func rdataText(rr dns.RR) string {
	s := rr.String()
	hdr := rr.Header().String()
	return strings.TrimPrefix(s, hdr)
}

func groupRRsets(rrs []dns.RR) map[string]*rrset {
	sets := map[string]*rrset{}
	for _, rr := range rrs {
		k := rrsetKey(rr)
		s := sets[k]
		if s == nil {
			s = &rrset{}
			sets[k] = s
		}
		s.rdata = append(s.rdata, rdataText(rr))
		s.ttls = append(s.ttls, rr.Header().Ttl)
		s.owners = append(s.owners, rr.Header().Name)
	}
	for _, s := range sets {
		sort.Strings(s.rdata)
		sort.Slice(s.ttls, func(i, j int) bool { return s.ttls[i] < s.ttls[j] })
		sort.Strings(s.owners)
		s.owners = slices.Compact(s.owners)
	}
	return sets
}

// compareSection compares two sections as RRsets: order does not matter
// between or inside RRsets; data, TTLs and owner case must agree.
func compareSection(section string, want, got []dns.RR) []mismatch {
	a, b := groupRRsets(want), groupRRsets(got)
	var out []mismatch
	for _, k := range sortedKeys(a) {
		sa, sb := a[k], b[k]
		if sb == nil {
			out = append(out, mismatch{section + "/missing-rrset", k + ": " + strings.Join(sa.rdata, " | ")})
			continue
		}
		if ra, rb := strings.Join(sa.rdata, "\x00"), strings.Join(sb.rdata, "\x00"); ra != rb {
			// Names inside the data that differ only in case are their own
			// class: equal to DNS, different on the wire.
			class := section + "/rdata"
			if strings.EqualFold(ra, rb) {
				class = section + "/rdata-case"
			}
			out = append(out, mismatch{class, k + ": " + strings.Join(sa.rdata, " | ") + " vs " + strings.Join(sb.rdata, " | ")})
		} else if fmt.Sprint(sa.ttls) != fmt.Sprint(sb.ttls) {
			out = append(out, mismatch{section + "/ttl", fmt.Sprintf("%s: %v vs %v", k, sa.ttls, sb.ttls)})
		}
		if strings.Join(sa.owners, " ") != strings.Join(sb.owners, " ") {
			out = append(out, mismatch{section + "/owner-case", fmt.Sprintf("%s: %v vs %v", k, sa.owners, sb.owners)})
		}
	}
	for _, k := range sortedKeys(b) {
		if a[k] == nil {
			out = append(out, mismatch{section + "/extra-rrset", k + ": " + strings.Join(b[k].rdata, " | ")})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// compareOPT compares the OPT records: presence, payload size, version,
// DO and the other flag bits, and every option.
func compareOPT(want, got *dns.OPT) []mismatch {
	switch {
	case want == nil && got == nil:
		return nil
	case want == nil:
		return []mismatch{{"opt/presence", "no OPT vs OPT " + got.String()}}
	case got == nil:
		return []mismatch{{"opt/presence", "OPT vs no OPT"}}
	}
	var out []mismatch
	add := func(class, format string, args ...any) {
		out = append(out, mismatch{class, fmt.Sprintf(format, args...)})
	}
	if want.UDPSize() != got.UDPSize() {
		add("opt/udp-size", "%d vs %d", want.UDPSize(), got.UDPSize())
	}
	if want.Version() != got.Version() {
		add("opt/version", "%d vs %d", want.Version(), got.Version())
	}
	if want.Do() != got.Do() {
		add("opt/do", "%v vs %v", want.Do(), got.Do())
	}
	if want.Z() != got.Z() {
		add("opt/z", "%#x vs %#x", want.Z(), got.Z())
	}
	a, b := optionsByCode(want), optionsByCode(got)
	for _, code := range sortedKeys(a) {
		oa, ob := a[code], b[code]
		if ob == nil {
			add("opt/"+code+"/missing", "%s", strings.Join(oa, " | "))
			continue
		}
		if code == "ECS" {
			out = append(out, compareECS(oa, ob)...)
			continue
		}
		if strings.Join(oa, " | ") != strings.Join(ob, " | ") {
			add("opt/"+code, "%s vs %s", strings.Join(oa, " | "), strings.Join(ob, " | "))
		}
	}
	for _, code := range sortedKeys(b) {
		if a[code] == nil {
			add("opt/"+code+"/extra", "%s", strings.Join(b[code], " | "))
		}
	}
	return out
}

// optionsByCode is each EDNS option's text, by option name.
func optionsByCode(o *dns.OPT) map[string][]string {
	m := map[string][]string{}
	for _, opt := range o.Option {
		name, text := optionText(opt)
		m[name] = append(m[name], text)
	}
	return m
}

func optionText(o dns.EDNS0) (string, string) {
	switch v := o.(type) {
	case *dns.EDNS0_SUBNET:
		// family, source, scope, address: compared field by field.
		return "ECS", fmt.Sprintf("%d %d %d %s", v.Family, v.SourceNetmask, v.SourceScope, v.Address)
	case *dns.EDNS0_NSID:
		return "NSID", v.Nsid
	case *dns.EDNS0_COOKIE:
		return "COOKIE", v.Cookie
	case *dns.EDNS0_TCP_KEEPALIVE:
		return "KEEPALIVE", fmt.Sprintf("%d", v.Timeout)
	case *dns.EDNS0_PADDING:
		return "PADDING", fmt.Sprintf("%d bytes", len(v.Padding))
	case *dns.EDNS0_EDE:
		return "EDE", fmt.Sprintf("%d %q", v.InfoCode, v.ExtraText)
	}
	return fmt.Sprintf("OPT%d", o.Option()), o.String()
}

// compareECS tells a scope difference (the answer is the same, its
// cacheability is not) from any other ECS difference.
func compareECS(want, got []string) []mismatch {
	if len(want) != 1 || len(got) != 1 {
		return []mismatch{{"opt/ECS", strings.Join(want, " | ") + " vs " + strings.Join(got, " | ")}}
	}
	fa, fb := strings.Fields(want[0]), strings.Fields(got[0])
	if fa[0] != fb[0] || fa[1] != fb[1] || fa[3] != fb[3] {
		return []mismatch{{"opt/ECS", want[0] + " vs " + got[0]}}
	}
	if fa[2] != fb[2] {
		return []mismatch{{"opt/ECS-scope", "scope " + fa[2] + " vs " + fb[2] + " (family/source/address " + fa[0] + " " + fa[1] + " " + fa[3] + ")"}}
	}
	return nil
}

// summary is a one-line view of a reply for the report's examples.
func summary(m *dns.Msg) string {
	if m == nil {
		return "(no reply)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s", rcodeName(m.Rcode))
	for _, f := range []struct {
		n  string
		on bool
	}{{"aa", m.Authoritative}, {"tc", m.Truncated}, {"rd", m.RecursionDesired}, {"ra", m.RecursionAvailable}, {"cd", m.CheckingDisabled}, {"ad", m.AuthenticatedData}} {
		if f.on {
			b.WriteString(" " + f.n)
		}
	}
	sec := func(name string, rrs []dns.RR) {
		rrs = withoutOPT(rrs)
		if len(rrs) == 0 {
			return
		}
		var parts []string
		for _, rr := range rrs {
			parts = append(parts, strings.Join(strings.Fields(rr.String()), " "))
		}
		fmt.Fprintf(&b, " %s{%s}", name, strings.Join(parts, "; "))
	}
	sec("an", m.Answer)
	sec("ns", m.Ns)
	sec("ar", m.Extra)
	if o := m.IsEdns0(); o != nil {
		var parts []string
		for _, opt := range o.Option {
			n, t := optionText(opt)
			parts = append(parts, n+"="+t)
		}
		fmt.Fprintf(&b, " opt{udp=%d do=%v %s}", o.UDPSize(), o.Do(), strings.Join(parts, " "))
	}
	return b.String()
}
