// Package installe2e runs `make install` into temporary directories and
// checks what it installs, and that systemd-analyze verify accepts the
// installed units as they are (binaries at the paths they name, man pages
// their Documentation= names).
package installe2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var (
	commands = []string{"authdns", "authdns-update", "confctl", "lvsd", "trafficctl"}
	units    = []string{"authdns.service", "lvsd-realserver.service", "lvsd.service", "trafficctl.service"}
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func makeInstall(t *testing.T, vars ...string) {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-C", repoRoot(), "--no-print-directory", "install"}, vars...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install %v: %v\n%s", vars, err, out)
	}
}

// With DESTDIR, everything lands under it, and the units name the
// binaries where they will be once the tree is copied to /.
func TestInstallDestdir(t *testing.T) {
	dest := t.TempDir()
	makeInstall(t, "DESTDIR="+dest)
	for _, c := range commands {
		for _, f := range []string{"usr/local/bin/" + c, "usr/local/share/man/man1/" + c + ".1"} {
			if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
				t.Error(err)
			}
		}
	}
	for _, u := range units {
		b, err := os.ReadFile(filepath.Join(dest, "usr/local/lib/systemd/system", u))
		if err != nil {
			t.Fatal(err)
		}
		// lvsd-realserver.service runs lvsd: a unit names its binary first.
		name, _, _ := strings.Cut(strings.TrimSuffix(u, ".service"), "-")
		if !strings.Contains(string(b), "\nExecStart=/usr/local/bin/"+name+" ") || strings.Contains(string(b), "@BINDIR@") {
			t.Errorf("%s: ExecStart does not name /usr/local/bin/%s:\n%s", u, name, b)
		}
	}
}

// verify runs systemd-analyze verify on units with the man pages under
// man; its warnings (an unknown key, a bad value) leave the exit status 0,
// so any output fails too.
func verify(t *testing.T, man string, units ...string) (string, error) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze not installed (make test installs it: deps-install): %v", err)
	}
	cmd := exec.Command(analyze, append([]string{"verify"}, units...)...)
	cmd.Env = append(os.Environ(), "MANPATH="+man)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Installed with PREFIX set (no DESTDIR), the units name binaries that
// exist, so verify checks them as systemd would load them.
func TestUnitsVerify(t *testing.T) {
	prefix := t.TempDir()
	makeInstall(t, "PREFIX="+prefix)
	dir := filepath.Join(prefix, "lib/systemd/system")
	var paths []string
	for _, u := range units {
		paths = append(paths, filepath.Join(dir, u))
	}
	if out, err := verify(t, filepath.Join(prefix, "share/man"), paths...); err != nil || out != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	// The check can fail: a misspelt key is reported.
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "authdns.service")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(b), "ProtectSystem=", "ProtectSystm=", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := verify(t, filepath.Join(prefix, "share/man"), bad); !strings.Contains(out, "ProtectSystm") {
		t.Errorf("a misspelt key passed verify: %q", out)
	}
}
