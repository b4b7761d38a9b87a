// Package lvsde2e runs the real lvsd binary end to end: --dry-run (the
// in-memory IPVS that logs ipvsadm operations) over a pybal.conf with
// file:// pools and real HTTP backends on 127.0.0.x, checking the
// instrumentation API and the logged IPVS operations as backends die and
// come back, as the pool file changes and as pybal.conf is reloaded.
package lvsde2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/test/internal/testbin"
)

var lvsdBin string

func TestMain(m *testing.M) {
	var dir string
	testbin.MainThen(m, &dir, func() { lvsdBin = filepath.Join(dir, "lvsd") }, "lvsd")
}

// backend is an HTTP real server on one loopback address that can be
// killed and restarted on the same address.
type backend struct {
	addr string
	srv  *http.Server
}

func (b *backend) start(t testing.TB) {
	t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 100; i++ {
		if l, err = net.Listen("tcp", b.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("backend %s: %v", b.addr, err)
	}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "web.example" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})}
	go b.srv.Serve(l)
}

func (b *backend) kill() { b.srv.Close() }

func poolLine(host string, weight int, enabled bool) string {
	e := "False"
	if enabled {
		e = "True"
	}
	return fmt.Sprintf("{ 'host': '%s', 'weight': %d, 'enabled': %s }\n", host, weight, e)
}

type env struct {
	t        testing.TB
	dir      string
	conf     string
	port     string
	api      string
	log      *testutil.SyncBuffer
	cmd      *exec.Cmd
	exited   chan error
	backends map[string]*backend
}

func (e *env) waitLog(what string) {
	e.t.Helper()
	e.waitFor("log line "+what, func() bool { return strings.Contains(e.log.String(), what) })
}

func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for %s\nlvsd log:\n%s", what, e.log.String())
}

func (e *env) get(path string, js bool) (int, string) {
	req, _ := http.NewRequest("GET", e.api+path, nil)
	if js {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) state(svc, host string) string {
	_, body := e.get("/pools/"+svc+"/"+host, false)
	return strings.TrimSpace(body)
}

// countLog counts occurrences of s in the log.
func (e *env) countLog(s string) int { return strings.Count(e.log.String(), s) }

const confTemplate = `[global]
instrumentation = yes
instrumentation_port = APIPORT
instrumentation_ips = ["127.0.0.1"]
pool-poll-interval = 0.05
ipvs-resync-interval = 1

[web]
protocol = tcp
ip = 10.2.2.1
port = PORT
scheduler = wlc
config = file://DIR/web
depool-threshold = .5
monitors = ["ProxyFetch", "IdleConnection"]
proxyfetch.url = ["http://web.example/"]
proxyfetch.interval = 0.1
proxyfetch.timeout = 3
idleconnection.max-delay = 0.3
idleconnection.timeout-clean-reconnect = 0.1

[web_json]
protocol = tcp
ip = 10.2.2.2
port = PORT
scheduler = rr
config = file://DIR/web.json
drain-on-depool = yes
monitors = ["ProxyFetch"]
proxyfetch.url = ["http://web.example/"]
proxyfetch.interval = 0.1
proxyfetch.timeout = 3
`

// startEnv starts lvsd over confTemplate, with global's lines added to its
// [global] section.
func startEnv(t testing.TB, global ...string) *env {
	e := prepareEnv(t, global...)
	e.start(nil)
	return e
}

// prepareEnv is startEnv without starting lvsd.
func prepareEnv(t testing.TB, global ...string) *env {
	ips := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}
	e := &env{t: t, dir: t.TempDir(), log: &testutil.SyncBuffer{}, backends: map[string]*backend{}}
	e.port = testutil.FreePort(t, ips...)
	apiPort := testutil.FreePort(t, "127.0.0.1")
	e.api = "http://127.0.0.1:" + apiPort
	for _, ip := range ips {
		b := &backend{addr: net.JoinHostPort(ip, e.port)}
		b.start(t)
		e.backends[ip] = b
		t.Cleanup(b.kill)
	}
	e.conf = filepath.Join(e.dir, "pybal.conf")
	tmpl := strings.Replace(confTemplate, "\n\n[web]\n", "\n"+strings.Join(append(global, ""), "\n")+"\n[web]\n", 1)
	conf := strings.NewReplacer("APIPORT", apiPort, "PORT", e.port, "DIR", e.dir).Replace(tmpl)
	testutil.WriteAtomic(t, e.conf, conf)
	testutil.WriteAtomic(t, filepath.Join(e.dir, "web"), "# web pool\n"+poolLine("127.0.0.2", 10, true)+poolLine("127.0.0.3", 10, true)+poolLine("127.0.0.4", 10, true))
	testutil.WriteAtomic(t, filepath.Join(e.dir, "web.json"), `{"127.0.0.2": {"enabled": true, "weight": 10}, "127.0.0.3": {"enabled": true, "weight": 20}}`)
	return e
}

