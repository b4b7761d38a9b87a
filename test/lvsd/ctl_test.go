package lvsde2e

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// restart stops lvsd (SIGTERM) and starts it again over the same files.
func (e *env) restart() {
	e.t.Helper()
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(30 * time.Second):
		e.t.Fatalf("lvsd did not stop\n%s", e.log)
	}
	e.log = &testutil.SyncBuffer{}
	e.cmd = exec.Command(lvsdBin, "--config", e.conf, "--dry-run", "--debug")
	e.cmd.Stdout, e.cmd.Stderr = e.log, e.log
	if err := e.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.exited = make(chan error, 1)
	go func() { e.exited <- e.cmd.Wait() }()
}

func (e *env) ctl(args ...string) (string, error) {
	out, err := exec.Command(lvsdBin, append([]string{"ctl", "--config", e.conf}, args...)...).CombinedOutput()
	return string(out), err
}

// lvsd ctl depool takes a server out at once, shows who and why in
// /pools and /alerts, refuses a depool below the threshold, keeps the
// depool across a restart, and repool brings the server back.
func TestCtlDepoolRepool(t *testing.T) {
	e := startEnv(t, "control-socket = DIR/run/control.sock", "manual-depool-state = DIR/state/manual-depools.json")
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	vip := "-t 10.2.2.1:" + e.port
	op := func(kind, ip string) string { return fmt.Sprintf(`op="%s %s -r %s:%s`, kind, vip, ip, e.port) }
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		e.waitLog(op("-a", ip))
	}
	manual := "manually depooled by " + me.Username + ": disk dying"
	out, err := e.ctl("depool", "web", "127.0.0.3", "--reason", "disk dying")
	if err != nil || out != "web 127.0.0.3: disabled/up/not pooled ("+manual+")\n" {
		t.Fatalf("ctl depool: %v\n%s", err, out)
	}
	e.waitLog(op("-d", "127.0.0.3"))
	if got := e.state("web", "127.0.0.3"); got != "disabled/up/not pooled ("+manual+")" {
		t.Errorf("/pools/web/127.0.0.3 = %q", got)
	}
	alert := func() string { _, body := e.get("/alerts", false); return body }
	wantAlert := "WARNING - Pool web: server 127.0.0.3 " + manual + ". "
	if got := alert(); got != wantAlert {
		t.Errorf("/alerts = %q", got)
	}
	// Two of three left: depooling one more would leave 1 < 3 × .5.
	out, err = e.ctl("depool", "web", "127.0.0.2")
	if err == nil || !strings.Contains(out, "below the depool threshold 0.5 (use --force") {
		t.Errorf("depool below the threshold: %v\n%s", err, out)
	}
	if got := e.state("web", "127.0.0.2"); got != "enabled/up/pooled" {
		t.Errorf("a refused depool changed 127.0.0.2: %q", got)
	}

	e.restart()
	e.waitLog(op("-a", "127.0.0.2"))
	e.waitLog(op("-a", "127.0.0.4"))
	e.waitLog("Manual depool in force from the state file")
	e.waitFor("the depool kept", func() bool { return e.state("web", "127.0.0.3") == "disabled/up/not pooled ("+manual+")" })
	if got := alert(); got != wantAlert {
		t.Errorf("after restart: /alerts = %q", got)
	}
	if n := e.countLog(op("-a", "127.0.0.3")); n != 0 {
		t.Errorf("the depooled server was added to IPVS after the restart\n%s", e.log)
	}

	if out, err := e.ctl("repool", "web", "127.0.0.3"); err != nil || out != "web 127.0.0.3: enabled/up/pooled\n" {
		t.Fatalf("ctl repool: %v\n%s", err, out)
	}
	e.waitLog(op("-a", "127.0.0.3"))
	e.waitFor("alerts clear", func() bool { return alert() == "OK - All pools are healthy" })
	if out, err := e.ctl("repool", "web", "127.0.0.3"); err == nil || !strings.Contains(out, "not manually depooled") {
		t.Errorf("second repool: %v\n%s", err, out)
	}
}

// ctlAs runs lvsd ctl as uid (and gid) uid.
func (e *env) ctlAs(uid uint32, args ...string) (string, error) {
	cmd := exec.Command(lvsdBin, append([]string{"ctl", "--config", e.conf}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The control socket admits root and the daemon's user only: with lvsd
// running as nobody (65534), nobody and root may depool and repool;
// another user (65533) is refused by the socket's mode and, should the
// mode be loosened, by the peer credential check, which logs it.
func TestCtlSocketUsers(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, to run lvsd and lvsd ctl as other users")
	}
	const daemonUID, otherUID = 65534, 65533
	e := prepareEnv(t, "control-socket = DIR/run/control.sock", "manual-depool-state = DIR/state/manual-depools.json")
	for d := e.dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // t.TempDir's directories are 0700: let the other users in
	}
	err := filepath.WalkDir(e.dir, func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			err = os.Lchown(p, daemonUID, daemonUID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.start(&syscall.Credential{Uid: daemonUID, Gid: daemonUID})
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		e.waitLog(fmt.Sprintf(`op="-a -t 10.2.2.1:%s -r %s:%s`, e.port, ip, e.port))
	}
	e.waitLog("Control socket listening")
	sock := filepath.Join(e.dir, "run", "control.sock")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Uid != daemonUID {
		t.Fatalf("control socket: %v, %v", fi, err)
	}
	name := fmt.Sprintf("uid %d", daemonUID)
	if u, err := user.LookupId(fmt.Sprint(daemonUID)); err == nil {
		name = u.Username
	}

	out, err := e.ctlAs(daemonUID, "depool", "web", "127.0.0.3", "--reason", "the daemon's user")
	if want := "web 127.0.0.3: disabled/up/not pooled (manually depooled by " + name + ": the daemon's user)\n"; err != nil || out != want {
		t.Fatalf("ctl depool as the daemon's user: %v\n%s\nwant %s", err, out, want)
	}
	if out, err := e.ctlAs(0, "repool", "web", "127.0.0.3"); err != nil || out != "web 127.0.0.3: enabled/up/pooled\n" {
		t.Fatalf("ctl repool as root: %v\n%s", err, out)
	}

	out, err = e.ctlAs(otherUID, "depool", "web", "127.0.0.2")
	if err == nil || !strings.Contains(out, "permission denied") {
		t.Errorf("another user through the 0600 socket: %v\n%s", err, out)
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	out, err = e.ctlAs(otherUID, "depool", "web", "127.0.0.2")
	if err == nil || strings.Contains(out, "depooled") || !strings.Contains(out, "only root and the daemon's own user") {
		t.Errorf("another user through a 0666 socket: %v\n%s", err, out)
	}
	e.waitLog(fmt.Sprintf(`msg="control: refused a client of another user" uid=%d`, otherUID))
	if got := e.state("web", "127.0.0.2"); got != "enabled/up/pooled" {
		t.Errorf("a refused client changed 127.0.0.2: %q", got)
	}
}
