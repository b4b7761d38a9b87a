package authdns

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replaceFile writes path by rename, as operators' editors do.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// An operator edits admin_state on the server after a bundle was staged:
// the commit is refused with 409, naming the file and line, and nothing of
// the bundle is installed or served; the edit stays in force.
func TestCommitRefusedWhenAdminStateChangedAfterStage(t *testing.T) {
	for _, tc := range []struct {
		name, before, after string
		want                []string
	}{
		{"a drain added", "# forced states\n", "# forced states\nsite/dc1 => DOWN\n",
			[]string{"admin_state:2: + site/dc1 => DOWN (added)"}},
		{"a drain lifted", "site/dc2 => DOWN\nsite/dc1 => DOWN\n", "site/dc2 => DOWN\n",
			[]string{"admin_state: - site/dc1 => DOWN (removed; it was line 2)"}},
		{"a state changed", "site/dc1 => DOWN\n", "site/dc1 => UP\n",
			[]string{"admin_state: - site/dc1 => DOWN (removed; it was line 1)", "admin_state:1: + site/dc1 => UP (added)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, dir := testDaemon(t, "")
			admin := filepath.Join(dir, "data", "admin_state")
			replaceFile(t, admin, tc.before)
			c := NewClient(filepath.Join(dir, "control.sock"), "", 10*time.Second)
			ctx := context.Background()
			st, err := c.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			bundle := bundleOf(t, 2, "new IN A 192.0.2.2\n")
			if _, err := c.Stage(ctx, &StageRequest{ID: "roll", Before: st.DataDigest, Bundle: *bundle}); err != nil {
				t.Fatal(err)
			}
			replaceFile(t, admin, tc.after)
			_, err = c.Commit(ctx, "roll")
			var api *APIError
			if !errors.As(err, &api) || api.Status != http.StatusConflict {
				t.Fatalf("commit after an admin_state edit: %v, want 409", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), admin+strings.TrimPrefix(w, "admin_state")) {
					t.Errorf("the refusal lacks %q:\n%v", w, err)
				}
			}
			if got := askA(t, d, "new.example.com."); got != "NXDOMAIN" {
				t.Errorf("the refused bundle is served: new.example.com = %s", got)
			}
			if data, _ := os.ReadFile(admin); string(data) != tc.after {
				t.Errorf("admin_state on disk is %q, want the operator's %q", data, tc.after)
			}
			if onDisk, _ := ReadBundle(filepath.Join(dir, "data")); onDisk.Digest() == bundle.Digest() {
				t.Error("the bundle was installed")
			}
			if s := d.Status(); s.Staged != nil {
				t.Errorf("the refused bundle is still staged: %+v", s.Staged)
			}
		})
	}
}

// The data digest a server reports covers admin_state as it is on disk,
// without a reload: a diff computed before a local edit is stale, and the
// stage is refused.
func TestDataDigestFollowsAdminStateOnDisk(t *testing.T) {
	d, dir := testDaemon(t, "")
	data := filepath.Join(dir, "data")
	before := d.Status().DataDigest
	replaceFile(t, filepath.Join(data, "admin_state"), "site/dc1 => DOWN\n")
	onDisk, _ := ReadBundle(data)
	info := d.DataInfo()
	if s := d.Status(); s.DataDigest == before || s.DataDigest != onDisk.Digest() || info.Digest != onDisk.Digest() {
		t.Fatalf("digest after an admin_state edit: status %s, data %s, want the directory's %s (was %s)",
			short(s.DataDigest), short(info.Digest), short(onDisk.Digest()), short(before))
	}
	for i, f := range onDisk.Manifest() {
		if info.Files[i] != f {
			t.Errorf("manifest %+v, on disk %+v", info.Files[i], f)
		}
	}
	var conflict *ConflictError
	_, err := d.StageRequest(&StageRequest{ID: "stale", Before: before, Bundle: *bundleOf(t, 2, "")})
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "admin_state") {
		t.Fatalf("stage against the digest before the edit: %v", err)
	}
}

func TestLineChanges(t *testing.T) {
	for _, tc := range []struct {
		name, old, now string
		want           []string
	}{
		{"added", "a\n", "a\nb\n", []string{"  f:2: + b (added)"}},
		{"removed", "a\nb\n", "b\n", []string{"  f: - a (removed; it was line 1)"}},
		{"duplicate removed", "a\na\n", "a\n", []string{"  f: - a (removed; it was line 2)"}},
		{"newline only", "a", "a\n", []string{"  f: whitespace or line endings changed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := lineChanges("f", tc.old, tc.now)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