// start starts lvsd, as the user of cred when it is not nil.
func (e *env) start(cred *syscall.Credential) {
	t := e.t
	e.cmd = exec.Command(lvsdBin, "--config", e.conf, "--dry-run", "--debug")
	e.cmd.Stdout, e.cmd.Stderr = e.log, e.log
	if cred != nil {
		e.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e.exited = make(chan error, 1)
	go func() { e.exited <- e.cmd.Wait() }()
	t.Cleanup(func() {
		if e.cmd.ProcessState == nil {
			e.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-e.exited:
			case <-time.After(15 * time.Second):
				e.cmd.Process.Kill()
			}
		}
	})
}

func TestEndToEnd(t *testing.T) {
	e := startEnv(t)
	p := e.port
	vip := "-t 10.2.2.1:" + p
	// Start-up: all three pooled, in ipvsadm syntax.
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		e.waitLog(fmt.Sprintf(`op="-a %s -r %s:%s -g -w 10"`, vip, ip, p))
	}
	e.waitLog(`op="-A ` + vip + ` -s wlc"`)
	e.waitLog(`op="-a -t 10.2.2.2:` + p + ` -r 127.0.0.3:` + p + ` -g -w 20"`)
	// PyBal's log line shape.
	e.waitLog(`[web ProxyFetch] 127.0.0.2 (enabled/up/pooled): Fetch successful (http://web.example/), 0.0`)

	// Instrumentation API.
	if code, body := e.get("/pools", false); code != 200 || body != "web\nweb_json\n" {
		t.Errorf("/pools = %d %q", code, body)
	}
	e.waitFor("web pool text", func() bool {
		_, body := e.get("/pools/web", false)
		return body == "127.0.0.2:\tenabled/up/pooled\n127.0.0.3:\tenabled/up/pooled\n127.0.0.4:\tenabled/up/pooled\n"
	})
	var pool map[string]map[string]any
	_, body := e.get("/pools/web_json", true)
	if err := json.Unmarshal([]byte(body), &pool); err != nil || pool["127.0.0.3"]["weight"] != 20.0 || pool["127.0.0.3"]["pooled"] != true {
		t.Errorf("/pools/web_json JSON = %s (%v)", body, err)
	}
	if code, body := e.get("/nope", true); code != 404 || strings.TrimSpace(body) != `{"error":"The desired url was not found"}` {
		t.Errorf("404 = %d %s", code, body)
	}
	if _, body := e.get("/alerts", false); body != "OK - All pools are healthy" {
		t.Errorf("/alerts = %q", body)
	}
	_, metrics := e.get("/metrics", false)
	for _, m := range []string{`pybal_service_servers{service="web"} 3`, `pybal_service_servers_pooled{service="web"} 3`,
		`pybal_monitor_status{host="127.0.0.2",monitor="ProxyFetch",service="web"} 1`, `pybal_service_depool_threshold{service="web"} 0.5`} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}

	// A backend dies: depooled (-d), drained to weight 0 in the
	// drain-on-depool service; it comes back: pooled again.
	e.backends["127.0.0.3"].kill()
	e.waitLog(fmt.Sprintf(`op="-d %s -r 127.0.0.3:%s"`, vip, p))
	e.waitLog(fmt.Sprintf(`op="-e -t 10.2.2.2:%s -r 127.0.0.3:%s -g -w 0"`, p, p))
	e.waitFor("127.0.0.3 down", func() bool { return e.state("web", "127.0.0.3") == "enabled/down/not pooled" })
	// (The state in the line depends on whether IdleConnection saw it first.)
	e.waitFor("ProxyFetch down line", func() bool {
		return regexp.MustCompile(`\[web\] Monitoring instance ProxyFetch reports server 127\.0\.0\.3 \(enabled/(up|down)/(not )?pooled\) down: Fetch failed \(http://web\.example/\)`).MatchString(e.log.String())
	})
	// A second one: 1 up of 3 < 1.5, so it stays pooled.
	e.backends["127.0.0.4"].kill()
	e.waitLog("[web] Could not depool server 127.0.0.4 because of too many down!")
	e.waitFor("critical alert", func() bool {
		_, body := e.get("/alerts", false)
		return body == "CRITICAL - web: Servers 127.0.0.4 are marked down but pooled"
	})
	if n := e.countLog(fmt.Sprintf(`op="-d %s -r 127.0.0.4:%s"`, vip, p)); n != 0 {
		t.Errorf("127.0.0.4 depooled despite the threshold")
	}
	e.backends["127.0.0.3"].start(t)
	e.waitLog(fmt.Sprintf(`op="-e -t 10.2.2.2:%s -r 127.0.0.3:%s -g -w 20"`, p, p))
	e.waitFor("127.0.0.3 back", func() bool { return e.state("web", "127.0.0.3") == "enabled/up/pooled" })
	// With 127.0.0.3 back, 127.0.0.4 can finally leave.
	e.waitLog(fmt.Sprintf(`op="-d %s -r 127.0.0.4:%s"`, vip, p))
	e.backends["127.0.0.4"].start(t)
	e.waitFor("127.0.0.4 back", func() bool { return e.state("web", "127.0.0.4") == "enabled/up/pooled" })

	// Pool file changes: a bad line refuses the whole document (logged,
	// critical in /alerts, nothing applied); without it, a weight change
	// (-e), weight 0 is a real drain, a commented-out host is removed.
	change := poolLine("127.0.0.2", 5, true) + "#" + poolLine("127.0.0.3", 10, true) + poolLine("127.0.0.4", 0, true)
	testutil.WriteAtomic(t, filepath.Join(e.dir, "web"), change+"{ 'host': 'bad', 'weight': '10', 'enabled': True }\n")
	e.waitLog(e.dir + "/web:4: bad configuration line")
	e.waitFor("critical refusal", func() bool {
		_, body := e.get("/alerts", false)
		return strings.HasPrefix(body, "CRITICAL - web: pool source file://"+e.dir+"/web refused, keeping the last good pool (3 servers): "+
			"1 bad line(s), the first at "+e.dir+"/web:4: bad configuration line")
	})
	if e.countLog(fmt.Sprintf(`op="-e %s -r 127.0.0.2:%s -g -w 5"`, vip, p)) != 0 {
		t.Errorf("a refused document was applied")
	}
	testutil.WriteAtomic(t, filepath.Join(e.dir, "web"), change)
	e.waitLog(fmt.Sprintf(`op="-e %s -r 127.0.0.2:%s -g -w 5"`, vip, p))
	e.waitLog(fmt.Sprintf(`op="-e %s -r 127.0.0.4:%s -g -w 0"`, vip, p))
	e.waitLog("Removing server 127.0.0.3 (no longer found in new configuration)")
	e.waitFor("127.0.0.3 gone", func() bool { code, _ := e.get("/pools/web/127.0.0.3", false); return code == 404 })

	// Drift repair: nothing to do, so no new ops across a resync.
	before := e.countLog(`msg="ipvs op"`)
	time.Sleep(1500 * time.Millisecond)
	if after := e.countLog(`msg="ipvs op"`); after != before {
		t.Errorf("unchanged state produced %d ops", after-before)
	}

	// lvsd status joins IPVS with pool state.
	out, err := exec.Command(lvsdBin, "status", "--config", e.conf).CombinedOutput()
	if err != nil {
		t.Fatalf("lvsd status: %v\n%s", err, out)
	}
	for _, want := range []string{"ActiveConn", "InActConn", "TCP  10.2.2.1:" + p + " wlc  [web]", "127.0.0.2:" + p, "enabled/up/pooled", "[web_json]"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lvsd status lacks %q:\n%s", want, out)
		}
	}

	// SIGHUP with a broken pybal.conf is refused whole.
	good, _ := os.ReadFile(e.conf)
	testutil.WriteAtomic(t, e.conf, string(good)+"\n[broken]\nprotocol = tcp\nip = 10.2.2.9\nport = 80\nscheduler = fifo\nconfig = file:///x\n")
	e.cmd.Process.Signal(syscall.SIGHUP)
	e.waitLog("Configuration reload refused")
	if want := fmt.Sprintf("pybal.conf:%d: scheduler: unknown scheduler", strings.Count(string(good), "\n")+6); !strings.Contains(e.log.String(), want) {
		t.Errorf("reload error lacks file:line: key\n%s", e.log.String())
	}
	// SIGHUP removing web_json and adding a service: the others untouched.
	newConf := strings.Split(string(good), "[web_json]")[0] + fmt.Sprintf("[web2]\nprotocol = tcp\nip = 10.2.2.3\nport = %s\nscheduler = rr\nconfig = file://%s/web\n", p, e.dir)
	testutil.WriteAtomic(t, e.conf, newConf)
	opsBefore := e.countLog(vip)
	e.cmd.Process.Signal(syscall.SIGHUP)
	e.waitLog(`op="-D -t 10.2.2.2:` + p + `"`)
	e.waitLog(`op="-A -t 10.2.2.3:` + p + ` -s rr"`)
	if n := e.countLog(vip); n != opsBefore {
		t.Errorf("reload touched the unchanged service web:\n%s", e.log.String())
	}
	if _, body := e.get("/pools", false); body != "web\nweb2\n" {
		t.Errorf("/pools after reload = %q", body)
	}

	// SIGTERM: clean exit.
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-e.exited:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("lvsd did not stop on SIGTERM")
	}
	e.waitLog("lvsd stopped")
}

