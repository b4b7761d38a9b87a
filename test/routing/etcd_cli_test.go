package routinge2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/routing"
)

// One-shot commands with --etcd read etcd once and apply what serve
// applies; an unreachable etcd or a refused override set is an error.
func TestOneShotEtcd(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	etcdPut(t, c, kUlsfo, `{"route":["eqiad"]}`)
	etcdPut(t, c, kEsams, `{"state":"down"}`)
	rp, ap := files(t, "")
	ep := e.Endpoint()

	out, stderr, code := run(t, "routes", "--routing", rp, "--admin-state", ap, "--etcd", ep, "--format", "json")
	if code != 0 {
		t.Fatalf("routes --etcd: exit %d: %s", code, stderr)
	}
	var rs []routing.Result
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Cluster == "text" && r.Site == "ulsfo" && strings.Join(r.Path, " ") != "ulsfo eqiad" {
			t.Errorf("text/ulsfo: %v, want the override's path", r.Path)
		}
		if r.Cluster == "upload" && r.Site == "drmrs" && strings.Contains(strings.Join(r.Path, " "), "esams") {
			t.Errorf("upload/drmrs goes through esams, DOWN in etcd: %v", r.Path)
		}
	}
	checkListShape(t, "routes --etcd --format json", []byte(out), 14) // the same keys with overrides
	contains(t, "stderr", stderr, "trafficctl: etcd "+ep+": revision ", "override from etcd "+kUlsfo+"@", "site/esams => DOWN (etcd "+kEsams+"@")

	// The same JSON as serve's /routes on the same inputs.
	s := serve(t, "--routing", rp, "--admin-state", ap, "--etcd", ep)
	if code, body := get(t, s.url+"/routes"); code != http.StatusOK || string(body) != out {
		t.Errorf("/routes and `routes --etcd --format json` differ:\n%s\n---\n%s", body, out)
	}

	out, _, code = run(t, "explain", "--routing", rp, "--etcd", ep, "text", "ulsfo")
	if code != 0 {
		t.Fatalf("explain --etcd: exit %d", code)
	}
	contains(t, "explain", out, "path: ulsfo > eqiad", "route from etcd "+kUlsfo+"@")

	out, _, code = run(t, "what-if", "--routing", rp, "--etcd", ep, "--down", "eqiad", "--cluster", "text")
	if code != 0 {
		t.Fatalf("what-if --etcd: exit %d", code)
	}
	contains(t, "what-if", out, "ulsfo > eqiad ok [configured,configured]", "ulsfo > codfw degraded")

	// GeoDNS follows etcd too: esams DOWN in etcd is DOWN for both.
	fs, code := findings(t, "--routing", rp, "--authdns-config", authdnsConfig(t, ""), "--etcd", ep)
	if code != 0 || len(fs) != 0 {
		t.Errorf("check --etcd: exit %d, findings %s", code, codes(fs))
	}

	// The local file wins for the same key.
	rp2, ap2 := files(t, "site/esams => UP\n")
	out, _, _ = run(t, "explain", "--routing", rp2, "--admin-state", ap2, "--etcd", ep, "upload", "drmrs")
	contains(t, "explain under the file's esams UP", out, "path: drmrs > esams > eqiad")

	// A loop by hand: refused, naming the key.
	etcdPut(t, c, kCodfwLoop, `{"route":"magru"}`)
	_, stderr, code = run(t, "routes", "--routing", rp, "--etcd", ep)
	if code != 1 {
		t.Fatalf("routes with a looping override: exit %d, want 1: %s", code, stderr)
	}
	contains(t, "stderr", stderr, "etcd overrides do not validate with "+rp, "etcd "+kCodfwLoop+"@", "loop: codfw -> magru -> codfw")

	// A garbage value is left out with a warning naming its key.
	etcdDelete(t, c, kCodfwLoop)
	etcdPut(t, c, kSites+"eqsin", `<html>`)
	_, stderr, code = run(t, "routes", "--routing", rp, "--etcd", ep)
	if code != 0 {
		t.Fatalf("routes with a garbage value: exit %d: %s", code, stderr)
	}
	contains(t, "stderr", stderr, "warning: etcd: value left out: "+kSites+"eqsin: ")
}

func TestOneShotEtcdErrors(t *testing.T) {
	rp, _ := files(t, "")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unreachable", []string{"routes", "--etcd", "http://127.0.0.1:1", "--etcd-timeout", "200ms"}, 1,
			[]string{"trafficctl: etcd http://127.0.0.1:1: unreachable within --etcd-timeout 200ms (no fallback to the files alone"}},
		{"etcd flags without --etcd", []string{"explain", "--etcd-prefix", "/x", "--etcd-user", "u", "text", "ulsfo"}, 2,
			[]string{"--etcd-prefix, --etcd-user without --etcd"}},
		{"serve too", []string{"serve", "--admin-state", rp + ".as", "--etcd-cacert", "ca.pem"}, 2, []string{"--etcd-cacert without --etcd"}},
		{"no endpoint", []string{"routes", "--etcd", ","}, 2, []string{"--etcd: no endpoint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, append(tt.args, "--routing", rp)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			contains(t, "stderr", stderr, tt.want...)
		})
	}
}
