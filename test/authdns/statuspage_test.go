package authdnse2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/test/internal/browser"
)

// statusPageServer starts authdns with its metrics listener (where the
// status page is) and answers a few DYNA queries, one per reason.
func statusPageServer(t *testing.T) (*server, string) {
	t.Helper()
	metrics := testutil.FreeAddr(t)
	s := startServerWith(t, "metrics: "+metrics+"\n", "# nothing forced\n")
	for _, subnet := range []string{"10.1.0.0/24", "198.51.100.0/26", "100.96.0.0/24", "8.8.8.0/24", "8.8.8.0/24"} {
		mustAsk(t, s.addr, "udp", "www.example.org.", dns.TypeA, subnet)
	}
	return s, "http://" + metrics
}

func soaSerial(t *testing.T, s *server) string {
	t.Helper()
	r := mustAsk(t, s.addr, "udp", "example.org.", dns.TypeSOA, "")
	if len(r.Answer) != 1 {
		t.Fatalf("SOA: %v", r)
	}
	return strconv.FormatUint(uint64(r.Answer[0].(*dns.SOA).Serial), 10)
}

func TestStatusPage(t *testing.T) {
	s, base := statusPageServer(t)
	b := browser.New(t)
	b.Open(base + "/")

	zone := `#zones tr[data-zone="example.org."] td.serial`
	b.WaitFor(zone)
	if got, want := b.Text(zone), soaSerial(t, s); got != want {
		t.Errorf("zone serial on the page %q, SOA says %q", got, want)
	}
	if !b.HasClass("#site-esams", "state-up") {
		t.Errorf("esams is not up at the start: class %q", b.Attr("#site-esams", "class"))
	}
	// The answers just sent, since the start and in the chart's interval
	// so far (the default answer is eqiad's).
	if got := b.Text(`#answers tr[data-site="eqiad"] td.total`); got == "" || got == "0" {
		t.Errorf("eqiad's answers since the start: %q", got)
	}
	b.WaitFor(`#chart-reasons polyline.series[data-series="default"]`)
	b.WaitFor(`#chart-sites polyline.series[data-series="eqiad"]`)

	testutil.WriteAtomic(t, filepath.Join(s.dir, "admin_state"), "site/esams => DOWN\n")
	b.WaitFor("#site-esams.state-down")
	b.WaitFor(`td[data-key="geoip/text-addrs/esams"].state-down`)
	if got := b.Text(`td[data-key="geoip/text-addrs/esams"] .real`); got != "monitored UP" {
		t.Errorf("esams's monitored state on the page %q, want monitored UP", got)
	}
	b.WaitFor(`.alert[data-level="warning"]`)
	if got := b.Text(`.alert[data-level="warning"]`); got != "DOWN: site esams (forced: "+filepath.Join(s.dir, "admin_state")+":1)" {
		t.Errorf("alert %q", got)
	}
	for _, twin := range []struct{ section, href string }{
		{"#zones-panel", "/v1/status"}, {"#states-panel", "/v1/states"}, {"#answers-panel", "/v1/answers"},
	} {
		if got := b.Attr(twin.section+" a.twin", "href"); got != twin.href {
			t.Errorf("%s names JSON twin %q, want %q", twin.section, got, twin.href)
		}
	}
	if errs := b.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("console errors: %q", errs)
	}
	b.Screenshot("authdns-status")
}

// TestStatusPageWithoutJavaScript: the server-rendered page is complete.
func TestStatusPageWithoutJavaScript(t *testing.T) {
	s, base := statusPageServer(t)
	b := browser.New(t, browser.WithoutJavaScript())
	b.Open(base + "/")
	b.WaitFor(`#zones tr[data-zone="example.org."]`)
	if got, want := b.Text(`#zones tr[data-zone="example.org."] td.serial`), soaSerial(t, s); got != want {
		t.Errorf("zone serial %q, want %q", got, want)
	}
	for _, sel := range []string{"#site-esams.state-up", "#states", "#answers", "#chart-sites", "#rendered-at"} {
		b.WaitFor(sel)
	}
	if got := b.Text("#refresh-state"); got != "refreshes every 5 s" {
		t.Errorf("refresh state %q without JavaScript", got)
	}
}

// TestStatusPageJSONTwins: the views the page names answer on the same
// listener, read-only.
func TestStatusPageJSONTwins(t *testing.T) {
	s, base := statusPageServer(t)
	var status struct {
		Zones []struct {
			Name   string
			Serial uint32
		}
	}
	getJSON(t, base+"/v1/status", &status)
	if len(status.Zones) != 1 || strconv.FormatUint(uint64(status.Zones[0].Serial), 10) != soaSerial(t, s) {
		t.Errorf("/v1/status zones %+v", status.Zones)
	}
	var states map[string]struct{ State string }
	getJSON(t, base+"/v1/states", &states)
	if states["site/esams"].State != "UP" {
		t.Errorf("/v1/states site/esams %+v", states["site/esams"])
	}
	var answers struct {
		IntervalSeconds int `json:"interval_seconds"`
		Current         struct{ Sites map[string]uint64 }
	}
	getJSON(t, base+"/v1/answers", &answers)
	if answers.IntervalSeconds != 10 || answers.Current.Sites["eqiad"] == 0 {
		t.Errorf("/v1/answers %+v", answers)
	}
	for _, path := range []string{"/", "/v1/status"} {
		resp, err := http.Post(base+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 405", path, resp.StatusCode)
		}
	}
	resp, err := http.Post(base+"/v1/reload", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /v1/reload on the metrics listener: %d, want 404", resp.StatusCode)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