// No pool document empties a service. A truncated file (: > pool) and an
// error page are refused whole: the last good pool stays, /alerts is
// critical naming the source and why, a metric counts them. A valid
// document that removes servers is applied, but the removals count against
// the depool threshold like depools: here it lists only a dead server, so
// the two live ones it removes stay in IPVS, named in /alerts, until it is
// up again.
func TestPoolDocumentCannotEmptyService(t *testing.T) {
	e := startEnv(t)
	p, pool := e.port, filepath.Join(e.dir, "web")
	vip := "-t 10.2.2.1:" + p
	op := func(kind, ip string) string { return fmt.Sprintf(`op="%s %s -r %s:%s`, kind, vip, ip, p) }
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		e.waitLog(op("-a", ip))
	}
	alert := func() string { _, body := e.get("/alerts", false); return body }
	refused := "CRITICAL - web: pool source file://" + pool + " refused, keeping the last good pool (3 servers): "

	if err := os.Truncate(pool, 0); err != nil { // : > pool
		t.Fatal(err)
	}
	e.waitFor("truncation refused", func() bool {
		return alert() == refused+"no server in it (an empty document, or only blank and comment lines)"
	})
	testutil.WriteAtomic(t, pool, "<html>502</html>\n")
	e.waitFor("error page refused", func() bool {
		return strings.HasPrefix(alert(), refused+"1 bad line(s), the first at "+pool+`:1: bad configuration line "<html>502</html>"`)
	})
	if _, m := e.get("/metrics", false); !strings.Contains(m, `lvsd_pool_refused_documents_total{service="web"} 2`) {
		t.Errorf("/metrics lacks 2 refusals of web")
	}
	if n := e.countLog(`op="-d ` + vip); n != 0 {
		t.Errorf("%d servers removed from IPVS by refused documents", n)
	}
	testutil.WriteAtomic(t, pool, poolLine("127.0.0.2", 10, true)+poolLine("127.0.0.3", 10, true)+poolLine("127.0.0.4", 10, true))
	e.waitFor("the good pool again", func() bool { return alert() == "OK - All pools are healthy" })

	// 127.0.0.3 dies and is depooled; the new document lists only it.
	e.backends["127.0.0.3"].kill()
	e.waitLog(op("-d", "127.0.0.3"))
	testutil.WriteAtomic(t, pool, poolLine("127.0.0.3", 10, true))
	e.waitFor("removed servers kept", func() bool {
		return alert() == "WARNING - Pool web: removed servers 127.0.0.2, 127.0.0.4 kept pooled by the depool threshold. "
	})
	if n := e.countLog(op("-d", "127.0.0.2")) + e.countLog(op("-d", "127.0.0.4")); n != 0 {
		t.Errorf("live servers removed although the pool left has none up")
	}
	if _, body := e.get("/pools/web", false); body != "127.0.0.2:\tenabled/up/pooled\n127.0.0.3:\tenabled/down/not pooled\n127.0.0.4:\tenabled/up/pooled\n" {
		t.Errorf("/pools/web:\n%s", body)
	}
	// It comes back: the removed servers leave.
	e.backends["127.0.0.3"].start(t)
	e.waitLog(op("-d", "127.0.0.2"))
	e.waitLog(op("-d", "127.0.0.4"))
	e.waitFor("only 127.0.0.3", func() bool { _, body := e.get("/pools/web", false); return body == "127.0.0.3:\tenabled/up/pooled\n" })
	// (A pool of one server cannot be depooled at all: PyBal's warning.)
	if got := alert(); got != "WARNING - Pool web is too small to allow depooling. " {
		t.Errorf("/alerts = %q", got)
	}
}

