package realserver

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

func vips(ports []uint16, ss ...string) []VIP {
	var out []VIP
	for _, a := range addrs(ss...) {
		out = append(out, VIP{Addr: a, Ports: ports})
	}
	return out
}

func TestDiagnoseAppliedHostIsOK(t *testing.T) {
	h := freshHost()
	if _, err := Apply(h, addrs("192.0.2.20", "2001:db8::20"), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	h.st.Listening = []netip.AddrPort{netip.MustParseAddrPort("192.0.2.20:80"), netip.MustParseAddrPort("[::]:443")}
	r := Diagnose(vips([]uint16{80, 443}, "192.0.2.20"), h.st)
	if r.Status != OK || len(r.Problems) != 0 {
		t.Errorf("report %+v, want OK", r)
	}
	r = Diagnose(vips([]uint16{80}, "2001:db8::20"), h.st)
	if r.Status != Critical || len(r.Problems) != 1 || r.Problems[0].Subject != "[2001:db8::20]:80" {
		t.Errorf("report %+v, want [2001:db8::20]:80 not listened on", r)
	}
}

func TestDiagnoseFindings(t *testing.T) {
	h := freshHost()
	h.st.Addrs = append(h.st.Addrs,
		Addr{Link: "dummy0", Prefix: netip.MustParsePrefix("192.0.2.20/32")},
		Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.0.2.20/32"), Label: Label},
		Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.0.2.21/24")},
		Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.0.2.22/32")})
	h.st.Sysctls[Sysctl{"eth0", "rp_filter"}] = 1
	r := Diagnose(vips(nil, "192.0.2.20", "192.0.2.21", "192.0.2.22", "192.0.2.23"), h.st)
	var b bytes.Buffer
	r.WriteText(&b)
	want := []string{
		"CRITICAL: 11 problems",
		"CRITICAL 192.0.2.20: also bound on dummy0 as 192.0.2.20/32",
		"WARNING  192.0.2.21: bound on lo as 192.0.2.21/24, not /32",
		"WARNING  192.0.2.22: bound on lo without the label lo:LVS marker",
		"CRITICAL 192.0.2.23: not bound on lo",
		"CRITICAL net.ipv4.conf.all.arp_ignore: is 0, want 1",
		"CRITICAL net.ipv4.conf.eth0.arp_announce: is 0, want 2",
		"WARNING  net.ipv4.conf.eth0.rp_filter: strict reverse-path filtering",
	}
	for _, w := range want {
		if !strings.Contains(b.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, b.String())
		}
	}
	if r.Status != Critical {
		t.Errorf("status %v", r.Status)
	}
	b.Reset()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Status   string
		Problems []struct{ Severity, Subject, Message string }
	}
	if err := json.Unmarshal(b.Bytes(), &j); err != nil || j.Status != "CRITICAL" || len(j.Problems) != 11 || j.Problems[1].Severity != "WARNING" {
		t.Errorf("JSON %s (%v)", b.String(), err)
	}
}

func TestDiagnoseWarningOnly(t *testing.T) {
	h := freshHost()
	if _, err := Apply(h, addrs("192.0.2.20"), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	h.st.Sysctls[Sysctl{"all", "rp_filter"}] = 1
	r := Diagnose(vips(nil, "192.0.2.20"), h.st)
	if r.Status != Warning || len(r.Problems) != 1 {
		t.Errorf("report %+v, want one WARNING", r)
	}
}

func TestParseListening(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 1400020A:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:C000 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
`
	tcp6 := `  sl  local_address                         remote_address                        st
   0: B80D0120000000000000000020000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000
`
	got, err := parseListening([]byte(tcp))
	if err != nil {
		t.Fatal(err)
	}
	g6, err := parseListening([]byte(tcp6))
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, g6...)
	want := []string{"10.2.0.20:80", "0.0.0.0:443", "[2001:db8::20]:80"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	if _, err := parseListening([]byte("hdr\n 0: zz:0050 0 0A\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: err %v", err)
	}
}
