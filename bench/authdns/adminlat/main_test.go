package main

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestSummary(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		in   []time.Duration
		want string
	}{
		{[]time.Duration{3 * ms}, "min 3.0 ms, median 3.0 ms, max 3.0 ms (1 samples)"},
		{[]time.Duration{9 * ms, 1 * ms, 5 * ms}, "min 1.0 ms, median 5.0 ms, max 9.0 ms (3 samples)"},
		{[]time.Duration{4 * ms, 1 * ms, 2 * ms, 8 * ms}, "min 1.0 ms, median 3.0 ms, max 8.0 ms (4 samples)"},
	}
	for _, tt := range tests {
		if got := summary(tt.in); got != tt.want {
			t.Errorf("summary(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// fileServer answers A queries from the file it watches on every query:
// 192.0.2.2 while the file holds "DOWN", else 192.0.2.1. It also checks
// that the ECS option adminlat sends is the one asked for.
func fileServer(t *testing.T, path string, wantECS netip.Prefix) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		if opt := r.IsEdns0(); opt == nil || len(opt.Option) != 1 {
			m.Rcode = dns.RcodeFormatError
		} else if e, ok := opt.Option[0].(*dns.EDNS0_SUBNET); !ok ||
			int(e.SourceNetmask) != wantECS.Bits() || !e.Address.Equal(net.IP(wantECS.Addr().AsSlice())) {
			m.Rcode = dns.RcodeFormatError
		}
		b, _ := os.ReadFile(path)
		ip := "192.0.2.1"
		if strings.Contains(string(b), "DOWN") {
			ip = "192.0.2.2"
		}
		rr, _ := dns.NewRR(r.Question[0].Name + " 60 IN A " + ip)
		m.Answer = append(m.Answer, rr)
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestMeasureSeesEachChange(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "admin_state")
	subnet := netip.MustParsePrefix("192.0.2.0/24")
	o := options{server: fileServer(t, file, subnet), name: "www.example.org.", subnet: subnet, file: file,
		down: "geoip/generic-map/esams => DOWN", samples: 2, timeout: 5 * time.Second,
		interval: time.Millisecond, label: "test"}
	down, up, err := measure(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(down) != 2 || len(up) != 2 {
		t.Fatalf("got %d DOWN and %d UP samples, want 2 each", len(down), len(up))
	}
	for _, d := range append(down, up...) {
		if d <= 0 || d >= o.timeout {
			t.Errorf("latency %v outside (0, %v)", d, o.timeout)
		}
	}
	// The last step restores the baseline: the file forces nothing.
	b, err := os.ReadFile(file)
	if err != nil || strings.Contains(string(b), "DOWN") {
		t.Errorf("admin_state after measure = %q, %v; want nothing forced", b, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".admin_state.tmp*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestMeasureTimesOutWhenNothingChanges(t *testing.T) {
	dir := t.TempDir()
	subnet := netip.MustParsePrefix("192.0.2.0/24")
	// The server watches another file, so the answer never changes.
	o := options{server: fileServer(t, filepath.Join(dir, "other"), subnet), name: "www.example.org.",
		subnet: subnet, file: filepath.Join(dir, "admin_state"), down: "x => DOWN", samples: 1,
		timeout: 300 * time.Millisecond, interval: time.Millisecond, label: "test"}
	_, _, err := measure(o)
	if err == nil || !strings.Contains(err.Error(), "no change within") {
		t.Fatalf("measure = %v, want a timeout error", err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := [][]string{
		{},                        // no -file
		{"-file", "x", "-n", "0"}, // no samples
		{"-file", "x", "-subnet", "nonsense"},
	}
	for _, args := range tests {
		var out, errb strings.Builder
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
}