func TestBadConfigAtStart(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "pybal.conf")
	testutil.WriteAtomic(t, conf, "[global]\ninstrumentation = perhaps\n")
	out, err := exec.Command(lvsdBin, "--config", conf, "--dry-run").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("exit %v, want non-zero\n%s", err, out)
	}
	if !strings.Contains(string(out), conf+":2: instrumentation: not a boolean") {
		t.Errorf("output lacks file:line: key:\n%s", out)
	}
	out, err = exec.Command(lvsdBin, "check", "--config", conf).CombinedOutput()
	if err == nil || !strings.Contains(string(out), conf+":2: instrumentation") {
		t.Errorf("check: %v\n%s", err, out)
	}
}

// Without --dry-run, lvsd validates pybal.conf before opening IPVS: a bad
// file is reported with file:line: key even where IPVS cannot be opened
// (this machine has no ip_vs), and IPVS is not touched.
func TestBadConfigBeforeIPVS(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "pybal.conf")
	testutil.WriteAtomic(t, conf, "[global]\n\n[web]\nprotocol = tcp\nip = 10.2.2.1\nport = 80\nscheduler = fifo\nconfig = file:///x\n")
	out, err := exec.Command(lvsdBin, "--config", conf).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1\n%s", err, out)
	}
	if !strings.Contains(string(out), conf+`:7: scheduler: unknown scheduler \"fifo\"`) {
		t.Errorf("output lacks the file:line: key error:\n%s", out)
	}
	if strings.Contains(string(out), "cannot open IPVS") {
		t.Errorf("IPVS opened before the configuration was validated:\n%s", out)
	}
}

