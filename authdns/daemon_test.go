package authdns

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

func bundleOf(t *testing.T, serial int, extra string) *Bundle {
	t.Helper()
	dir := t.TempDir()
	writeData(t, dir, serial, extra)
	b, err := ReadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStageCommitAbort(t *testing.T) {
	d, dir := testDaemon(t, "")
	if got := askA(t, d, "www.example.com."); got != "192.0.2.1" {
		t.Fatalf("www = %s", got)
	}
	before := d.State().DataDigest

	// A broken bundle is refused, named relative to DIR, and nothing changes.
	_, err := d.Stage(bundleOf(t, 2, "broken IN A 999.1.1.1\n"))
	if err == nil || !strings.Contains(err.Error(), "zones/example.com:") || strings.Contains(err.Error(), ".staged") {
		t.Fatalf("broken stage: %v", err)
	}
	if d.State().DataDigest != before {
		t.Fatal("a refused stage changed the state")
	}

	// Stage, then a second stage is a conflict; abort drops it.
	good := bundleOf(t, 2, "new IN A 192.0.2.2\n")
	res, err := d.Stage(good)
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != good.Digest() || res.Zones[0].Serial != 2 {
		t.Fatalf("stage result %+v", res)
	}
	var conflict *ConflictError
	if _, err := d.Stage(good); !errors.As(err, &conflict) {
		t.Fatalf("second stage: %v", err)
	}
	if got := askA(t, d, "new.example.com."); got != "NXDOMAIN" {
		t.Fatalf("a staged bundle is served before commit: %s", got)
	}
	if err := d.Abort(res.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(res.ID); !errors.Is(err, ErrNotStaged) {
		t.Fatalf("commit after abort: %v", err)
	}

	// Stage and commit: served, and installed into the data directory.
	res, err = d.Stage(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Commit("wrong"); !errors.Is(err, ErrNotStaged) {
		t.Fatalf("commit with a wrong id: %v", err)
	}
	if err := d.Commit(res.ID); err != nil {
		t.Fatal(err)
	}
	if got := askA(t, d, "new.example.com."); got != "192.0.2.2" {
		t.Fatalf("after commit: %s", got)
	}
	onDisk, _ := ReadBundle(filepath.Join(dir, "data"))
	if onDisk.Digest() != good.Digest() || d.State().DataDigest != good.Digest() {
		t.Fatal("the data directory or state does not match the committed bundle")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".data.*")); len(left) != 0 {
		t.Errorf("left beside the data directory: %v", left)
	}
	// A reload from disk serves the same data.
	if err := d.Reload(); err != nil || d.State().DataDigest != good.Digest() {
		t.Fatalf("reload after commit: %v", err)
	}
}

func TestReloadMovesListenersAndKeepsStateOnError(t *testing.T) {
	d, dir := testDaemon(t, "")
	old := d.Server().Addrs()[0].String()
	cfgPath := filepath.Join(dir, "authdns.yaml")
	free := testutil.FreeAddr(t)
	metrics := testutil.FreeAddr(t)
	os.WriteFile(cfgPath, []byte("listen: [\""+free+"\"]\ndata: data\nudp_sockets: 1\nmetrics: "+metrics+"\ncontrol: ctl2.sock\n"), 0o644)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := d.Server().Addrs()[0].String(); got != free {
		t.Fatalf("listening on %s, want %s (old %s)", got, free, old)
	}
	if got := askA(t, d, "www.example.com."); got != "192.0.2.1" {
		t.Fatalf("after the move: %s", got)
	}
	testutil.WaitFor(t, "the condition", func() bool { _, err := os.Stat(filepath.Join(dir, "control.sock")); return os.IsNotExist(err) })
	if fi, err := os.Stat(filepath.Join(dir, "ctl2.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new control socket: %v %v", fi, err)
	}
	body := get(t, "http://"+metrics+"/metrics")
	for _, want := range []string{
		`authdns_queries_total{protocol="udp",qtype="A",rcode="NOERROR"}`,
		`authdns_reloads_total{result="success"} 1`,
		`authdns_zone_serial{zone="example.com."} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// A broken zone: the reload fails, everything stays.
	writeData(t, filepath.Join(dir, "data"), 3, "broken IN A 999.1.1.1\n")
	if err := d.Reload(); err == nil {
		t.Fatal("a broken zone reloaded")
	}
	if got := askA(t, d, "www.example.com."); got != "192.0.2.1" || d.State().Zones.Zones()[0].Serial != 1 {
		t.Fatal("a failed reload changed the state")
	}
	if !strings.Contains(get(t, "http://"+metrics+"/metrics"), `authdns_reloads_total{result="failure"} 1`) {
		t.Error("the failure is not counted")
	}
}

func TestControlTCPNeedsToken(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte("0123456789abcdef0123\n"), 0o600)
	addr := testutil.FreeAddr(t)
	d, _ := testDaemon(t, "control_tcp: "+addr+"\ncontrol_token_file: "+tok+"\n")
	_ = d
	ctx := context.Background()
	if _, err := NewClient(addr, "", 5*time.Second).Status(ctx); err == nil || !strings.Contains(err.Error(), "bearer token") {
		t.Fatalf("no token: %v", err)
	}
	if _, err := NewClient(addr, "wrong-token-wrong-token", 5*time.Second).Status(ctx); err == nil {
		t.Fatal("a wrong token was accepted")
	}
	s, err := NewClient(addr, "0123456789abcdef0123", 5*time.Second).Status(ctx)
	if err != nil || len(s.Zones) != 1 {
		t.Fatalf("with the token: %v %+v", err, s)
	}
	// A group-readable token file is refused.
	os.Chmod(tok, 0o640)
	cfg := &Config{ControlTCP: addr, ControlTokenFile: tok}
	if _, err := readToken(cfg); err == nil {
		t.Error("a group-readable token file was accepted")
	}
}

func TestControlSocketStatusAndStale(t *testing.T) {
	d, dir := testDaemon(t, "")
	sock := filepath.Join(dir, "control.sock")
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("control socket: %v %v", fi, err)
	}
	s, err := NewClient(sock, "", 5*time.Second).Status(context.Background())
	if err != nil || s.DataDigest != d.State().DataDigest || s.Zones[0].Serial != 1 {
		t.Fatalf("status: %v %+v", err, s)
	}
	// A second daemon on the same socket refuses to start.
	l := &listeners{d: d}
	if _, err := l.openUnix(sock); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second listener: %v", err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
