package authdns

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

func TestBundleValidate(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"zones/example.org", true},
		{"admin_state", true},
		{"/etc/passwd", false},
		{"../x", false},
		{"zones/../../x", false},
		{"zones/.hidden", false},
		{".git/config", false},
		{"a//b", false},
		{"", false},
	} {
		b := &Bundle{Files: []File{{Path: tc.path}}}
		if err := b.Validate(); (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok=%v", tc.path, err, tc.ok)
		}
	}
	dup := &Bundle{Files: []File{{Path: "a"}, {Path: "a"}}}
	if dup.Validate() == nil {
		t.Error("a repeated path was accepted")
	}
}

func TestBundleReadSkipsDotfilesAndDigests(t *testing.T) {
	dir := t.TempDir()
	writeData(t, dir, 1, "")
	os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
	os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "zones", ".example.com.swp"), []byte("x"), 0o644)
	b, err := ReadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range b.Files {
		paths = append(paths, f.Path)
	}
	want := []string{"admin_state", "geoip.yaml", "nets.yaml", "zones/example.com"}
	if len(paths) != len(want) {
		t.Fatalf("paths %v, want %v", paths, want)
	}
	for i := range want {
		if paths[i] != want[i] {
			t.Fatalf("paths %v, want %v", paths, want)
		}
	}
	d1 := b.Digest()
	b.Files[0].Data = []byte("site/x => DOWN\n")
	if b.Digest() == d1 {
		t.Error("the digest ignores content")
	}
}

// Abort takes an id: an id-less or foreign abort leaves the staged bundle
// for its owner to commit.
func TestAbortOnlyByID(t *testing.T) {
	d, _ := testDaemon(t, "")
	good := bundleOf(t, 2, "new IN A 192.0.2.2\n")
	res, err := d.StageRequest(&StageRequest{ID: "theirs", Before: d.State().DataDigest, Bundle: *good})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Abort(""); err == nil {
		t.Error("an abort without an id was accepted")
	}
	if err := d.Abort("mine"); !errors.Is(err, ErrNotStaged) {
		t.Errorf("abort of another id: %v", err)
	}
	if st := d.Status(); st.Staged == nil || st.Staged.ID != "theirs" {
		t.Fatalf("staged after foreign aborts: %+v", st.Staged)
	}
	if err := d.Commit(res.ID); err != nil {
		t.Fatal(err)
	}
	if d.State().DataDigest != good.Digest() {
		t.Error("the owner's commit did not take effect")
	}
	if _, err := d.StageRequest(&StageRequest{ID: "", Bundle: *good}); err == nil {
		t.Error("a stage without an id was accepted")
	}
}

// A stage whose "before" digest is not what the server serves is a
// conflict, and stages nothing: the operator's diff is stale.
func TestStageRefusesStaleBefore(t *testing.T) {
	d, _ := testDaemon(t, "")
	before := d.State().DataDigest
	good := bundleOf(t, 2, "new IN A 192.0.2.2\n")
	_, err := d.StageRequest(&StageRequest{ID: "late", Before: "0123456789abcdef", Bundle: *good})
	var conflict *ConflictError
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "changed since the diff") {
		t.Fatalf("stale before: %v", err)
	}
	if d.Status().Staged != nil || d.State().DataDigest != before {
		t.Fatal("a refused stage staged or changed something")
	}
	if _, err := d.StageRequest(&StageRequest{ID: "fresh", Before: before, Bundle: *good}); err != nil {
		t.Fatal(err)
	}
}

// An abort that overtakes its own stage (the client gave up while the
// server was still reading the bundle) makes that stage refused when it
// arrives, so nothing is left staged.
func TestAbortBeforeStageRefusesTheStage(t *testing.T) {
	d, _ := testDaemon(t, "")
	if err := d.Abort("early"); !errors.Is(err, ErrNotStaged) {
		t.Fatalf("abort of an unknown id: %v", err)
	}
	var conflict *ConflictError
	if _, err := d.StageRequest(&StageRequest{ID: "early", Bundle: *bundleOf(t, 2, "")}); !errors.As(err, &conflict) {
		t.Fatalf("stage after its abort: %v", err)
	}
	if d.Status().Staged != nil {
		t.Fatal("a bundle aborted before its stage is staged")
	}
}

// A data directory reached through a symlink is read through it; a symlink
// to a directory inside it is listed by SymlinkedDirs, since ReadBundle
// leaves its content out.
func TestBundleSymlinks(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "release1")
	writeData(t, real, 1, "")
	link := filepath.Join(root, "data")
	os.Symlink("release1", link)
	direct, _ := ReadBundle(real)
	via, err := ReadBundle(link)
	if err != nil || via.Digest() != direct.Digest() || len(via.Files) == 0 {
		t.Fatalf("reading through a symlinked root: %d files, %v", len(via.Files), err)
	}
	if links, err := SymlinkedDirs(link); err != nil || len(links) != 0 {
		t.Fatalf("SymlinkedDirs of a plain tree: %v %v", links, err)
	}
	os.Rename(filepath.Join(real, "zones"), filepath.Join(root, "zones"))
	os.Symlink("../zones", filepath.Join(real, "zones"))
	links, err := SymlinkedDirs(link)
	if err != nil || len(links) != 1 || links[0] != "zones" {
		t.Fatalf("SymlinkedDirs = %v, %v; want [zones]", links, err)
	}
}

// A staged bundle past StageTimeout cannot be committed, is not shown in
// status, and its directory is removed — on the next call, and by its
// timer when nobody calls.
func TestStagedBundleExpires(t *testing.T) {
	d, dir := testDaemon(t, "")
	staged := func() string { // the staged set's directory, "" once gone
		m, _ := filepath.Glob(filepath.Join(dir, ".data.set-*"))
		if len(m) == 0 {
			return ""
		}
		return m[0]
	}
	now := time.Now()
	d.now = func() time.Time { return now }
	before := d.State().DataDigest
	res, err := d.StageRequest(&StageRequest{ID: "slow", Before: before, Bundle: *bundleOf(t, 2, "")})
	if err != nil {
		t.Fatal(err)
	}
	if staged() == "" {
		t.Fatal("no staged set beside the data directory")
	}
	now = now.Add(d.StageTimeout)
	if st := d.Status(); st.Staged != nil {
		t.Errorf("status shows an expired bundle: %+v", st.Staged)
	}
	if p := staged(); p != "" {
		t.Errorf("the expired bundle's directory is still there: %s", p)
	}
	if err := d.Commit(res.ID); !errors.Is(err, ErrNotStaged) {
		t.Fatalf("commit of an expired bundle: %v", err)
	}
	if d.State().DataDigest != before {
		t.Fatal("an expired bundle was committed")
	}

	// Expired in Commit itself (no status call first).
	if _, err := d.StageRequest(&StageRequest{ID: "slow2", Before: before, Bundle: *bundleOf(t, 3, "")}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(d.StageTimeout + time.Second)
	if err := d.Commit("slow2"); !errors.Is(err, ErrNotStaged) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("commit of an expired bundle: %v", err)
	}
	if p := staged(); p != "" || d.State().DataDigest != before {
		t.Fatalf("after the refused commit: staged dir %q, digest changed %v", p, d.State().DataDigest != before)
	}

	// Nobody calls: the timer removes it.
	d.now = nil
	d.StageTimeout = time.Millisecond
	if _, err := d.StageRequest(&StageRequest{ID: "forgotten", Before: before, Bundle: *bundleOf(t, 4, "")}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the condition", func() bool { return staged() == "" })
}
