// Package testutil holds the small helpers the end-to-end test packages
// share: copying a configuration tree, and a log buffer safe to read while
// a child process writes to it.
package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testlog"
)

// CopyTree copies the files under src to dst, creating directories.
func CopyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// SyncBuffer is the shared test log sink (internal/testlog), under the
// name the end-to-end tests use.
type SyncBuffer = testlog.Buffer
