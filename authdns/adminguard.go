package authdns

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Operators drain a site on one server by editing DIR/admin_state there,
// between rollouts. A rollout must neither miss such an edit in its diff
// nor overwrite one made after it: so the data digest a server reports
// covers admin_state as it is on disk now, and a commit is refused when the
// file changed after the stage.

// adminPath is admin_state's path inside a data directory (a bundle path).
const adminPath = "admin_state"

// adminSnap is the admin_state file of a data directory as read at one
// moment: its bytes, or absent.
type adminSnap struct {
	present bool
	data    []byte
}

func readAdminSnap(path string) (adminSnap, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return adminSnap{}, nil
	}
	if err != nil {
		return adminSnap{}, fmt.Errorf("admin_state: %w", err)
	}
	return adminSnap{present: true, data: data}, nil
}

func (a adminSnap) same(b adminSnap) bool {
	return a.present == b.present && bytes.Equal(a.data, b.data)
}

// withAdmin returns files (a data directory's manifest, in path order)
// with the admin_state entry replaced by snap's.
func (a adminSnap) withAdmin(files []FileInfo) []FileInfo {
	out := make([]FileInfo, 0, len(files)+1)
	for _, f := range files {
		if f.Path != adminPath {
			out = append(out, f)
		}
	}
	if a.present {
		sum := sha256.Sum256(a.data)
		out = append(out, FileInfo{Path: adminPath, Size: len(a.data), SHA256: hex.EncodeToString(sum[:])})
		sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	}
	return out
}

// liveData is st's data directory as a rollout must see it: the manifest
// and digest loaded, with admin_state as it is on disk now. Without
// `data:` there is nothing to report. If the file cannot be read the loaded
// manifest stands (a stage then reads it again and fails on its own).
func liveData(st *State) ([]FileInfo, string, adminSnap) {
	if st.Config.Data == "" {
		return st.DataFiles, st.DataDigest, adminSnap{}
	}
	snap, err := readAdminSnap(st.Config.AdminState)
	if err != nil {
		return st.DataFiles, st.DataDigest, adminSnap{}
	}
	files := snap.withAdmin(st.DataFiles)
	return files, DigestOf(files), snap
}

// adminChangedError says which lines of the admin_state file changed
// between the stage and the commit: committing would revert them.
func adminChangedError(file string, staged, now adminSnap) error {
	changes := lineChanges(file, string(staged.data), string(now.data))
	return &ConflictError{fmt.Sprintf("commit refused: %s changed on this server after the stage, and committing would revert it:\n%s\n"+
		"nothing changed and the staged bundle was dropped: put the change into the rolled-out admin_state too (or undo it here), then roll out again",
		file, strings.Join(changes, "\n"))}
}

// maxLineChanges bounds the lines an error names.
const maxLineChanges = 10

// lineChanges lists, as file:line: +|- text, the lines of now that old did
// not have and the lines of old that now lacks (as multisets).
func lineChanges(file, old, now string) []string {
	oldLines, nowLines := splitLines(old), splitLines(now)
	count := map[string]int{}
	for _, l := range oldLines {
		count[l]++
	}
	var added []string
	for i, l := range nowLines {
		if count[l] > 0 {
			count[l]--
			continue
		}
		added = append(added, fmt.Sprintf("  %s:%d: + %s (added)", file, i+1, l))
	}
	var removed []string
	for i := len(oldLines) - 1; i >= 0; i-- { // the last copies are the ones gone
		if l := oldLines[i]; count[l] > 0 {
			count[l]--
			removed = append([]string{fmt.Sprintf("  %s: - %s (removed; it was line %d)", file, l, i+1)}, removed...)
		}
	}
	out := append(removed, added...)
	if len(out) == 0 {
		out = []string{"  " + file + ": whitespace or line endings changed"}
	}
	if len(out) > maxLineChanges {
		out = append(out[:maxLineChanges], fmt.Sprintf("  ... and %d more", len(out)-maxLineChanges))
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// checkUnchangedSinceStage refuses a commit that would silently revert
// what changed on this server after the stage: its admin_state file (read
// from disk now, as a drain written a moment ago may not be applied yet),
// or the data directory reloaded with other content.
func (d *Daemon) checkUnchangedSinceStage(cur *State, p *staged) error {
	now, err := readAdminSnap(cur.Config.AdminState)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if !now.same(p.admin) {
		return adminChangedError(cur.Config.AdminState, p.admin, now)
	}
	if live := DigestOf(now.withAdmin(cur.DataFiles)); live != p.before {
		return &ConflictError{fmt.Sprintf("commit refused: the data directory changed (reloaded from disk) since this bundle was staged: it serves %s, staged against %s; nothing changed: stage it again",
			short(live), short(p.before))}
	}
	return nil
}
