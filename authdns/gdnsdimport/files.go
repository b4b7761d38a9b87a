package gdnsdimport

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// copyZones copies GDNSD_DIR/zones into dst byte for byte: subdirectories
// (for $INCLUDE) and symlinks (zone aliases) kept. A symlink leading out
// of zones/ would break in the new place: its target's content is copied.
func (t *translator) copyZones(dst string) error {
	src := filepath.Join(t.from, "zones")
	if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
		t.notef(conf.Pos{File: src}, "", Warning, "no zones directory: the output has an empty one")
		return os.Mkdir(dst, 0o755)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			return t.copyLink(src, p, out)
		case d.Type().IsRegular():
			_, err := copyFile(p, out)
			return err
		}
		return nil
	})
}

// copyLink keeps a relative symlink that stays inside zones/, and copies
// the target of any other.
func (t *translator) copyLink(root, p, out string) error {
	target, err := os.Readlink(p)
	if err != nil {
		return err
	}
	if !filepath.IsAbs(target) {
		in, err := filepath.Rel(root, filepath.Join(filepath.Dir(p), target))
		if err == nil && !strings.HasPrefix(in, "..") {
			return os.Symlink(target, out)
		}
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.notef(conf.Pos{File: p}, "", Warning, "a symlink to %s, which does not exist: left out", target)
		return nil
	}
	if fi.IsDir() {
		t.notef(conf.Pos{File: p}, "", Warning, "a symlink to the directory %s, outside zones/: left out", target)
		return nil
	}
	t.notef(conf.Pos{File: p}, "", Warning, "a symlink to %s, outside zones/: its content is copied", target)
	_, err = copyFile(p, out)
	return err
}

// copyFile copies src to dst with its permission bits; a missing src is
// not an error (false).
func copyFile(src, dst string) (bool, error) {
	data, err := os.ReadFile(src)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(src); err == nil {
		mode = fi.Mode().Perm()
	}
	return true, os.WriteFile(dst, data, mode)
}
