// Package testbin builds the project's commands for end-to-end tests, so
// every test package starts the real binaries built the same way.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

const module = "github.com/geotraffic/geotraffic"

// Build compiles each command of cmd/ (e.g. "authdns") into dir, stamped
// with the version "e2e-test".
func Build(dir string, cmds ...string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	for _, c := range cmds {
		build := exec.Command(gobin, "build", "-ldflags", "-X "+module+"/internal/version.Version=e2e-test",
			"-o", filepath.Join(dir, c), module+"/cmd/"+c)
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/%s: %v\n%s", c, err, out)
		}
	}
	return nil
}

// Main is a TestMain body: it builds cmds into a fresh directory (mode
// 0755, so tests may run a binary as another user), stores the directory
// in *dir, runs the tests, removes the directory and exits.
func Main(m *testing.M, dir *string, cmds ...string) { run(m, dir, nil, cmds) }

// MainThen is Main with a hook that runs after the build and before the
// tests, for packages that keep each binary's path in its own variable.
func MainThen(m *testing.M, dir *string, ready func(), cmds ...string) { run(m, dir, ready, cmds) }

func run(m *testing.M, dir *string, ready func(), cmds []string) {
	d, err := os.MkdirTemp("", "geotraffic-e2e-")
	if err == nil {
		err = os.Chmod(d, 0o755)
	}
	if err == nil {
		err = Build(d, cmds...)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbin:", err)
		os.RemoveAll(d)
		os.Exit(1)
	}
	*dir = d
	if ready != nil {
		ready()
	}
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}
