package pool

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Source fetches a pool document.
type Source interface {
	// Fetch returns the document, or changed=false when it is known to be
	// unchanged since the last successful fetch (a file's stat).
	Fetch(ctx context.Context) (data []byte, changed bool, err error)
	String() string
}

// NewSource returns the polled source for a pybal.conf "config" URL
// (file://, http://, https://); https:// is verified against the system
// roots.
func NewSource(rawURL string, timeout time.Duration) (Source, error) {
	return NewSourceTLS(rawURL, timeout, TLS{})
}

// NewSourceTLS is NewSource with the verification of https:// sources.
func NewSourceTLS(rawURL string, timeout time.Duration, t TLS) (Source, error) {
	switch {
	case strings.HasPrefix(rawURL, "file://"):
		return &fileSource{path: strings.TrimPrefix(rawURL, "file://")}, nil
	case strings.HasPrefix(rawURL, "http://"), strings.HasPrefix(rawURL, "https://"):
		if _, err := url.Parse(rawURL); err != nil {
			return nil, fmt.Errorf("pool source %s: %w", rawURL, err)
		}
		return &httpSource{url: rawURL, client: &http.Client{
			Timeout:   timeout,
			Transport: &http.Transport{TLSClientConfig: t.config(), DisableKeepAlives: true},
		}}, nil
	case IsEtcdURL(rawURL):
		return nil, fmt.Errorf("pool source %s: etcd sources are watched (ParseEtcdURL and an etcdstore.Watcher), not polled", rawURL)
	}
	return nil, fmt.Errorf("pool source %s: unknown scheme", rawURL)
}

// IsJSON reports whether the URL names a JSON document (PyBal's rule).
func IsJSON(rawURL string) bool {
	u := rawURL
	if i := strings.IndexAny(u, "?#"); i >= 0 && !strings.HasPrefix(rawURL, "file://") {
		u = u[:i]
	}
	return strings.HasSuffix(u, ".json")
}

// fileName names a source's documents in errors: a file's path, else the
// URL.
func fileName(src Source) string {
	if f, ok := src.(*fileSource); ok {
		return f.path
	}
	return src.String()
}

type fileSource struct {
	path string
	last os.FileInfo
}

func (f *fileSource) String() string { return "file://" + f.path }

func (f *fileSource) Fetch(context.Context) ([]byte, bool, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		f.last = nil
		return nil, false, err
	}
	if f.last != nil && st.ModTime().Equal(f.last.ModTime()) && st.Size() == f.last.Size() && os.SameFile(st, f.last) {
		return nil, false, nil
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, false, err
	}
	f.last = st
	return data, true, nil
}

type httpSource struct {
	url    string
	client *http.Client
}

func (h *httpSource) String() string { return h.url }

const maxPoolBytes = 16 << 20

func (h *httpSource) Fetch(ctx context.Context) ([]byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return nil, false, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("HTTP status %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxPoolBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(data) > maxPoolBytes {
		return nil, false, fmt.Errorf("pool document larger than %d bytes", maxPoolBytes)
	}
	return data, true, nil
}