// TestBGPWiring runs lvsd --dry-run with bgp = yes (BGP runs for real in a
// dry run) towards a peer that is not there: /bgp lists the peer and the
// routes, and SIGTERM withdraws them before exiting. Sessions against a
// real router are lvs/bgp's BIRD tests.
func TestBGPWiring(t *testing.T) {
	e := &env{t: t, dir: t.TempDir(), log: &testutil.SyncBuffer{}}
	apiPort := testutil.FreePort(t, "127.0.0.1")
	peerPort, localPort := testutil.FreePort(t, "127.0.0.1"), testutil.FreePort(t, "127.0.0.1")
	e.api = "http://127.0.0.1:" + apiPort
	e.conf = filepath.Join(e.dir, "pybal.conf")
	testutil.WriteAtomic(t, e.conf, fmt.Sprintf(`[global]
instrumentation = yes
instrumentation_port = %s
instrumentation_ips = ["127.0.0.1"]
bgp = yes
bgp-local-asn = 4200000001
bgp-peer-address = 127.0.0.1
bgp-peer-port = %s
bgp-local-port = %s
bgp-local-ips = ["127.0.0.1"]
bgp-nexthop-ipv4 = 127.0.0.1
bgp-med = 100

[a]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = rr
config = file://%s/pool

[b]
protocol = tcp
ip = 10.2.2.2
port = 80
scheduler = rr
config = file://%s/pool
bgp = no
`, apiPort, peerPort, localPort, e.dir, e.dir))
	testutil.WriteAtomic(t, filepath.Join(e.dir, "pool"), poolLine("127.0.0.2", 10, true))
	cmd := exec.Command(lvsdBin, "--config", e.conf, "--dry-run")
	cmd.Stdout, cmd.Stderr = e.log, e.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	e.waitFor("/bgp", func() bool {
		_, body := e.get("/bgp", true)
		return strings.Contains(body, `"routes":[{"prefix":"10.2.2.1/32","med":100}]`) && strings.Contains(body, `"address":"127.0.0.1"`)
	})
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, e.log.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit on SIGTERM")
	}
	if !strings.Contains(e.log.String(), "BGP withdraw") {
		t.Errorf("no withdrawal logged\n%s", e.log.String())
	}
}
