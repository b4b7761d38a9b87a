package overview

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/statuspage"
	"github.com/geotraffic/geotraffic/routing"
)

// example is the committed config/routing.yaml under an admin_state.
func example(t *testing.T, adminState string) Input {
	t.Helper()
	cfg, err := routing.Load(filepath.Join("..", "..", "config", "routing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := adminstate.Parse("admin_state", []byte(adminState))
	if err != nil {
		t.Fatal(err)
	}
	return Input{Config: cfg, State: st, Results: routing.Resolve(cfg, st), Generation: 3,
		RoutingPath: "routing.yaml", AdminStatePath: "admin_state"}
}

func render(t *testing.T, in Input) string {
	t.Helper()
	p, err := Page(in, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return string(p.Body)
}

func siteOf(t *testing.T, v view, name string) siteView {
	t.Helper()
	for _, s := range v.Sites {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no site %s", name)
	return siteView{}
}

func arrowsFrom(v view, site string) []string {
	var out []string
	for _, a := range v.Arrows {
		if a.From == site {
			out = append(out, a.To)
		}
	}
	return out
}

func TestArrowsAvoidADownSite(t *testing.T) {
	v := build(example(t, ""))
	if got := arrowsFrom(v, "drmrs"); fmt.Sprint(got) != "[esams]" {
		t.Fatalf("text: drmrs's arrows go to %v, want [esams]", got)
	}
	if s := siteOf(t, v, "esams"); s.Class != "state-up" || s.Why != "" {
		t.Fatalf("esams: %+v", s)
	}

	v = build(example(t, "# maintenance\nsite/esams => DOWN\n"))
	for _, a := range v.Arrows {
		if a.To == "esams" {
			t.Errorf("an arrow still goes to the DOWN esams: %+v", a)
		}
	}
	if got := arrowsFrom(v, "drmrs"); fmt.Sprint(got) != "[eqiad]" {
		t.Errorf("drmrs's arrows go to %v, want [eqiad]", got)
	}
	s := siteOf(t, v, "esams")
	if s.Class != "state-down" || s.Why != "esams is DOWN (admin_state line 2: site/esams => DOWN)" ||
		s.By != "admin_state line 2: site/esams => DOWN" || s.Title != "esams: DOWN, set by admin_state line 2: site/esams => DOWN [52.31, 4.94]" {
		t.Errorf("esams: %+v", s)
	}
	// esams's own users (stale DNS) still have a route, drawn from it.
	if got := arrowsFrom(v, "esams"); fmt.Sprint(got) != "[eqiad]" {
		t.Errorf("esams's arrows go to %v", got)
	}
	for _, a := range v.Arrows {
		if a.From == "drmrs" && (a.Kind != "rerouted" || !strings.Contains(a.Title, "esams is DOWN")) {
			t.Errorf("drmrs's arrow does not say why it was rerouted: %+v", a)
		}
	}
}

func TestEachHopDrawnOnce(t *testing.T) {
	v := build(example(t, ""))
	seen := map[string]bool{}
	for _, a := range v.Arrows {
		k := a.From + ">" + a.To
		if seen[k] {
			t.Errorf("%s drawn twice", k)
		}
		seen[k] = true
	}
	// codfw -> eqiad is on the paths of codfw, ulsfo and eqsin.
	for _, a := range v.Arrows {
		if a.From == "codfw" && !strings.HasSuffix(a.Title, "users entering at codfw, eqsin, ulsfo") {
			t.Errorf("codfw's arrow: %q", a.Title)
		}
	}
	if !siteOf(t, v, "eqiad").Direct || siteOf(t, v, "codfw").Direct {
		t.Error("eqiad is the only direct site of text")
	}
}

func TestChosenCluster(t *testing.T) {
	in := example(t, "site/esams => DOWN\n")
	in.Cluster = "upload"
	v := build(in)
	if v.Cluster != "upload" || v.Unknown != "" {
		t.Fatalf("cluster %q unknown %q", v.Cluster, v.Unknown)
	}
	// upload's drmrs has esams as its only choice: nearest up site.
	for _, a := range v.Arrows {
		if a.From == "drmrs" && (a.To == "esams" || !strings.Contains(a.Title, routing.ReasonNearest)) {
			t.Errorf("upload drmrs: %+v", a)
		}
	}
	in.Cluster = "nope"
	p, err := Page(in, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(p.Body), `data-cluster="text"`) || !hasAlert(p.Alerts, "warning", `no cluster "nope"; showing text`) {
		t.Errorf("an unknown cluster shows the first with a warning: %+v", p.Alerts)
	}
}

func hasAlert(as []statuspage.Alert, level, text string) bool {
	for _, a := range as {
		if a.Level == level && strings.Contains(a.Text, text) {
			return true
		}
	}
	return false
}

func TestAlerts(t *testing.T) {
	in := example(t, "")
	p, err := Page(in, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Alerts) != 1 || p.Alerts[0].Level != "ok" || p.Alerts[0].Text != "every site is up and all 14 routes are ok" {
		t.Errorf("all well: %+v", p.Alerts)
	}
	in = example(t, "site/eqiad => DOWN\nsite/codfw => DOWN\n")
	in.Errors = map[string]string{"routing": "routing.yaml:3: sites: bad"}
	in.Warnings = []string{"admin_state:9: site/nosuch: matches no site"}
	in.Etcd = &Etcd{Endpoints: []string{"http://127.0.0.1:2379"}, AuditErr: "etcd is unreachable"}
	p, err = Page(in, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][2]string{
		{"critical", "routing refused; the last good one stays in force: routing.yaml:3: sites: bad"},
		{"critical", "etcd (http://127.0.0.1:2379) is unreachable"},
		{"critical", "text: unreachable for users entering at codfw, drmrs, eqsin, esams, magru, ulsfo"},
		{"warning", "upload: degraded for users entering at eqiad"},
		{"warning", "codfw is DOWN (admin_state line 2: site/codfw => DOWN)"},
		{"warning", "admin_state:9: site/nosuch: matches no site"},
		{"warning", "audit log not shown: etcd is unreachable"},
	} {
		if !hasAlert(p.Alerts, want[0], want[1]) {
			t.Errorf("no %s alert %q in %+v", want[0], want[1], p.Alerts)
		}
	}
}

func TestAuditNewestFirstAndCapped(t *testing.T) {
	in := example(t, "")
	in.Etcd = &Etcd{Connected: true}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range AuditShown + 5 {
		in.Etcd.Audit = append(in.Etcd.Audit, etcdstore.AuditRecord{Who: fmt.Sprintf("user%d", i), When: t0.Add(time.Duration(i) * time.Minute),
			Command: "set", Changes: []etcdstore.AuditChange{{Key: "/conftool/v1/sites/esams", Old: json.RawMessage(`{"state":"up"}`), New: json.RawMessage(`{"state":"down"}`)}}})
	}
	v := build(in)
	if n := len(v.Etcd.Audit); n != AuditShown {
		t.Fatalf("%d records shown, want %d", n, AuditShown)
	}
	if first, last := v.Etcd.Audit[0].Who, v.Etcd.Audit[AuditShown-1].Who; first != "user24" || last != "user5" {
		t.Errorf("shown from %s to %s, want the newest (user24) first down to user5", first, last)
	}
	body := render(t, in)
	for _, want := range []string{`<td class="who">user24</td>`, `<code>{&#34;state&#34;:&#34;up&#34;}</code> → <code>{&#34;state&#34;:&#34;down&#34;}</code>`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// Names from config are restricted by routing's validation, but those of
// etcd (users, commands, keys, values) are anyone's: nothing may inject
// markup, in HTML text, attributes or SVG.
func TestHostileNamesAreEscaped(t *testing.T) {
	const evil = `x"><script>alert(1)</script><img src=x onerror=alert(2)>`
	cfg := &routing.Config{
		Sites: map[string]routing.Site{evil: {Name: evil, Lat: 10, Lon: 10}, "b'<svg onload=alert(3)>": {Lat: 20, Lon: 20}},
		Clusters: map[string]*routing.Cluster{evil: {Name: evil, Shutdown: map[string]int{}, Apps: map[string]*routing.App{},
			Routes: map[string]routing.Route{
				evil:                      {Site: evil, Direct: true},
				"b'<svg onload=alert(3)>": {Site: "b'<svg onload=alert(3)>", Choices: []string{evil}},
			}}},
	}
	st, err := adminstate.Parse("admin_state", []byte("site/b* => DOWN\n"))
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Config: cfg, State: st, Results: routing.Resolve(cfg, st), Cluster: evil, RoutingPath: evil, AdminStatePath: evil,
		Warnings: []string{evil}, Errors: map[string]string{"etcd": evil},
		Etcd: &Etcd{Endpoints: []string{evil}, Prefix: evil, Connected: true, Overrides: []string{evil},
			Audit: []etcdstore.AuditRecord{{Who: evil, Command: evil, Selector: evil,
				Changes: []etcdstore.AuditChange{{Key: evil, Old: json.RawMessage(`"` + strings.ReplaceAll(evil, `"`, `\"`) + `"`), New: json.RawMessage("null")}}}}}}
	p, err := Page(in, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	body := string(p.Body)
	for _, bad := range []string{"<script", "<img", "<svg onload", "'<"} {
		if strings.Contains(body, bad) {
			i := strings.Index(body, bad)
			t.Errorf("body contains %q: ...%s...", bad, body[max(0, i-80):min(len(body), i+80)])
		}
	}
	for _, want := range []string{`id="site-x&#34;&gt;&lt;script&gt;`, `data-from="b&#39;&lt;svg onload=alert(3)&gt;"`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`, `href="?cluster=x%22%3e%3cscript%3e`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks the escaped %s", want)
		}
	}
	// The map still draws the hostile sites and their hop.
	if !strings.Contains(body, `class="route route-configured"`) {
		t.Error("the hop between the hostile sites is not drawn")
	}
}

func TestShutdownShown(t *testing.T) {
	cfgText, err := os.ReadFile(filepath.Join("..", "..", "config", "routing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(cfgText), "traffic_shutdown: []", "traffic_shutdown: [magru]", 1)
	cfg, err := routing.Parse("routing.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Config: cfg, Results: routing.Resolve(cfg, nil)}
	v := build(in)
	if s := siteOf(t, v, "magru"); !s.Shutdown || s.Class != "state-up" || !strings.Contains(s.Title, "in traffic_shutdown of text") {
		t.Errorf("magru: %+v", s)
	}
	if len(arrowsFrom(v, "magru")) != 0 {
		t.Errorf("magru refuses text's users, yet has arrows %v", arrowsFrom(v, "magru"))
	}
	in.Cluster = "upload"
	if s := siteOf(t, build(in), "magru"); s.Shutdown {
		t.Error("magru is shut down for text only")
	}
	p, err := Page(in, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !hasAlert(p.Alerts, "warning", "text: shutdown for users entering at magru") {
		t.Errorf("alerts: %+v", p.Alerts)
	}
	if !strings.Contains(string(p.Body), `<td id="route-text-magru" data-cluster="text" data-site="magru" data-status="shutdown">`) {
		t.Error("the routes table lacks text/magru's shutdown row")
	}
}
