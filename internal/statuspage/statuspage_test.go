package statuspage

import (
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var rendered = time.Date(2026, 12, 6, 19, 30, 0, 0, time.UTC)

// hostile is a name from config or etcd that tries to inject markup.
const hostile = `esams"><script>alert(1)</script><img src=x onerror=alert(2)>`

func hostilePage(r *http.Request) (Page, error) {
	body := template.Must(template.New("b").Parse(`<p id="name">{{.}}</p>`))
	var sb strings.Builder
	if err := body.Execute(&sb, hostile); err != nil {
		return Page{}, err
	}
	return Page{
		Daemon:   hostile,
		Title:    hostile,
		Rendered: rendered,
		JSON:     []string{"/status", `javascript:alert(3)`},
		Alerts:   []Alert{{"ok", "fine"}, {"warning", hostile}, {"critical", "site down"}},
		Body:     template.HTML(sb.String()),
	}, nil
}

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestHandlerEscapesHostileNames(t *testing.T) {
	rec := get(t, Handler(hostilePage), "GET", "/")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q unescaped:\n%s", bad, body)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("hostile name not shown escaped:\n%s", body)
	}
	if strings.Count(body, "<script") != 1 {
		t.Errorf("want exactly the one embedded script tag:\n%s", body)
	}
}

func TestHandlerFullPage(t *testing.T) {
	rec := get(t, Handler(hostilePage), "GET", "/")
	body := rec.Body.String()
	for _, want := range []string{
		"<!DOCTYPE html>",
		`<link rel="stylesheet" href="/static/status/status.css">`,
		`<script src="/static/status/status.js" defer></script>`,
		`<noscript><meta http-equiv="refresh" content="5"></noscript>`,
		`<time id="rendered-at" datetime="2026-12-06T19:30:00Z">2026-12-06T19:30:00Z</time>`,
		`<a class="json-twin" href="/status">/status</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	h := rec.Header()
	if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", csp)
	}
}

func TestHandlerAlertsMostSevereFirst(t *testing.T) {
	body := get(t, Handler(hostilePage), "GET", "/").Body.String()
	crit, warn, ok := strings.Index(body, `data-level="critical"`), strings.Index(body, `data-level="warning"`), strings.Index(body, `data-level="ok"`)
	if crit < 0 || warn < 0 || ok < 0 || !(crit < warn && warn < ok) {
		t.Errorf("alerts out of order (critical %d, warning %d, ok %d):\n%s", crit, warn, ok, body)
	}
}

func TestHandlerFragment(t *testing.T) {
	body := get(t, Handler(hostilePage), "GET", "/?fragment=1&cluster=x").Body.String()
	if !strings.HasPrefix(body, `<main id="status-main"`) || !strings.HasSuffix(strings.TrimSpace(body), "</main>") {
		t.Errorf("fragment is not the <main> element alone:\n%s", body)
	}
	for _, absent := range []string{"<html", "<head", "<footer", "status.js"} {
		if strings.Contains(body, absent) {
			t.Errorf("fragment contains %q", absent)
		}
	}
	if !strings.Contains(body, `id="rendered-at"`) || !strings.Contains(body, `id="name"`) {
		t.Errorf("fragment lacks the rendered time or the body:\n%s", body)
	}
}

func TestHandlerGetOnly(t *testing.T) {
	calls := 0
	h := Handler(func(r *http.Request) (Page, error) { calls++; return Page{Title: "x"}, nil })
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		rec := get(t, h, m, "/")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d, Allow %q", m, rec.Code, rec.Header().Get("Allow"))
		}
	}
	if calls != 0 {
		t.Errorf("render called %d times for refused methods", calls)
	}
	if rec := get(t, h, "HEAD", "/"); rec.Code != 200 {
		t.Errorf("HEAD: status %d", rec.Code)
	}
}

func TestHandlerRenderError(t *testing.T) {
	h := Handler(func(r *http.Request) (Page, error) { return Page{}, errors.New("zones not loaded") })
	rec := get(t, h, "GET", "/")
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "zones not loaded") {
		t.Errorf("status %d body %q", rec.Code, rec.Body)
	}
}

func TestAssets(t *testing.T) {
	h := Assets()
	for path, ctype := range map[string]string{
		"/static/status/status.css": "text/css; charset=utf-8",
		"/static/status/status.js":  "text/javascript; charset=utf-8",
	} {
		rec := get(t, h, "GET", path)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != ctype || rec.Body.Len() == 0 {
			t.Errorf("%s: status %d, type %q, %d bytes", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
		}
		etag := rec.Header().Get("ETag")
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("If-None-Match", etag)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if etag == "" || rec.Code != http.StatusNotModified {
			t.Errorf("%s: revalidation with ETag %q gave %d", path, etag, rec.Code)
		}
	}
	for _, path := range []string{"/static/status/", "/static/status/../layout.html", "/static/status/static/status.js"} {
		if rec := get(t, h, "GET", path); rec.Code != 404 {
			t.Errorf("%s: status %d, want 404", path, rec.Code)
		}
	}
	if rec := get(t, h, "POST", "/static/status/status.js"); rec.Code != 405 {
		t.Errorf("POST asset: status %d", rec.Code)
	}
}

func TestAssetsServedBesidePage(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", Handler(hostilePage))
	mux.Handle(AssetPrefix, Assets())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/static/status/status.js")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	js, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(js), "fragment") {
		t.Errorf("status %d, script %q", resp.StatusCode, js)
	}
}

func TestStateClass(t *testing.T) {
	for in, want := range map[string]string{
		"UP": "state-up", "DOWN": "state-down", "DOWN!": "state-down", "UP!": "state-up", "DOWN (forced)": "state-down", "up/2": "state-up",
		"degraded": "state-degraded", "": "state-unknown", "NONE": "state-unknown", " ok ": "state-up",
	} {
		if got := StateClass(in); got != want {
			t.Errorf("StateClass(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAgo(t *testing.T) {
	if got := Ago(time.Time{}); got != "never" {
		t.Errorf("Ago(zero) = %q", got)
	}
	if got := Ago(time.Now().Add(-90 * time.Second)); got != "1m30s ago" {
		t.Errorf("Ago(-90s) = %q", got)
	}
}
