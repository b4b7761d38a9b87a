package service

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

func TestOverviewPage(t *testing.T) {
	s, _, _, ap := setup(t)
	testutil.WriteAtomic(t, ap, "site/codfw => DOWN\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	do := func(method, p string) (*http.Response, string) {
		req, err := http.NewRequest(method, srv.URL+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := do("GET", "/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`id="site-codfw" class="site state-down"`, `id="site-ulsfo" class="site state-up"`,
		`data-from="ulsfo" data-to="eqiad"`, "codfw is DOWN (admin_state line 1: site/codfw =&gt; DOWN)",
		`<html`, `href="/static/status/status.css"`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / lacks %s", want)
		}
	}
	if _, frag := do("GET", "/?fragment=1&cluster=text"); !strings.HasPrefix(frag, "<main") || !strings.Contains(frag, `id="site-codfw"`) {
		t.Errorf("the fragment is not the page's <main>: %.200s", frag)
	}
	if resp, _ := do("GET", "/static/status/status.css"); resp.StatusCode != 200 {
		t.Errorf("the stylesheet: %d", resp.StatusCode)
	}
	if resp, _ := do("POST", "/"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405 (the page is read-only)", resp.StatusCode)
	}
	// Every other path keeps its JSON answer.
	if resp, body := do("GET", "/nope"); resp.StatusCode != 404 || !strings.Contains(body, `"error"`) || !strings.Contains(body, "GET /, /routes") {
		t.Errorf("GET /nope: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do("GET", "/routes"); resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/routes: %s", resp.Header.Get("Content-Type"))
	}
}
