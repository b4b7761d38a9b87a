package authdns

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A data directory DIR is replaced as a whole: each staged bundle is
// written to a new directory beside it, .DIR.set-N, made durable, and a
// commit switches it in with one rename (see switch.go). A crash or power
// loss at any point leaves DIR holding the old set or the new one, never a
// mix; what is left beside it is removed at the next start or stage.

// setDirPrefix and linkPrefix name the entries beside DIR that authdns
// owns: data sets, and symlinks being switched in.
func setDirPrefix(live string) string { return "." + filepath.Base(live) + ".set-" }
func linkPrefix(live string) string   { return "." + filepath.Base(live) + ".link-" }

// legacyStaged is where older versions staged a bundle.
func legacyStaged(live string) string {
	return filepath.Join(filepath.Dir(live), "."+filepath.Base(live)+".staged")
}

// newSetDir returns a fresh, not yet existing path for a data set beside
// live.
func newSetDir(live string, now time.Time) string {
	return filepath.Join(filepath.Dir(live), setDirPrefix(live)+strconv.FormatInt(now.UnixNano(), 10))
}

// writeSet writes b into dir (which must not exist) and makes it durable:
// every file and directory synced, and the parent, so the set survives a
// power loss once this returns. step is the tests' failpoint.
func writeSet(b *Bundle, dir string, step func(string)) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for _, f := range b.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeSynced(p, f.Data); err != nil {
			return err
		}
	}
	step("stage-written")
	if err := syncDirs(dir); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

func writeSynced(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", p, err)
	}
	return f.Close()
}

// syncDirs fsyncs every directory under root, root included, so the
// entries made in them are durable.
func syncDirs(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return syncDir(p)
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// carryDotfiles copies the dotfiles and dot-directories of the live set
// (never part of a bundle: an operator's .git, editor files) into the new
// set, by hard link where it can, so a switch does not lose them.
func carryDotfiles(live, next string) error {
	root, err := filepath.EvalSymlinks(live)
	if err != nil {
		return err
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		if !strings.HasPrefix(d.Name(), ".") {
			return nil // data: the new set has its own
		}
		rel, _ := filepath.Rel(root, p)
		if err := copyTree(p, filepath.Join(next, rel)); err != nil {
			return fmt.Errorf("keeping %s: %w", p, err)
		}
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
}

// copyTree copies src (a file, symlink or directory) to dst, linking files.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, out)
		case d.Type().IsRegular():
			if os.Link(p, out) == nil {
				return nil
			}
			return copyFile(p, out)
		}
		return nil // sockets, fifos: not data
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// cleanSets removes what earlier stages and commits left beside live: data
// sets other than the one live points to, symlinks being switched in, and
// the staging directory of older versions. keep, if set, is spared too (a
// bundle still staged).
func cleanSets(live, keep string, log *slog.Logger) {
	parent := filepath.Dir(live)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	current := ""
	if target, err := os.Readlink(live); err == nil && !strings.Contains(target, "/") {
		current = target // a relative symlink beside live: one of ours
	}
	for _, e := range entries {
		name := e.Name()
		p := filepath.Join(parent, name)
		ours := strings.HasPrefix(name, setDirPrefix(live)) || strings.HasPrefix(name, linkPrefix(live)) || p == legacyStaged(live)
		if !ours || name == current || p == keep {
			continue
		}
		if err := os.RemoveAll(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("could not remove a leftover data set", "path", p, "err", err)
			continue
		}
		log.Info("removed a leftover data set", "path", p)
	}
}
