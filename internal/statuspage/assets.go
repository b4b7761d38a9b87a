package statuspage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// AssetPrefix is where Assets expects to be mounted.
const AssetPrefix = "/static/status/"

// asset is one embedded file with what serving it needs.
type asset struct {
	data        []byte
	contentType string
	etag        string
}

// Assets returns the handler for the shared stylesheet and script under
// /static/status/ (mount it on the same mux as the page). It serves only
// the known files, GET and HEAD only, with no directory listing.
func Assets() http.Handler {
	files := map[string]asset{
		"status.css": load("static/status.css", "text/css; charset=utf-8"),
		"status.js":  load("static/status.js", "text/javascript; charset=utf-8"),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		a, ok := files[strings.TrimPrefix(r.URL.Path, AssetPrefix)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		setHeaders(w.Header(), a.contentType)
		// Revalidate every time: the assets change with the binary, and the
		// ETag makes the check cheap.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
	})
}

func load(name, contentType string) asset {
	data, err := staticFS.ReadFile(name)
	if err != nil {
		panic("statuspage: embedded asset missing: " + name) // the build embeds it
	}
	sum := sha256.Sum256(data)
	return asset{data: data, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}
