package authdns

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/internal/unixctl"
)

func TestParseStageBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: an error
	}{
		{"256MiB", 256 << 20},
		{"256M", 256 << 20},
		{"1GiB", 1 << 30},
		{"64 KiB", 64 << 10},
		{"1048576", 1 << 20},
		{"1000", 0}, // below the minimum
		{"0", 0},
		{"-5MiB", 0},
		{"lots", 0},
		{"2TiB", 0},
	} {
		got, err := parseStageBytes(tc.in)
		if (err != nil) != (tc.want == 0) || got != tc.want {
			t.Errorf("%q: %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

// The default body limit takes a stage of a million records: a zone of
// 1,000,000 AAAA lines of a long owner name, base64 in the JSON body.
func TestDefaultStageLimitFitsAMillionRecords(t *testing.T) {
	raw := 0
	for i := range 1_000_000 {
		raw += len(fmt.Sprintf("host-%07d.some-long-subdomain-name 3600 IN AAAA 2001:db8:1234:5678:9abc:def0:%04x:%04x\n", i, i>>16, i&0xffff))
	}
	b64 := (raw + 2) / 3 * 4
	envelope, _ := json.Marshal(StageRequest{ID: strings.Repeat("x", maxStageID), Before: strings.Repeat("0", 64),
		Bundle: Bundle{Files: []File{{Path: "zones/example.org"}}}})
	if total := b64 + len(envelope); total > DefaultMaxStageBytes {
		t.Fatalf("a million records (%d bytes, %d in the body) exceed the default max_stage_bytes %d", raw, total, DefaultMaxStageBytes)
	}
}

// unixHTTP is an HTTP client on a control socket.
func unixHTTP(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: unixctl.Dialer(sock)}}
}

// A stage body over max_stage_bytes is refused with 413, whether its
// length is announced or not; nothing is staged; a smaller one is.
func TestStageBodyLimit(t *testing.T) {
	d, dir := testDaemon(t, "max_stage_bytes: 64KiB\n")
	sock := filepath.Join(dir, "control.sock")
	big := bundleOf(t, 2, "; "+strings.Repeat("x", 80<<10)+"\n")
	req := &StageRequest{ID: "big", Before: d.Status().DataDigest, Bundle: *big}
	var api *APIError
	_, err := NewClient(sock, "", 10*time.Second).Stage(context.Background(), req)
	if !errors.As(err, &api) || api.Status != http.StatusRequestEntityTooLarge || !strings.Contains(err.Error(), "max_stage_bytes") {
		t.Fatalf("announced length: %v", err)
	}
	body, _ := json.Marshal(req)
	// A reader of unknown length: sent chunked, cut off by the server.
	resp, err := unixHTTP(sock).Post("http://authdns/v1/stage", "application/json", io.MultiReader(strings.NewReader(string(body))))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "max_stage_bytes") {
		t.Fatalf("chunked: %d %s", resp.StatusCode, msg)
	}
	if d.Status().Staged != nil {
		t.Fatal("a refused body was staged")
	}
	small := bundleOf(t, 2, "")
	if _, err := NewClient(sock, "", 10*time.Second).Stage(context.Background(), &StageRequest{ID: "small", Before: d.Status().DataDigest, Bundle: *small}); err != nil {
		t.Fatal(err)
	}
}

// While one stage body is being received, a second stage is refused at
// once with 409, before its body is read: here it never sends one, and
// still gets its answer. Once the first is gone, stages are taken again.
func TestConcurrentStageRefusedBeforeItsBodyIsRead(t *testing.T) {
	d, dir := testDaemon(t, "")
	sock := filepath.Join(dir, "control.sock")
	head := "POST /v1/stage HTTP/1.1\r\nHost: authdns\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"

	first, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, err := io.WriteString(first, head+`{"id":"first","files":[`); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the condition", func() bool { return d.Status().StageReceiving })

	second, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(10 * time.Second)) // bounds a failing test only
	if _, err := io.WriteString(second, head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(second), nil)
	if err != nil {
		t.Fatalf("no answer to a second stage without its body: %v", err)
	}
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(msg), "another stage is being received") {
		t.Fatalf("second stage: %d %s", resp.StatusCode, msg)
	}

	first.Close()
	testutil.WaitFor(t, "the condition", func() bool { return !d.Status().StageReceiving })
	if _, err := NewClient(sock, "", 10*time.Second).Stage(context.Background(),
		&StageRequest{ID: "after", Before: d.Status().DataDigest, Bundle: *bundleOf(t, 2, "")}); err != nil {
		t.Fatal(err)
	}
}

// While a stage writes and builds its set, the state lock is free: an
// admin_state drain written then is applied before the stage ends, and a
// second stage is refused rather than queued.
func TestStageBuildsWithoutTheStateLock(t *testing.T) {
	d, dir := testDaemon(t, "")
	admin := filepath.Join(dir, "data", "admin_state")
	var second error
	d.failpoint = func(step string) {
		if step != "stage-written" {
			return
		}
		replaceFile(t, admin, "site/dc1 => DOWN\n")
		testutil.WaitFor(t, "the condition", func() bool { e, ok := d.State().Admin.Lookup("site/dc1"); return ok && e.Down })
		_, second = d.StageRequest(&StageRequest{ID: "second", Bundle: *bundleOf(t, 3, "")})
	}
	if _, err := d.StageRequest(&StageRequest{ID: "first", Before: d.Status().DataDigest, Bundle: *bundleOf(t, 2, "")}); err != nil {
		t.Fatal(err)
	}
	var conflict *ConflictError
	if !errors.As(second, &conflict) || !strings.Contains(second.Error(), "being staged") {
		t.Errorf("a stage during another: %v", second)
	}
	// The drain came after the stage began: its commit is refused.
	if err := d.Commit("first"); !errors.As(err, &conflict) {
		t.Errorf("commit after a drain during the stage: %v", err)
	}
}

// A stage whose build panics (answered 500 by the control API's guard)
// does not leave the server refusing every later stage as "being staged".
func TestStageAfterAPanickedStage(t *testing.T) {
	d, dir := testDaemon(t, "")
	c := NewClient(filepath.Join(dir, "control.sock"), "", 10*time.Second)
	ctx := context.Background()
	d.failpoint = func(step string) {
		if step == "stage-written" {
			panic("injected by the test")
		}
	}
	_, err := c.Stage(ctx, &StageRequest{ID: "boom", Before: d.Status().DataDigest, Bundle: *bundleOf(t, 2, "")})
	var api *APIError
	if !errors.As(err, &api) || api.Status != http.StatusInternalServerError {
		t.Fatalf("the panicking stage: %v", err)
	}
	d.failpoint = nil
	if _, err := c.Stage(ctx, &StageRequest{ID: "after", Before: d.Status().DataDigest, Bundle: *bundleOf(t, 3, "")}); err != nil {
		t.Fatalf("the next stage: %v", err)
	}
	if err := c.Abort(ctx, "after"); err != nil {
		t.Fatal(err)
	}
}
