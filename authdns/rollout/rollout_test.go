package rollout

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/authdns"
)

// fakeServer speaks the control API on a Unix socket, keeping one staged
// bundle by id as the daemon does. It is a unit-test stand-in for failures
// a real server cannot be made to produce on cue (a commit failing after
// the stage succeeded, a reply lost after the work was done); test/update
// covers the real daemon.
type fakeServer struct {
	sock                     string
	failStage, failCommit    bool
	failAbort                bool
	holdStage                bool // stage, then keep the reply until the client gives up
	slowCommitReply          bool // commit, then keep the reply until the client gives up
	staged, committed, abort atomic.Int32
	stageArrived             chan struct{} // closed when a bundle is staged

	mu            sync.Mutex
	digest        string // data digest served
	pending       string // staged bundle id
	pendingDigest string
	abortIDs      []string
	tombstones    map[string]bool // aborted before their stage arrived
}

func (f *fakeServer) state() (digest, pending string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.digest, f.pending
}

func startFake(t *testing.T, f *fakeServer) {
	t.Helper()
	f.sock = filepath.Join(t.TempDir(), "c.sock")
	if f.digest == "" {
		f.digest = "old"
	}
	f.stageArrived = make(chan struct{})
	var arrived sync.Once
	ln, err := net.Listen("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, code int, v any) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /v1/data", func(w http.ResponseWriter, r *http.Request) {
		digest, _ := f.state()
		reply(w, 200, authdns.DataInfo{Data: "/srv/data", Digest: digest, Zones: []authdns.ZoneInfo{{Name: "example.com.", Serial: 1}}})
	})
	mux.HandleFunc("POST /v1/stage", func(w http.ResponseWriter, r *http.Request) {
		var req authdns.StageRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.ID == "" || req.Before == "" {
			reply(w, 400, map[string]string{"error": "bad stage request"})
			return
		}
		if f.failStage {
			reply(w, 422, map[string]string{"error": "zones/example.com:3: bad"})
			return
		}
		f.mu.Lock()
		switch {
		case f.pending != "":
			f.mu.Unlock()
			reply(w, 409, map[string]string{"error": "bundle " + f.pending + " is waiting for commit or abort"})
			return
		case f.tombstones[req.ID]:
			f.mu.Unlock()
			reply(w, 409, map[string]string{"error": "aborted before its stage arrived"})
			return
		case req.Before != f.digest:
			f.mu.Unlock()
			reply(w, 409, map[string]string{"error": "this server's data changed since the diff was computed"})
			return
		}
		f.pending, f.pendingDigest = req.ID, req.Bundle.Digest()
		f.mu.Unlock()
		f.staged.Add(1)
		arrived.Do(func() { close(f.stageArrived) })
		if f.holdStage {
			<-r.Context().Done()
			return
		}
		reply(w, 200, authdns.StageResult{ID: req.ID, Digest: req.Bundle.Digest()})
	})
	mux.HandleFunc("POST /v1/commit", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ ID string }
		json.NewDecoder(r.Body).Decode(&req)
		if f.failCommit {
			reply(w, 500, map[string]string{"error": "disk full"})
			return
		}
		f.mu.Lock()
		if req.ID == "" || req.ID != f.pending {
			f.mu.Unlock()
			reply(w, 404, map[string]string{"error": "no such staged bundle"})
			return
		}
		f.digest, f.pending = f.pendingDigest, ""
		digest := f.digest
		f.mu.Unlock()
		f.committed.Add(1)
		if f.slowCommitReply {
			<-r.Context().Done()
			return
		}
		reply(w, 200, authdns.Status{DataDigest: digest})
	})
	mux.HandleFunc("POST /v1/abort", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ ID string }
		json.NewDecoder(r.Body).Decode(&req)
		f.abort.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.abortIDs = append(f.abortIDs, req.ID)
		switch {
		case req.ID == "":
			reply(w, 400, map[string]string{"error": "id required"})
		case f.failAbort:
			reply(w, 500, map[string]string{"error": "abort broke"})
		case req.ID != f.pending:
			if f.tombstones == nil {
				f.tombstones = map[string]bool{}
			}
			f.tombstones[req.ID] = true
			reply(w, 404, map[string]string{"error": "no such staged bundle"})
		default:
			f.pending = ""
			reply(w, 200, authdns.Status{})
		}
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		digest, _ := f.state()
		reply(w, 200, authdns.Status{DataDigest: digest})
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func dataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.WriteFile(filepath.Join(dir, "zones", "example.com"), []byte("$TTL 300\n@ IN SOA ns1 h 2 1 1 1 1\n@ IN NS ns1\nns1 IN A 192.0.2.1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "admin_state"), []byte("site/x => DOWN\n"), 0o644)
	return dir
}

func runWith(t *testing.T, fakes ...*fakeServer) (int, string, string) {
	t.Helper()
	return runCtx(t, context.Background(), fakes...)
}

func runCtx(t *testing.T, ctx context.Context, fakes ...*fakeServer) (int, string, string) {
	t.Helper()
	return runIn(t, ctx, dataDir(t), fakes...)
}

func runData(t *testing.T, data string, fakes ...*fakeServer) (int, string, string) {
	t.Helper()
	return runIn(t, context.Background(), data, fakes...)
}

func runIn(t *testing.T, ctx context.Context, data string, fakes ...*fakeServer) (int, string, string) {
	t.Helper()
	var servers []string
	for _, f := range fakes {
		servers = append(servers, f.sock)
	}
	var out, errb bytes.Buffer
	code := Run(ctx, Options{
		Data: data, Servers: servers, Yes: true, LockFile: filepath.Join(t.TempDir(), "lock"),
		Timeout: 5 * time.Second, StageTimeout: 5 * time.Second, CommitTimeout: 5 * time.Second,
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
	})
	return code, out.String(), errb.String()
}

func TestPartialCommitIsLoudWithRetryCommand(t *testing.T) {
	a, b, c := &fakeServer{}, &fakeServer{failCommit: true}, &fakeServer{}
	for _, f := range []*fakeServer{a, b, c} {
		startFake(t, f)
	}
	code, out, errOut := runWith(t, a, b, c)
	if code != ExitPartial {
		t.Fatalf("exit %d, want %d\n%s%s", code, ExitPartial, out, errOut)
	}
	for _, want := range []string{"PARTIAL ROLLOUT: 2 of 3", "not committed: " + b.sock, "--servers " + b.sock + " --yes"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "COMMIT FAILED: disk full") || strings.Count(out, "committed") != 2 {
		t.Errorf("table:\n%s", out)
	}
}

func TestStageFailureAbortsEveryServer(t *testing.T) {
	a, b, c := &fakeServer{}, &fakeServer{failStage: true}, &fakeServer{}
	for _, f := range []*fakeServer{a, b, c} {
		startFake(t, f)
	}
	code, out, errOut := runWith(t, a, b, c)
	if code != ExitFailed {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for i, f := range []*fakeServer{a, b, c} {
		if f.committed.Load() != 0 || f.abort.Load() != 1 {
			t.Errorf("server %d: %d commits, %d aborts; want 0 and 1", i, f.committed.Load(), f.abort.Load())
		}
	}
	if !strings.Contains(errOut, "zones/example.com:3: bad") {
		t.Errorf("the stage error is not shown:\n%s", errOut)
	}
}

func TestComputeDiff(t *testing.T) {
	cur := &authdns.DataInfo{
		Files:      []authdns.FileInfo{{Path: "zones/a.example", SHA256: "1"}, {Path: "zones/gone.example", SHA256: "2"}, {Path: "admin_state", SHA256: "3"}},
		Zones:      []authdns.ZoneInfo{{Name: "a.example.", Serial: 5}, {Name: "gone.example.", Serial: 1}},
		AdminState: []string{"site/x => DOWN", "site/y => DOWN"},
	}
	files := []authdns.FileInfo{{Path: "zones/a.example", SHA256: "9"}, {Path: "zones/new.example", SHA256: "4"}, {Path: "admin_state", SHA256: "3"}}
	zones := []authdns.ZoneInfo{{Name: "a.example.", Serial: 5}, {Name: "new.example.", Serial: 1}}
	d := computeDiff(cur, files, zones, []string{"site/y => DOWN", "site/z => UP"})
	if strings.Join(d.Added, ",") != "zones/new.example" || strings.Join(d.Removed, ",") != "zones/gone.example" || strings.Join(d.Changed, ",") != "zones/a.example" {
		t.Errorf("files: %+v", d)
	}
	if len(d.Serials) != 2 || d.Serials[0].Zone != "new.example." || d.Serials[1].Zone != "gone.example." || d.Serials[1].HasNew {
		t.Errorf("serials: %+v", d.Serials)
	}
	if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "a.example. changed but its serial did not increase") {
		t.Errorf("warnings: %v", d.Warnings)
	}
	if strings.Join(d.AdminRemoved, ",") != "site/x => DOWN" || strings.Join(d.AdminAdded, ",") != "site/z => UP" {
		t.Errorf("admin_state: -%v +%v", d.AdminRemoved, d.AdminAdded)
	}
}

// Another operator's bundle staged on one server makes our stage fail
// there; our abort must leave their bundle alone (it is aborted only by
// its own id) and never send an id-less abort.
func TestFailedRolloutLeavesAnotherBundleStaged(t *testing.T) {
	a, b, c := &fakeServer{}, &fakeServer{pending: "theirs"}, &fakeServer{}
	for _, f := range []*fakeServer{a, b, c} {
		startFake(t, f)
	}
	code, out, errOut := runWith(t, a, b, c)
	if code != ExitFailed {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if _, pending := b.state(); pending != "theirs" {
		t.Errorf("the other operator's bundle was dropped (staged now: %q)", pending)
	}
	for i, f := range []*fakeServer{a, b, c} {
		if f.committed.Load() != 0 {
			t.Errorf("server %d committed", i)
		}
		if _, pending := f.state(); i != 1 && pending != "" {
			t.Errorf("server %d still holds our bundle %s", i, pending)
		}
		f.mu.Lock()
		for _, id := range f.abortIDs {
			if id == "" || id == "theirs" {
				t.Errorf("server %d got an abort for %q", i, id)
			}
		}
		f.mu.Unlock()
	}
	if !strings.Contains(errOut, "aborted everywhere, nothing was changed") {
		t.Errorf("stderr:\n%s", errOut)
	}
}

// A server whose only difference is a local admin_state line is a change:
// the diff shows the line and says the rollout removes it.
func TestDiffShowsAServersOwnAdminState(t *testing.T) {
	files := []authdns.FileInfo{{Path: "admin_state", SHA256: "1"}, {Path: "zones/a.example", SHA256: "2"}}
	zones := []authdns.ZoneInfo{{Name: "a.example.", Serial: 5}}
	for _, tc := range []struct {
		name      string
		server    []string
		empty     bool
		wantLines []string
	}{
		{"same", []string{"site/x => DOWN"}, true, []string{"already serving"}},
		{"a local drain", []string{"site/x => DOWN", "site/esams => DOWN"}, false,
			[]string{"admin_state - site/esams => DOWN", "NOTE: srv1 forces states this rollout removes"}},
		{"a local line lifted", nil, false, []string{"admin_state + site/x => DOWN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := &authdns.DataInfo{Files: files, Zones: zones, AdminState: tc.server}
			d := computeDiff(cur, files, zones, []string{"site/x => DOWN"})
			if d.Empty() != tc.empty {
				t.Errorf("Empty() = %v, want %v: %+v", d.Empty(), tc.empty, d)
			}
			var out strings.Builder
			d.print(&out, "srv1", "old", "new")
			for _, w := range tc.wantLines {
				if !strings.Contains(out.String(), w) {
					t.Errorf("diff lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
