package bgpe2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLvsdDryRunNoBGP: `lvsd --dry-run --no-bgp` with bgp = yes in
// pybal.conf starts no speaker: no listener on bgp-local-ips:
// bgp-local-port, no session to the router, and /bgp says disabled.
func TestLvsdDryRunNoBGP(t *testing.T) {
	bird, port := twoDirectors(t)
	be := startBackend(t)
	ports := newLvsdPorts(t)
	p := runLvsd(t, 2, lvsdConf(t, 2, port, 0, be, ports), ports, "--no-bgp")

	var st struct {
		Enabled bool              `json:"enabled"`
		Peers   []json.RawMessage `json:"peers"`
		Routes  []json.RawMessage `json:"routes"`
	}
	Eventually(t, 20*time.Second, "/bgp to answer", func() (bool, string) {
		body, err := p.bgpStatus()
		if err != nil {
			return false, err.Error()
		}
		return json.Unmarshal([]byte(body), &st) == nil, body
	})
	if st.Enabled || len(st.Peers) != 0 || len(st.Routes) != 0 {
		t.Errorf("/bgp with --no-bgp = %+v, want disabled, no peers, no routes", st)
	}
	if !strings.Contains(p.out.String(), "disabled by --no-bgp") {
		t.Errorf("lvsd did not log that --no-bgp disabled BGP:\n%s", tail(p.out.String(), 20))
	}
	// The speaker opens its listener before its first session, so a
	// refused connection shows that no speaker runs.
	local := net.JoinHostPort("127.0.0.2", strconv.Itoa(int(ports.bgpLocal)))
	if c, err := net.Dial("tcp", local); err == nil {
		c.Close()
		t.Errorf("something listens on bgp-local-ips:bgp-local-port (%s) with --no-bgp", local)
	}
	if l, ok := bird.FindLog(regexpLvs1Incoming); ok || bird.Established("lvs1") {
		t.Errorf("lvsd --no-bgp opened a BGP session: %q", l.Text)
	}
}

// TestLvsdStopTimeout: the router stops reading, so the withdrawals can
// never be sent; SIGTERM still ends lvsd within its 10 s BGP stop bound
// (lvs/daemon StopTimeout), with the failure logged and exit status 1.
func TestLvsdStopTimeout(t *testing.T) {
	peer := StartStallPeer(t, "127.0.0.1:0", routerASN)
	be := startBackend(t)
	ports := newLvsdPorts(t)
	dir := t.TempDir()
	pool := writePool(t, dir, be)
	comms := make([]string, 0, 900)
	for _, c := range stallCommunities() {
		comms = append(comms, fmt.Sprintf("%q", fmt.Sprintf("%d:%d", c.ASN, c.Value)))
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, `[global]
bgp = yes
bgp-local-asn = %d
bgp-peer-address = 127.0.0.1
bgp-peer-port = %d
bgp-nexthop-ipv4 = 10.0.0.2
bgp-local-ips = ["127.0.0.2"]
bgp-local-port = %d
bgp-connect-retry = 1
bgp-communities = [%s]
instrumentation = yes
instrumentation_ips = ["127.0.0.2"]
instrumentation_port = %d
`, directorASN, peer.Port(), ports.bgpLocal, strings.Join(comms, ", "), ports.instr)
	const vips = 120 // one ~3.7 KB UPDATE each (distinct MEDs): more than the socket holds
	for _, r := range stallRoutes(vips) {
		fmt.Fprintf(&conf, "\n[vip_%d]\nprotocol = tcp\nip = %s\nport = 80\nscheduler = wrr\nconfig = file://%s\nbgp-med = %d\n",
			r.MED, r.Prefix.Addr(), pool, r.MED)
	}
	p := runLvsd(t, 2, writeConf(t, dir, conf.String()), ports)
	Eventually(t, 30*time.Second, "/bgp to show the session and every VIP", func() (bool, string) {
		body, err := p.bgpStatus()
		var st struct {
			Peers  []struct{ Established bool } `json:"peers"`
			Routes []json.RawMessage            `json:"routes"`
		}
		if err != nil || json.Unmarshal([]byte(body), &st) != nil {
			return false, fmt.Sprint(err, body)
		}
		return len(st.Peers) == 1 && st.Peers[0].Established && len(st.Routes) == vips, fmt.Sprintf("%+v", st.Peers)
	})

	const stopTimeout = 10 * time.Second // lvs/daemon's default StopTimeout
	if err := p.cmd.Process.Signal(sigterm); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.exited = true
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("lvsd exit: %v, want status 1 (BGP stop failed)", err)
		}
	case <-time.After(stopTimeout + 10*time.Second):
		t.Fatalf("lvsd did not exit within %v of SIGTERM (BGP stop bound %v)", stopTimeout+10*time.Second, stopTimeout)
	}
	out := p.out.String()
	for _, want := range []string{"withdrawals not confirmed sent", "context deadline exceeded", "lvsd stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("lvsd log lacks %q:\n%s", want, tail(out, 20))
		}
	}
}
