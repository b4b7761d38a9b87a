// Package statuspage renders the read-only HTML status pages of every
// daemon with one look: server-rendered, complete without JavaScript, kept
// current by a small embedded script, with no third-party assets.
package statuspage

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"slices"
	"time"
)

//go:embed layout.html
var layoutFS embed.FS

// Page is one rendered status page.
type Page struct {
	Daemon   string        // "authdns", "lvsd", "trafficctl": shown in the header
	Title    string        // the page's heading
	Rendered time.Time     // shown as "rendered at ..." (UTC, RFC 3339)
	JSON     []string      // paths of the JSON twins, linked in the footer
	Alerts   []Alert       // shown on top, most severe first
	Body     template.HTML // the page's own content, rendered by the caller with html/template
}

// Alert is one line shown above a page's body.
type Alert struct {
	Level string // "ok", "warning" or "critical"
	Text  string
}

// csp allows only the page's own script and stylesheet: inline SVG is markup
// and needs nothing, while inline <script>, style attributes and every
// foreign origin are refused.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// layout is parsed once; html/template escapes every field by context.
var layout = template.Must(template.New("layout.html").Funcs(Funcs).ParseFS(layoutFS, "layout.html"))

// Handler serves the page render returns (GET and HEAD only), or its <main>
// element alone when the request has ?fragment=1: the refresh script fetches
// that once a second and swaps it in. render is called per request. Mount it
// on an exact path ("GET /{$}"), and Assets under /static/status/ beside it.
func Handler(render func(r *http.Request) (Page, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		p, err := render(r)
		if err != nil {
			http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
			return
		}
		body, err := execute(p, r.URL.Query().Get("fragment") == "1")
		if err != nil {
			http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
			return
		}
		setHeaders(w.Header(), "text/html; charset=utf-8")
		w.Write(body)
	})
}

// execute renders the whole page, or its <main> alone, into memory so that
// a template error gives a 500 and never half a page.
func execute(p Page, fragment bool) ([]byte, error) {
	p.Alerts = sortAlerts(p.Alerts)
	name := "layout.html"
	if fragment {
		name = "main"
	}
	var buf bytes.Buffer
	if err := layout.ExecuteTemplate(&buf, name, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sortAlerts returns alerts most severe first, keeping the caller's order
// within a level.
func sortAlerts(alerts []Alert) []Alert {
	out := slices.Clone(alerts)
	slices.SortStableFunc(out, func(a, b Alert) int { return severity(b.Level) - severity(a.Level) })
	return out
}

func severity(level string) int {
	switch level {
	case "critical":
		return 2
	case "warning":
		return 1
	}
	return 0
}

// readOnly answers anything but GET and HEAD with 405.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "status pages are read-only: "+r.Method+" not allowed", http.StatusMethodNotAllowed)
	return false
}

func setHeaders(h http.Header, contentType string) {
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}
