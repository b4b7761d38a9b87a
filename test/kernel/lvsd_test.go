//go:build kernelvm

package kernele2e

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	cfipvs "github.com/cloudflare/ipvs"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// The lvsd binary, built statically by run.sh into the initramfs.
const lvsdBin = "/lvsd"

const lvsdConf = `[global]
bgp = no
instrumentation = no
pool-poll-interval = 0.2
ipvs-resync-interval = 1

[web_80]
protocol = tcp
ip = 192.0.2.30
port = 80
scheduler = rr
forwarding = nat
realserver-port = 8080
config = file://%[1]s/pool
depool-threshold = .5
monitors = ["RunCommand"]
runcommand.command = /bin/sh
runcommand.arguments = ["%[1]s/check", server.host]
runcommand.interval = 0.3
runcommand.timeout = 5
`

// A server is down while the file down-<host> exists.
const checkScript = "[ ! -e \"$(dirname \"$0\")/down-$1\" ]\n"

// TestLvsdEndToEnd runs the real lvsd daemon against the kernel (rr, so a
// returning server is not flooded as under wlc): its periodic resync
// restores a flushed table and undoes a hand `ipvsadm -d`, logged; pool-file
// changes and health results end up in IPVS and decide which namespaces get
// real connections; the depool threshold keeps a down server pooled when
// too many are down; SIGTERM leaves IPVS as it is and a restarted lvsd
// adopts it without re-adding anything.
func TestLvsdEndToEnd(t *testing.T) {
	l := getLab(t)
	c := rawClient(t)
	flush(t, c)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "check"), []byte(checkScript), 0o755))
	conf := filepath.Join(dir, "pybal.conf")
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf(lvsdConf, dir)), 0o644))
	writePool := func(enabled ...bool) {
		var b strings.Builder
		for i, on := range enabled {
			py := map[bool]string{true: "True", false: "False"}[on]
			fmt.Fprintf(&b, "{ 'host': '10.200.%d.2', 'weight': 10, 'enabled': %s }\n", i+1, py)
		}
		// Rename so lvsd never reads a half-written file.
		must(t, os.WriteFile(filepath.Join(dir, "pool.new"), []byte(b.String()), 0o644))
		must(t, os.Rename(filepath.Join(dir, "pool.new"), filepath.Join(dir, "pool")))
	}
	down := func(host string, isDown bool) {
		p := filepath.Join(dir, "down-"+host)
		if isDown {
			must(t, os.WriteFile(p, nil, 0o644))
		} else {
			must(t, os.Remove(p))
		}
	}
	k := key(ipvs.TCP, vipLvsd+":80")
	const vip = vipLvsd + ":80"

	writePool(true, true, true)
	first := startLvsd(t, conf)
	waitPooled(t, c, k, first, "rs1", "rs2", "rs3")
	expectHits(t, l.hits(t, vip, conns), "rs1", "rs2", "rs3")

	// Drift: the table is flushed behind lvsd's back (ipvsadm -C). Nothing
	// changes in the pool or the checks, so only the daemon's own periodic
	// resync (ipvs-resync-interval = 1) can put the service back.
	opsBefore := len(first.ops())
	flush(t, c)
	waitPooled(t, c, k, first, "rs1", "rs2", "rs3")
	// Ops are logged after they are applied: wait for the log to catch up.
	for deadline := time.Now().Add(20 * time.Second); len(first.ops())-opsBefore < 4 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if repair := first.ops()[opsBefore:]; len(repair) != 4 || !strings.Contains(repair[0], `op="-A -t 192.0.2.30:80 -s rr"`) {
		t.Errorf("resync after the flush applied %d ops, want -A then the 3 servers:\n%s", len(repair), strings.Join(repair, "\n"))
	}
	expectHits(t, l.hits(t, vip, conns), "rs1", "rs2", "rs3")

	// The runbook's emergency `ipvsadm -d` (here its netlink equivalent: the
	// VM has no ipvsadm) is undone by the next resync too, and logged at
	// WARN with the operation undone and the one that restored it.
	web, _ := rawService(t, c, k)
	must(t, c.RemoveDestination(web, cfipvs.Destination{Address: netip.MustParseAddr("10.200.2.2"), Port: 8080, Family: cfipvs.INET}))
	first.waitLog(t, "level=WARN", `msg="ipvs drift repaired: a change made outside lvsd was undone (use lvsd ctl depool, not ipvsadm)"`,
		`undone="-d -t 192.0.2.30:80 -r 10.200.2.2:8080"`, `restored="-a -t 192.0.2.30:80 -r 10.200.2.2:8080 -m -w 10"`)
	waitPooled(t, c, k, first, "rs1", "rs2", "rs3")

	// Disabled in the pool: depooled.
	writePool(true, false, true)
	waitPooled(t, c, k, first, "rs1", "rs3")
	expectHits(t, l.hits(t, vip, conns), "rs1", "rs3")

	writePool(true, true, true)
	waitPooled(t, c, k, first, "rs1", "rs2", "rs3")

	// Health: rs2 fails its check and is depooled. Then rs3 fails too,
	// but depooling it would leave 1 of 3 servers up (threshold .5): it
	// stays pooled, as PyBal does. When rs2 recovers, rs3 can go.
	down("10.200.2.2", true)
	waitPooled(t, c, k, first, "rs1", "rs3")
	down("10.200.3.2", true)
	first.waitLog(t, "Could not depool server 10.200.3.2 because of too many down!")
	waitPooled(t, c, k, first, "rs1", "rs3")
	expectHits(t, l.hits(t, vip, conns), "rs1", "rs3")
	down("10.200.2.2", false)
	waitPooled(t, c, k, first, "rs1", "rs2")
	expectHits(t, l.hits(t, vip, conns), "rs1", "rs2")
	down("10.200.3.2", false)
	waitPooled(t, c, k, first, "rs1", "rs2", "rs3")

	// SIGTERM leaves IPVS in place: connections keep flowing while lvsd
	// is not running.
	first.stop(t)
	waitPooled(t, c, k, first, "rs1", "rs2", "rs3")
	expectHits(t, l.hits(t, vip, conns), "rs1", "rs2", "rs3")

	// A restarted lvsd adopts the table: the only op it ever logs is the
	// removal caused by the next pool change (no flush, no re-adds).
	second := startLvsd(t, conf)
	time.Sleep(3 * time.Second) // a few resync intervals, so a wrong startup write would show
	writePool(false, true, true)
	waitPooled(t, c, k, second, "rs2", "rs3")
	second.waitLog(t, `op="-d -t 192.0.2.30:80 -r 10.200.1.2:8080"`)
	if ops := second.ops(); len(ops) != 1 {
		t.Fatalf("restarted lvsd applied %d ops, want only the depool:\n%s", len(ops), strings.Join(ops, "\n"))
	}
	expectHits(t, l.hits(t, vip, conns), "rs2", "rs3")
	second.stop(t)
}

