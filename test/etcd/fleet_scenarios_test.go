package etcde2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/routing"
)

// One confctl command changes every daemon: a site marked down moves the
// DNS answers of all three authdns and every cluster's cache routes, and a
// depooled node leaves IPVS.
func TestFleetFollowsConfctl(t *testing.T) {
	f := startFleet(t, 3)
	f.waitEU(esamsAddr)
	testutil.WaitFor(t, "routes through esams before the change", func() bool { return !f.routesAvoid("esams") })

	if r := f.confctl("--object-type", "site", "select", "name=esams", "set/state=down"); r.code != 0 {
		t.Fatalf("site down: %s", r)
	}
	f.waitEU(drmrsAddr)
	testutil.WaitFor(t, "/routes avoiding esams", func() bool { return f.routesAvoid("esams") })
	r := runBin(t, nil, "authdns", "states", "--config", filepath.Join(f.authdns[0].dir, "authdns.yaml"))
	if r.code != 0 || !strings.Contains(r.stdout, `"forced_by": "etcd /conftool/v1/sites/esams@`) &&
		!strings.Contains(r.stdout, `"forced_by":"etcd /conftool/v1/sites/esams@`) {
		t.Errorf("authdns states does not name the etcd source of site/esams: %s", r)
	}

	const mw1001 = "mw1001.eqiad.wmnet"
	if r := f.confctl("select", "dc=eqiad,cluster=appserver,service=apache2,name=mw1001.*", "set/pooled=no"); r.code != 0 {
		t.Fatalf("depool mw1001: %s", r)
	}
	f.lvsd.WaitLog(0, `op="-d -t `+vip+` -r `+hostAddrs[mw1001]+`:80"`)
	testutil.WaitFor(t, "lvsd /pools showing mw1001 disabled", func() bool {
		_, body := httpGet(t, f.lvsAPI+"/pools/apache2_80")
		return strings.Contains(body, mw1001+":\tdisabled/")
	})

	// The audit log names both changes and who made them.
	if r := f.confctl("log", "-n", "2"); r.code != 0 || !strings.Contains(r.stdout, "fleet-test") ||
		!strings.Contains(r.stdout, "/conftool/v1/sites/esams") || !strings.Contains(r.stdout, mw1001) {
		t.Errorf("confctl log: %s", r)
	}
}

// A route change that would loop is refused and nothing changes; of two
// concurrent sets of one object, each either wins or fails cleanly, and
// the value left is a winner's.
func TestFleetRefusals(t *testing.T) {
	f := startFleet(t, 1)
	cli := f.etcd.Client(t)
	const codfwKey = "/conftool/v1/routes/text/codfw"
	before := get(t, cli, codfwKey)
	r := f.confctl("--object-type", "route", "select", "cluster=text,site=codfw", "set/route=ulsfo")
	if r.code != 1 || !strings.Contains(r.stderr, "loop") {
		t.Errorf("a looping route: %s; want exit 1 naming the loop", r)
	}
	if got := get(t, cli, codfwKey); got != before {
		t.Errorf("after a refused change %s = %s, want %s", codfwKey, got, before)
	}
	_, body := httpGet(t, f.routes+"/routes/text/codfw")
	var codfw routing.Result
	if err := json.Unmarshal([]byte(body), &codfw); err != nil || strings.Join(codfw.Path, ">") != "codfw>eqiad" {
		t.Errorf("/routes/text/codfw after a refused change: %s (%v)", body, err)
	}

	const node = "/conftool/v1/pools/eqiad/appserver/apache2/mw1003.eqiad.wmnet"
	for try := range 5 {
		var wg sync.WaitGroup
		results := make([]result, 2)
		for i, w := range []string{"7", "8"} {
			wg.Go(func() {
				results[i] = f.confctl("select", "dc=eqiad,cluster=appserver,service=apache2,name=mw1003.*", "set/weight="+w)
			})
		}
		wg.Wait()
		winners := map[string]bool{}
		for i, res := range results {
			switch {
			case res.code == 0:
				winners[[]string{"7", "8"}[i]] = true
			case res.code == 1 && strings.Contains(res.stderr, "changed since it was read"):
			default:
				t.Fatalf("try %d: a concurrent set ended %s", try, res)
			}
		}
		got := get(t, cli, node)
		if len(winners) == 0 {
			t.Fatalf("try %d: neither concurrent set won; %s = %s", try, node, got)
		}
		ok := false
		for w := range winners {
			ok = ok || strings.Contains(got, `"weight":`+w)
		}
		if !ok {
			t.Fatalf("try %d: %s = %s, not a winner's value (%v)", try, node, got, winners)
		}
	}
}

// A garbage value under a node key leaves that node as it was, and lvsd
// reports it.
func TestFleetGarbageValue(t *testing.T) {
	f := startFleet(t, 1)
	cli := f.etcd.Client(t)
	const host = "mw1002.eqiad.wmnet"
	put(t, cli, "/conftool/v1/pools/eqiad/appserver/apache2/"+host, "<html>502</html>")
	f.lvsd.WaitLog(0, "key=/conftool/v1/pools/eqiad/appserver/apache2/"+host)
	testutil.WaitFor(t, "/alerts naming the ignored value", func() bool {
		_, body := httpGet(t, f.lvsAPI+"/alerts")
		return strings.Contains(body, host)
	})
	if _, body := httpGet(t, f.lvsAPI+"/pools/apache2_80"); !strings.Contains(body, host+":\tenabled/up/pooled") {
		t.Errorf("after a garbage value %s is not as it was:\n%s", host, body)
	}
	if strings.Contains(f.lvsd.Logs(), `op="-d -t `+vip+` -r `+hostAddrs[host]) {
		t.Errorf("a garbage value removed %s from IPVS", host)
	}
}
