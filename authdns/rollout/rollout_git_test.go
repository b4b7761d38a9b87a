package rollout

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	args = append([]string{"-C", dir, "-c", "user.name=test", "-c", "user.email=test@example.org"}, args...)
	if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// The data directory may sit under a dot-directory of the repository
// (repo/.dns): a change inside it is still a dirty tree, while a dotfile
// inside it is still ignored.
func TestCleanTreeUnderDotDirectory(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	for _, sub := range []string{"dns", ".dns", "a/.b/dns"} {
		t.Run(sub, func(t *testing.T) {
			repo := t.TempDir()
			data := filepath.Join(repo, sub)
			zone := filepath.Join(data, "zones", "example.org")
			os.MkdirAll(filepath.Dir(zone), 0o755)
			os.WriteFile(zone, []byte("v1\n"), 0o644)
			git(t, repo, "init", "-q")
			git(t, repo, "add", "-A")
			git(t, repo, "commit", "-q", "-m", "initial")
			if err := cleanTree(data); err != nil {
				t.Fatalf("clean tree refused: %v", err)
			}
			os.WriteFile(filepath.Join(data, "zones", ".example.org.swp"), []byte("x"), 0o644)
			if err := cleanTree(data); err != nil {
				t.Fatalf("an untracked dotfile was refused: %v", err)
			}
			os.WriteFile(zone, []byte("v2\n"), 0o644)
			if err := cleanTree(data); err == nil || !strings.Contains(err.Error(), "zones/example.org") {
				t.Fatalf("modified zone: %v", err)
			}
			git(t, repo, "commit", "-q", "-a", "-m", "v2")
			os.WriteFile(filepath.Join(data, "zones", "new.example"), []byte("x"), 0o644)
			if err := cleanTree(data); err == nil || !strings.Contains(err.Error(), "zones/new.example") {
				t.Fatalf("untracked zone: %v", err)
			}
		})
	}
}