// lvsd ctl depool takes a server out of IPVS at once and is logged; the
// depool survives an lvsd restart (the state file), the restarted lvsd
// never pooling the server in between; lvsd ctl repool brings it back.
func TestLvsdManualDepool(t *testing.T) {
	getLab(t)
	c := rawClient(t)
	flush(t, c)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "check"), []byte(checkScript), 0o755))
	state := filepath.Join(dir, "manual.json")
	global := fmt.Sprintf("[global]\ncontrol-socket = %s\nmanual-depool-state = %s\n", filepath.Join(dir, "ctl.sock"), state)
	conf := filepath.Join(dir, "pybal.conf")
	must(t, os.WriteFile(conf, []byte(strings.Replace(fmt.Sprintf(lvsdConf, dir), "[global]\n", global, 1)), 0o644))
	var pool strings.Builder
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&pool, "{ 'host': '10.200.%d.2', 'weight': 10, 'enabled': True }\n", i)
	}
	must(t, os.WriteFile(filepath.Join(dir, "pool"), []byte(pool.String()), 0o644))
	k := key(ipvs.TCP, vipLvsd+":80")
	ctl := func(args ...string) string {
		t.Helper()
		code, out, err := lvsdIn(-1, append(append([]string{"ctl"}, args...), "--config", conf)...)
		if err != nil || code != 0 {
			t.Fatalf("lvsd ctl %s: exit %d, %v\n%s", strings.Join(args, " "), code, err, out)
		}
		t.Logf("lvsd ctl %s: %s", strings.Join(args, " "), out)
		return out
	}

	first := startLvsd(t, conf)
	waitPooled(t, c, k, first, "rs1", "rs2", "rs3")
	first.waitLog(t, "Control socket listening")
	out := ctl("depool", "web_80", "10.200.3.2", "--reason", "disk failing")
	if !strings.Contains(out, "web_80 10.200.3.2: disabled/up/not pooled (manually depooled by ") || !strings.Contains(out, ": disk failing)") {
		t.Errorf("depool answered %q", out)
	}
	waitPooled(t, c, k, first, "rs1", "rs2")
	first.waitLog(t, "level=WARN", "Server 10.200.3.2 manually depooled by ", ": disk failing")
	first.waitLog(t, `op="-d -t 192.0.2.30:80 -r 10.200.3.2:8080"`)
	first.stop(t)
	if b, err := os.ReadFile(state); err != nil || !strings.Contains(string(b), `"10.200.3.2"`) || !strings.Contains(string(b), "disk failing") {
		t.Fatalf("state file after the depool: %v\n%s", err, b)
	}

	second := startLvsd(t, conf)
	second.waitLog(t, "level=WARN", "Manual depool in force from the state file", "host=10.200.3.2", `reason="disk failing"`)
	second.waitLog(t, "Control socket listening")
	out = ctl("repool", "web_80", "10.200.3.2")
	if !strings.Contains(out, "web_80 10.200.3.2: enabled/up/pooled") {
		t.Errorf("repool answered %q", out)
	}
	waitPooled(t, c, k, second, "rs1", "rs2", "rs3")
	// The repool's add is the restarted lvsd's only op: it never pooled
	// 10.200.3.2 before (nor removed it again).
	second.waitLog(t, `op="-a -t 192.0.2.30:80 -r 10.200.3.2:8080 -m -w 10"`)
	if ops := second.ops(); len(ops) != 1 {
		t.Errorf("restarted lvsd applied %d ops, want only the repool:\n%s", len(ops), strings.Join(ops, "\n"))
	}
	if b, err := os.ReadFile(state); err == nil && strings.Contains(string(b), "10.200.3.2") {
		t.Errorf("state file still has the depool after the repool:\n%s", b)
	}
	second.stop(t)
}

