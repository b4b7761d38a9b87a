package ctl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const poolsYAML = "../../config/conftool/pools.yaml"

func TestSync(t *testing.T) {
	s := newFake(
		mw1001, `{"weight":10,"pooled":"yes"}`, // pooled already: kept
		"/conftool/v1/pools/eqiad/appserver/apache2/mw1099.eqiad.wmnet", `{"weight":1,"pooled":"no"}`, // stale
		"/conftool/v1/sites/esams", `{"state":"down"}`, // kept down
		"/conftool/v1/sites/oldsite", `{"state":"up"}`, // stale
		"/conftool/v1/routes/text/esams", `{"route":"codfw"}`, // an override: kept
	)
	r := run(t, s, nil, "", "sync", "--pools", poolsYAML, "--routing", routingYAML)
	if r.code != 0 {
		t.Fatalf("sync: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		`created /conftool/v1/pools/eqiad/appserver/nginx/mw1001.eqiad.wmnet {"weight":0,"pooled":"inactive"}`,
		`created /conftool/v1/pools/eqiad/text/varnish-fe/cp1002.eqiad.wmnet {"weight":0,"pooled":"inactive"}`,
		`created /conftool/v1/sites/eqiad {"state":"up"}`,
		`created /conftool/v1/routes/text/ulsfo {"route":["codfw","eqiad"]}`,
		`created /conftool/v1/app-routes/text/restbase {"route":{"active-active":["eqiad","codfw"]}}`,
		"stale /conftool/v1/pools/eqiad/appserver/apache2/mw1099.eqiad.wmnet (no longer defined; --prune deletes it)",
		"stale /conftool/v1/sites/oldsite",
		"sync: 36 created, 0 pruned, 2 stale left",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("sync output lacks %q:\n%s", want, r.stdout)
		}
	}
	dump := s.dump()
	for _, kept := range []string{mw1001 + ` {"weight":10,"pooled":"yes"}`, `/conftool/v1/sites/esams {"state":"down"}`, `/conftool/v1/routes/text/esams {"route":"codfw"}`} {
		if !strings.Contains(dump, kept) {
			t.Errorf("sync overwrote %s:\n%s", kept, dump)
		}
	}
	// Again: nothing to create; with --prune the stale objects go.
	r = run(t, s, nil, "", "sync", "--pools", poolsYAML, "--routing", routingYAML, "--prune")
	if r.code != 0 || !strings.Contains(r.stdout, "pruned /conftool/v1/sites/oldsite") || !strings.Contains(r.stdout, "sync: 0 created, 2 pruned, 0 stale left") {
		t.Fatalf("sync --prune: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(s.dump(), "mw1099") {
		t.Errorf("--prune left the stale node")
	}
	if n := len(s.log); n != 2 { // 36 objects in one transaction, then the prune
		t.Errorf("%d audit records, want 2", n)
	}
}

func TestSyncRefusesUnknownDC(t *testing.T) {
	pools := filepath.Join(t.TempDir(), "pools.yaml")
	if err := os.WriteFile(pools, []byte("eqiad:\n  a:\n    h1: [s]\nnowhere:\n  a:\n    h2: [s]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newFake()
	r := run(t, s, nil, "", "sync", "--pools", pools, "--routing", routingYAML)
	if r.code != 1 || !strings.Contains(r.stderr, "/conftool/v1/pools/nowhere/a/s/h2 ("+pools+`:6): dc "nowhere" is not a site of `+routingYAML) {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	if s.dump() != "" {
		t.Errorf("a refused sync wrote:\n%s", s.dump())
	}
}

func TestSyncBatches(t *testing.T) {
	// 300 hosts: more than one transaction's worth, each one guarded and
	// audited on its own.
	var b strings.Builder
	b.WriteString("eqiad:\n  appserver:\n")
	for i := 0; i < 300; i++ {
		b.WriteString("    mw" + strings.Repeat("0", 4-len(itoa(i))) + itoa(i) + ": [apache2]\n")
	}
	pools := filepath.Join(t.TempDir(), "pools.yaml")
	if err := os.WriteFile(pools, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newFake()
	r := run(t, s, nil, "", "sync", "--pools", pools, "--routing", routingYAML)
	if r.code != 0 || !strings.Contains(r.stdout, "sync: 325 created") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := len(s.log); n != 3 { // 325 = 127 + 127 + 71
		t.Errorf("%d transactions, want 3", n)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
