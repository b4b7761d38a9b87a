package status

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// fakeKernel stands in for IPVS read over netlink.
type fakeKernel struct {
	status []ipvs.ServiceStatus
	err    error
	opened int
	closed int
}

func (k *fakeKernel) open() (Kernel, error) {
	k.opened++
	if k.err != nil {
		return nil, k.err
	}
	return k, nil
}
func (k *fakeKernel) Status(context.Context) ([]ipvs.ServiceStatus, error) { return k.status, nil }
func (k *fakeKernel) Close() error                                         { k.closed++; return nil }

const runConf = `[global]
instrumentation = INSTR
instrumentation_ips = ["127.0.0.1"]

[text_80]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = wlc
config = file:///etc/pybal/pools/text

[etcd_80]
protocol = tcp
ip = 10.2.2.2
port = 80
scheduler = rr
config = etcd://conf1001/conftool/v1/pools/eqiad/appserver/apache2/
`

func runConfig(t *testing.T, instrumentation string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("/etc/pybal/pybal.conf", []byte(strings.Replace(runConf, "INSTR", instrumentation, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func kernelTable() []ipvs.ServiceStatus {
	return []ipvs.ServiceStatus{svc("wlc", dest("10.0.0.1", 10, 7, 9))}
}

func TestRunSources(t *testing.T) {
	daemon := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pools/text_80":
			w.Write([]byte(`{"mw1": {"pooled": true, "weight": 10, "up": true, "enabled": true, "address": "10.0.0.1"}}`))
		case "/pools/etcd_80":
			w.Write([]byte(`{}`))
		case "/ipvs/drift":
			w.Write([]byte(`{"total": {"-d": 1, "-e": 0}, "recent": [{"undone": "-d -t 10.2.2.1:80 -r 10.0.0.1:80",` +
				` "restored": "-a -t 10.2.2.1:80 -r 10.0.0.1:80 -g -w 10", "at": "2026-12-06T20:00:00Z"}]}`))
		case "/ipvs":
			w.Write([]byte(`[{"protocol": "tcp", "address": "10.2.2.1", "port": 80, "scheduler": "wlc", "destinations": [` +
				`{"address": "10.0.0.1", "port": 80, "weight": 10, "forward": "dr", "active_conns": 1, "inactive_conns": 2}]}]`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer daemon.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	tests := []struct {
		name       string
		instr, url string
		wantKernel bool
		want       []string
		notWant    []string
	}{
		{"instrumentation off: the kernel, with a note", "no", "", true,
			[]string{"# The daemon's view is unavailable: /etc/pybal/pybal.conf has instrumentation off",
				"servers' enabled/up/pooled states are unknown",
				"TCP  10.2.2.1:80 wlc  [text_80]", "Route   10     7          9          ?    state unknown"},
			[]string{"state unavailable", "not in pool"}},
		{"daemon answers: its view", "no", daemon.URL, false,
			[]string{"Route   10     1          2          mw1  enabled/up/pooled",
				"\nIPVS drift repairs (changes made outside lvsd, undone): 1 (-d: 1)\n" +
					`  2026-12-06T20:00:00Z undone "-d -t 10.2.2.1:80 -r 10.0.0.1:80", restored by "-a -t 10.2.2.1:80 -r 10.0.0.1:80 -g -w 10"` + "\n"},
			[]string{"daemon's view is unavailable", "state unknown"}},
		{"daemon does not answer: the kernel, with a note", "no", gone.URL, true,
			[]string{"# The daemon's view is unavailable: lvsd at " + gone.URL + " did not answer", "?    state unknown"},
			[]string{"state unavailable"}},
	}
	for _, tc := range tests {
		k := &fakeKernel{status: kernelTable()}
		var b strings.Builder
		err := Run(context.Background(), &b, Options{Config: runConfig(t, tc.instr), URL: tc.url, OpenKernel: k.open})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		out := b.String()
		if (k.opened == 1) != tc.wantKernel || k.closed != k.opened {
			t.Errorf("%s: kernel opened %d, closed %d times", tc.name, k.opened, k.closed)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(out, w) {
				t.Errorf("%s: output has %q:\n%s", tc.name, w, out)
			}
		}
		// Whichever view, the etcd service is listed as any other: here
		// without servers and not (yet) in IPVS.
		if !strings.Contains(out, "TCP  10.2.2.2:80 -  [etcd_80]\n  !! service not in IPVS\n") {
			t.Errorf("%s: etcd service:\n%s", tc.name, out)
		}
	}
}

func TestRunKernelUnreadable(t *testing.T) {
	k := &fakeKernel{err: errors.New("IPVS not available: load ip_vs")}
	var b strings.Builder
	err := Run(context.Background(), &b, Options{Config: runConfig(t, "no"), OpenKernel: k.open})
	if err == nil || !strings.Contains(err.Error(), "instrumentation off") || !strings.Contains(err.Error(), "reading IPVS directly failed: IPVS not available") {
		t.Errorf("err = %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("output on failure: %q", b.String())
	}
}

func TestBaseURL(t *testing.T) {
	if u, ok := BaseURL(runConfig(t, "no")); ok || u != "" {
		t.Errorf("off: %q %v", u, ok)
	}
	if u, ok := BaseURL(runConfig(t, "yes")); !ok || u != "http://127.0.0.1:9090" {
		t.Errorf("on: %q %v", u, ok)
	}
}
