package browser

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/statuspage"
)

// counterPage serves a status page whose body shows *n, through the shared
// layout, so these tests also exercise the refresh script and the CSP.
func counterPage(t *testing.T, n *atomic.Int64) string {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", statuspage.Handler(func(r *http.Request) (statuspage.Page, error) {
		v := n.Load()
		state := "UP"
		if v%2 == 1 {
			state = "DOWN"
		}
		body := fmt.Sprintf(`<table class="grid" id="t"><tr><td id="count" class="%s">%d</td></tr></table>`,
			statuspage.StateClass(state), v)
		return statuspage.Page{Daemon: "test", Title: "Counter", Rendered: time.Now(),
			JSON: []string{"/status"}, Body: template.HTML(body)}, nil
	}))
	mux.Handle(statuspage.AssetPrefix, statuspage.Assets())
	mux.HandleFunc("GET /inline", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "script-src 'self'")
		fmt.Fprint(w, `<!DOCTYPE html><title>x</title><p id="p">static</p><script>document.getElementById("p").textContent = "ran"</script>`)
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><title>x</title><p id="p">x</p><script>console.error("boom"); undefinedFunction();</script>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestStatusPageRefreshes(t *testing.T) {
	var n atomic.Int64
	url := counterPage(t, &n)
	b := New(t)
	b.Open(url + "/")
	if got := b.Text("#count"); got != "0" {
		t.Fatalf("count %q, want 0", got)
	}
	if !b.HasClass("#count", "state-up") {
		t.Errorf("count cell lacks state-up")
	}
	n.Store(1)
	b.WaitFor("#count.state-down")
	if got := b.Text("#count"); got != "1" {
		t.Errorf("count %q after the swap, want 1", got)
	}
	if got := b.Attr("#refresh-state", "class"); got != "refresh refresh-live" {
		t.Errorf("refresh state class %q", got)
	}
	if got := b.Attr(".json-twin", "href"); got != "/status" {
		t.Errorf("JSON twin link %q", got)
	}
	if errs := b.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("console errors: %q", errs)
	}
	path := b.Screenshot("counter page")
	if png, err := os.ReadFile(path); err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Errorf("screenshot %s: not a PNG (%v)", path, err)
	}
}

func TestWithoutJavaScript(t *testing.T) {
	var n atomic.Int64
	url := counterPage(t, &n)
	b := New(t, WithoutJavaScript())
	b.Open(url + "/")
	b.WaitFor("table.grid #count")
	if got := b.Text("#refresh-state"); got != "refreshes every 5 s" {
		t.Errorf("refresh state %q: the script ran or <noscript> was not shown", got)
	}
}

func TestConsoleErrorsCollected(t *testing.T) {
	var n atomic.Int64
	url := counterPage(t, &n)
	b := New(t)
	b.Open(url + "/broken")
	b.WaitFor("#p")
	deadline := time.Now().Add(WaitBound)
	for len(b.ConsoleErrors()) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	all := strings.Join(b.ConsoleErrors(), "\n")
	if !strings.Contains(all, "boom") || !strings.Contains(all, "undefinedFunction") {
		t.Errorf("console errors %q lack the error and the exception", all)
	}
}

func TestInlineScriptRefusedByCSP(t *testing.T) {
	var n atomic.Int64
	url := counterPage(t, &n)
	b := New(t)
	b.Open(url + "/inline")
	if got := b.Text("#p"); got != "static" {
		t.Errorf("inline script ran despite the CSP: %q", got)
	}
}
