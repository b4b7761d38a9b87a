package authdns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// dataSwitch replaces the live data set (the configured `data:` path) by a
// complete, synced set beside it with one rename:
//
//   - live is a symlink: a new symlink to the set is renamed over it;
//   - live is a directory: the two directories are exchanged atomically
//     (renameat2 RENAME_EXCHANGE), so the path stays a directory.
//
// Either way the path names the old set or the new one at every instant,
// and on disk after a crash.
type dataSwitch struct {
	live, next string
	step       func(string) // the tests' failpoint

	old     string // where the previous set is once switched
	oldLink string // symlink mode: the symlink's previous target
	isLink  bool
}

// switchIn makes next the live set.
func (s *dataSwitch) switchIn() error {
	fi, err := os.Lstat(s.live)
	if err != nil {
		return err
	}
	s.isLink = fi.Mode()&os.ModeSymlink != 0
	if !s.isLink {
		if err := matchDirMode(fi, s.next); err != nil {
			return err
		}
		if err := exchange(s.next, s.live); err != nil {
			return err
		}
		s.old = s.next
		s.step("switched")
		return nil
	}
	if s.oldLink, err = os.Readlink(s.live); err != nil {
		return err
	}
	s.old = s.oldLink
	if !filepath.IsAbs(s.old) {
		s.old = filepath.Join(filepath.Dir(s.live), s.old)
	}
	if err := s.pointTo(filepath.Base(s.next)); err != nil {
		return err
	}
	s.step("switched")
	return nil
}

// pointTo re-points the live symlink by renaming a new one over it.
func (s *dataSwitch) pointTo(target string) error {
	tmp := filepath.Join(filepath.Dir(s.live), linkPrefix(s.live)+fmt.Sprint(time.Now().UnixNano()))
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	s.step("linked")
	if err := os.Rename(tmp, s.live); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// undo switches the previous set back in (the new one stays at next).
func (s *dataSwitch) undo() error {
	var err error
	if s.isLink {
		err = s.pointTo(s.oldLink)
	} else {
		err = exchange(s.next, s.live)
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(s.live))
}

// finish makes the switch durable and removes the previous set, if it is
// one of ours (an operator's release directory a symlink pointed to is
// left alone).
func (s *dataSwitch) finish() error {
	if err := syncDir(filepath.Dir(s.live)); err != nil {
		return err
	}
	s.step("synced")
	ours := !s.isLink || filepath.Dir(s.old) == filepath.Dir(s.live) && strings.HasPrefix(filepath.Base(s.old), setDirPrefix(s.live))
	if ours {
		if err := os.RemoveAll(s.old); err != nil {
			return fmt.Errorf("removing the previous data set %s: %w", s.old, err)
		}
	}
	s.step("removed")
	return nil
}

// exchange swaps two directories atomically.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("the filesystem of %s cannot exchange two directories atomically (renameat2 RENAME_EXCHANGE: %w); make it a symlink to a directory beside it (mv %s %s.1 && ln -s %s.1 %s) and commits switch the symlink instead",
			b, err, b, b, filepath.Base(b), b)
	}
	if err != nil {
		return fmt.Errorf("exchanging %s and %s: %w", a, b, err)
	}
	return nil
}

// matchDirMode gives the new set the live directory's permissions and,
// when allowed, its owner.
func matchDirMode(live os.FileInfo, next string) error {
	if err := os.Chmod(next, live.Mode().Perm()); err != nil {
		return err
	}
	if st, ok := live.Sys().(*syscall.Stat_t); ok {
		_ = os.Lchown(next, int(st.Uid), int(st.Gid)) // only root may; the mode is what matters
	}
	return nil
}

// installSet switches the staged set p.dir in as cur's data directory.
// The admin_state file is checked again once the old set is out of the
// path: an operator's edit that landed in it after the commit's first
// check switches the old set back and refuses the commit.
func (d *Daemon) installSet(cur *State, p *staged) error {
	live := cur.Config.Data
	d.step("checked")
	if err := carryDotfiles(live, p.dir); err != nil {
		return err
	}
	if err := syncDirs(p.dir); err != nil {
		return err
	}
	d.step("dotfiles")
	sw := &dataSwitch{live: live, next: p.dir, step: d.step}
	if err := sw.switchIn(); err != nil {
		return err
	}
	late, err := readAdminSnap(filepath.Join(sw.old, adminPath))
	if err == nil && !late.same(p.admin) {
		if uerr := sw.undo(); uerr != nil {
			return fmt.Errorf("admin_state changed during the commit, and switching the previous data set back failed: %w", uerr)
		}
		return adminChangedError(cur.Config.AdminState, p.admin, late)
	}
	// Switched: the new set is the live one whatever happens next, so
	// what fails now is reported but does not fail the commit.
	if err := sw.finish(); err != nil {
		d.log.Warn("commit: the new data set is in place, but", "err", err)
	}
	return nil
}
