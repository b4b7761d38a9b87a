package health

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFile replaces path's contents by rename, as tools do.
func writeFile(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestParseExtfile(t *testing.T) {
	got, err := parseExtfile("f", []byte("# states\n127.0.0.1 => UP\n2001:db8::1 => down/30 ; c\n\"127.0.0.3\" = \"DOWN\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]extEntry{"127.0.0.1": {}, "2001:db8::1": {down: true, ttl: 30, hasTTL: true}, "127.0.0.3": {down: true}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %+v, want %+v", k, got[k], w)
		}
	}
	for _, bad := range []string{"127.0.0.1 => SIDEWAYS\n", "127.0.0.1\n", "127.0.0.1 => UP\n127.0.0.1 => DOWN\n", "127.0.0.1 => DOWN/268435456\n"} {
		if _, err := parseExtfile("f", []byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "f:") {
			t.Errorf("parseExtfile(%q) = %v, want an error naming file:line", bad, err)
		}
	}
}

// An extfile is gdnsd's language as gdnsd reads it (package vscf), so
// a file another tool wrote for gdnsd means the same here.
func TestParseExtfileLanguage(t *testing.T) {
	got, err := parseExtfile("f", []byte("127.0.0.1 => UP, 127.0.0.2 = DOWN/10 # two on a line\n\"127.0.0.3\" =>\n  down\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]extEntry{"127.0.0.1": {}, "127.0.0.2": {down: true, ttl: 10, hasTTL: true}, "127.0.0.3": {down: true}}
	if len(got) != len(want) || got["127.0.0.2"] != want["127.0.0.2"] || got["127.0.0.3"] != want["127.0.0.3"] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for in, msg := range map[string]string{
		"127.0.0.1 => UP\n127.0.0.1 => DOWN\n": `f:2: duplicate key "127.0.0.1" (first at line 1; expected each key once in a hash)`,
		"127.0.0.1 => UP\n127.0.0.2 => BAD\n":  `f:2: key "127.0.0.2": state "BAD" is not UP or DOWN`,
		"127.0.0.1 => [UP]\n":                  `f:1: key "127.0.0.1": expected UP or DOWN[/TTL], got an array`,
		"[127.0.0.1]\n":                        "f:1: expected `ADDRESS => UP|DOWN[/TTL]` entries, got an array",
		"\"\" => UP\n":                         `f:1: empty key (expected an address)`,
		"127.0.0.1 => UP # no newline":         `f:1: a comment on the last line needs a newline after it (expected a line feed before the end of the file)`,
		"$include{other}\n":                    `f:1: $include is not allowed in this file, which is read on its own (expected key = value entries)`,
		"a => BAD\nb => UP/x\n":                "f:1: key \"a\": state \"BAD\" is not UP or DOWN\nf:2: key \"b\": TTL \"x\" is not a number from 0 to 268435455",
	} {
		if _, err := parseExtfile("f", []byte(in)); err == nil || err.Error() != msg {
			t.Errorf("%q:\n got %v\nwant %s", in, err, msg)
		}
	}
}

func TestExtfileDirectChangeAppliesAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "states")
	writeFile(t, path, "127.0.0.1 => UP\n127.0.0.2 => DOWN/30\n")
	h := newHarness(t)
	// An hour's interval: only the watch can apply the change.
	typ := &ServiceType{Name: "ext", Plugin: "extfile", File: path, Direct: true, Interval: time.Hour, DefTTL: 45}
	a, b, c := key("127.0.0.1", "ext"), key("127.0.0.2", "ext"), key("127.0.0.3", "ext")
	h.Set(context.Background(), map[string]*ServiceType{"ext": typ}, []Key{a, b, c})
	s := h.Snapshot()
	if st := state(t, s, a); st.Down || st.TTL != 45 {
		t.Errorf("%s = %+v, want UP with def_ttl 45", a, st)
	}
	if st := state(t, s, b); !st.Down || st.TTL != 30 {
		t.Errorf("%s = %+v, want DOWN/30 as given", b, st)
	}
	if st := state(t, s, c); st.Down || st.TTL != 45 {
		t.Errorf("%s (missing) = %+v, want def_down (UP) with def_ttl", c, st)
	}
	if !strings.Contains(h.logs.String(), "1 address(es) missing, taken as UP: 127.0.0.3") {
		t.Errorf("no warning for the missing address:\n%s", h.logs)
	}
	h.run(t)
	writeFile(t, path, "127.0.0.1 => DOWN/5\n127.0.0.2 => up\n127.0.0.3 => UP\n")
	h.waitFor(t, "the file's new states", func(s *Snapshot) bool {
		sa, _ := s.State(a)
		sb, _ := s.State(b)
		return sa.Down && sa.TTL == 5 && !sb.Down
	})
	if n := strings.Count(h.logs.String(), "health: state changed"); n != 2 {
		t.Errorf("%d transition lines, want 2:\n%s", n, h.logs)
	}
}

func TestExtfileMonitorModeFeedsAntiFlap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "states")
	writeFile(t, path, "127.0.0.1 => UP\n")
	h := newHarness(t)
	typ := &ServiceType{Name: "ext", Plugin: "extfile", File: path, Interval: 10 * time.Second, UpThresh: 2, OKThresh: 1, DownThresh: 3, DefDown: true}
	a, missing := key("127.0.0.1", "ext"), key("127.0.0.2", "ext")
	h.Set(context.Background(), map[string]*ServiceType{"ext": typ}, []Key{a, missing})
	if st := state(t, h.Snapshot(), missing); !st.Down || !strings.Contains(st.LastError, "missing") {
		t.Errorf("missing address with def_down = %+v, want DOWN", st)
	}
	cfg := h.mons[a].cfg
	writeFile(t, path, "127.0.0.1 => DOWN/7\n")
	for i, wantDown := range []bool{false, false, true} {
		h.readFile(cfg, nil, false)
		h.publish(false)
		st := state(t, h.Snapshot(), a)
		if st.Down != wantDown {
			t.Fatalf("after read %d of a DOWN entry: %+v, want down=%v (down_thresh 3)", i+1, st, wantDown)
		}
		if st.TTL == 7 {
			t.Errorf("the file's TTL was used without direct")
		}
	}
	if !strings.Contains(h.logs.String(), "TTLs ignored without direct: 127.0.0.1") {
		t.Errorf("no warning about the ignored TTL:\n%s", h.logs)
	}

	// A bad file changes nothing and says why, once.
	writeFile(t, path, "127.0.0.1 => SIDEWAYS\n")
	gen := h.Snapshot().Generation()
	h.readFile(cfg, nil, false)
	h.readFile(cfg, nil, false)
	h.publish(false)
	if h.Snapshot().Generation() != gen || !state(t, h.Snapshot(), a).Down {
		t.Errorf("a bad file changed the states")
	}
	if n := strings.Count(h.logs.String(), "extfile ignored, states kept"); n != 1 {
		t.Errorf("%d lines for a lasting bad file, want 1:\n%s", n, h.logs)
	}
}

func TestExtfileMissingFileKeepsDefault(t *testing.T) {
	h := newHarness(t)
	typ := &ServiceType{Name: "ext", Plugin: "extfile", File: filepath.Join(t.TempDir(), "none"), DefDown: true}
	a := key("127.0.0.1", "ext")
	h.Set(context.Background(), map[string]*ServiceType{"ext": typ}, []Key{a})
	if st := state(t, h.Snapshot(), a); st.Down || st.TTL != MaxTTL {
		t.Errorf("%s = %+v, want the registered default UP/MAX (no report in the initial round)", a, st)
	}
}