// lvsdProc is a running lvsd with its log.
type lvsdProc struct {
	cmd  *exec.Cmd
	log  *testutil.SyncBuffer
	done chan error
}

func startLvsd(t *testing.T, conf string) *lvsdProc {
	t.Helper()
	if _, err := os.Stat(lvsdBin); err != nil {
		t.Fatalf("lvsd binary missing from the initramfs (run.sh builds it): %v", err)
	}
	p := &lvsdProc{cmd: exec.Command(lvsdBin, "--config", conf, "--no-bgp"), log: &testutil.SyncBuffer{}, done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	must(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("lvsd log:\n%s", p.log.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *lvsdProc) stop(t *testing.T) {
	t.Helper()
	must(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("lvsd exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("lvsd did not stop within 20 s of SIGTERM")
	}
}

// waitLog waits for a log line holding every one of parts.
func (p *lvsdProc) waitLog(t *testing.T, parts ...string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, line := range strings.Split(p.log.String(), "\n") {
			if containsAll(line, parts) {
				return
			}
		}
	}
	t.Fatalf("lvsd never logged a line with %q", parts)
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// ops lists the IPVS ops lvsd logged.
func (p *lvsdProc) ops() []string {
	var out []string
	for _, line := range strings.Split(p.log.String(), "\n") {
		if strings.Contains(line, `msg="ipvs op"`) {
			out = append(out, line)
		}
	}
	return out
}

// waitPooled waits until the kernel's service has exactly the named real
// servers (port 8080, masquerading, weight 10).
func waitPooled(t *testing.T, c cfipvs.Client, k ipvs.ServiceKey, p *lvsdProc, names ...string) {
	t.Helper()
	want := map[netip.AddrPort]bool{}
	for _, n := range names {
		var i int
		fmt.Sscanf(n, "rs%d", &i)
		want[netip.MustParseAddrPort(fmt.Sprintf("10.200.%d.2:8080", i))] = true
	}
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		s, ok := rawService(t, c, k)
		if !ok {
			last = "no service"
			continue
		}
		got := map[netip.AddrPort]bool{}
		last = ""
		match := true
		for _, d := range rawDests(t, c, s) {
			ap := netip.AddrPortFrom(d.Address, d.Port)
			got[ap] = true
			last += fmt.Sprintf(" %s w=%d fwd=%v", ap, d.Weight, d.FwdMethod)
			if !want[ap] || d.Weight != 10 || d.FwdMethod != cfipvs.Masquerade {
				match = false
			}
		}
		if match && len(got) == len(want) {
			return
		}
	}
	t.Fatalf("IPVS never had exactly %v; last:%s\nlvsd log:\n%s", names, last, p.log.String())
}
