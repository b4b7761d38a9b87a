package bgpe2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the lvsd binary built by the end-to-end tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if lvsdPath != "" {
		os.RemoveAll(filepath.Dir(lvsdPath))
	}
	os.Exit(code)
}
