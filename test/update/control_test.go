package updatee2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

func TestControlSocketRefusesWithoutPermissionOrToken(t *testing.T) {
	tokDir := t.TempDir()
	tok := filepath.Join(tokDir, "token")
	writeFile(t, tok, "e2e-token-0123456789\n")
	os.Chmod(tok, 0o600)
	wrong := filepath.Join(tokDir, "wrong")
	writeFile(t, wrong, "not-the-token-0123456789\n")
	tcp := testutil.FreeAddr(t)
	s := startServer(t, "control_tcp: "+tcp+"\ncontrol_token_file: "+tok+"\n")

	fi, err := os.Stat(s.control)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("control socket mode: %v %v", fi, err)
	}
	// The owner (this user) gets an answer.
	if out, errOut, code := run(t, "", "authdns", "ctl", "--control", s.control, "status"); code != 0 || !strings.Contains(out, `"data_digest"`) {
		t.Fatalf("owner: exit %d\n%s%s", code, out, errOut)
	}

	// TCP: no token, a wrong token, the right one.
	if _, errOut, code := run(t, "", "authdns", "ctl", "--control", tcp, "status"); code != 2 || !strings.Contains(errOut, "needs --token-file") {
		t.Errorf("TCP without a token file: exit %d %s", code, errOut)
	}
	if _, errOut, code := run(t, "", "authdns", "ctl", "--control", tcp, "--token-file", wrong, "status"); code != 1 || !strings.Contains(errOut, "bearer token") {
		t.Errorf("TCP with a wrong token: exit %d %s", code, errOut)
	}
	if out, errOut, code := run(t, "", "authdns", "ctl", "--control", tcp, "--token-file", tok, "stats"); code != 0 || !strings.Contains(out, `"tcp_conns"`) {
		t.Errorf("TCP with the token: exit %d\n%s%s", code, out, errOut)
	}

	if os.Getuid() != 0 {
		t.Logf("not root: cannot run a client as another user; only the socket mode (0600) was checked")
		return
	}
	// Another user: refused by the socket's mode...
	for d := s.dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // let the other user reach the socket, so its mode is what refuses
	}
	out, errOut, code := runAs(t, 65534, "authdns", "ctl", "--control", s.control, "status")
	if code == 0 || !strings.Contains(errOut, "permission denied") {
		t.Fatalf("another user through a 0600 socket: exit %d\n%s%s", code, out, errOut)
	}
	// ...and, should the mode be loosened, by the peer credential check.
	os.Chmod(s.control, 0o666)
	out, errOut, code = runAs(t, 65534, "authdns", "ctl", "--control", s.control, "status")
	if code == 0 || strings.Contains(out, "data_digest") || !strings.Contains(errOut, "only root and the daemon's own user") {
		t.Fatalf("another user through a 0666 socket: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(s.Logs(), "refused a client of another user") {
		t.Errorf("the refusal is not logged:\n%s", s.Logs())
	}
}

func runAs(t *testing.T, uid uint32, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin(name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}
