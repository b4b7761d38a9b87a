// Package clitest holds the test that keeps a command's committed man
// page equal to the one its Page renders.
package clitest

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/geotraffic/geotraffic/internal/cli"
)

// UpdateEnv, set to 1, makes ManPage rewrite the page instead of failing:
// `make man` runs the tests so.
const UpdateEnv = "GEOTRAFFIC_UPDATE_MAN"

// ManPage fails t when the man page at path differs from p's rendering.
func ManPage(t *testing.T, p *cli.Page, path string) {
	t.Helper()
	var b bytes.Buffer
	p.WriteMan(&b)
	if os.Getenv(UpdateEnv) == "1" {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make man`)", err)
	}
	if !bytes.Equal(old, b.Bytes()) {
		t.Errorf("%s is stale: the command's --help description changed; run `make man` and commit the result", path)
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		return // make test installs it (man-db); the source was compared above
	}
	// -ww: every warning; -z: no output but the warnings.
	if out, err := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff %s: %v\n%s", path, err, out)
	}
}
