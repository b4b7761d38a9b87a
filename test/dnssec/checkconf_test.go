package dnssece2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkconf runs `authdns checkconf` and returns its output and whether
// it passed.
func (s *setup) checkconf() (string, bool) {
	s.t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "authdns"), "checkconf", "--config", filepath.Join(s.dir, "authdns.yaml")).CombinedOutput()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		s.t.Fatal(err)
	}
	return string(out), err == nil
}

// checkconf checks the keys against the zones served: a key of another
// zone fails it, naming the file; keys that never sign pass with a
// warning.
func TestCheckconfChecksKeys(t *testing.T) {
	s := newSetup(t, "")
	s.keygen("--zsk", "--activate", "none")
	if out, ok := s.checkconf(); !ok || !strings.Contains(out, "none signs now") || !strings.Contains(out, "zone=example.org.") {
		t.Fatalf("a zone whose only key never signs: want OK with a warning, got ok=%v:\n%s", ok, out)
	}
	s.keygen()
	if out, ok := s.checkconf(); !ok || strings.Contains(out, "none signs now") {
		t.Fatalf("a zone with a CSK: want OK without a warning, got ok=%v:\n%s", ok, out)
	}
	other := strings.TrimSpace(s.authdns("dnssec", "keygen", "example.com", "--dir", s.keys))
	out, ok := s.checkconf()
	if ok || !strings.Contains(out, filepath.Join(s.keys, other)+".key: keys of zone example.com., which is not served") {
		t.Fatalf("a key of a zone not served: want an error naming its file, got ok=%v:\n%s", ok, out)
	}
}
