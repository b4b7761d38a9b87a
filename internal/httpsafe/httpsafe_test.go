package httpsafe

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scrape serves reg's metrics and returns the text exposition.
func scrape(t *testing.T, reg prometheus.Gatherer) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		status   int    // 0: the request itself fails (connection aborted)
		body     string // substring
		panics   float64
		stackLog bool
	}{
		{"no panic", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fine") }, 200, "fine", 0, false},
		{"panic before writing: 500", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Routing-Generation", "7")
			panic("boom")
		}, 500, `{"error": "internal error"}`, 1, true},
		{"panic after writing: aborted", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "half")
			w.(http.Flusher).Flush()
			panic("boom")
		}, 0, "", 1, true},
		{"ErrAbortHandler passes through", func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}, 0, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			reg := prometheus.NewRegistry()
			inc, err := Counter(reg, "x_panics_total", "help", nil)
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/x", tt.handler)
			mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "next") })
			srv := httptest.NewServer(Wrap(mux, slog.New(slog.NewTextHandler(&logs, nil)), inc))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/x")
			switch {
			case tt.status == 0 && err == nil:
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil {
					t.Fatalf("a response cut short was read as whole (status %d)", resp.StatusCode)
				}
			case tt.status != 0:
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.body) {
					t.Fatalf("got %d %q, want %d %q", resp.StatusCode, b, tt.status, tt.body)
				}
				if tt.status == 500 && (resp.Header.Get("X-Routing-Generation") != "" || resp.Header.Get("Content-Type") != "application/json") {
					t.Errorf("500 headers: %v", resp.Header)
				}
			}
			if want := fmt.Sprintf("x_panics_total %g\n", tt.panics); !strings.Contains(scrape(t, reg), want) {
				t.Errorf("metrics lack %q:\n%s", want, scrape(t, reg))
			}
			hasStack := strings.Contains(logs.String(), "goroutine ") && strings.Contains(logs.String(), "httpsafe.TestWrap")
			if hasStack != tt.stackLog || strings.Count(logs.String(), "panic while serving") != int(tt.panics) {
				t.Errorf("log (stack wanted: %v):\n%s", tt.stackLog, logs.String())
			}
			// The server goes on.
			resp, err = http.Get(srv.URL + "/ok")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "next" {
				t.Fatalf("next request: %q", b)
			}
		})
	}
}

func TestCounterReusedWhenRegisteredTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	inc1, err := Counter(reg, "x_panics_total", "help", prometheus.Labels{"handler": "http"})
	if err != nil {
		t.Fatal(err)
	}
	inc2, err := Counter(reg, "x_panics_total", "help", prometheus.Labels{"handler": "http"})
	if err != nil {
		t.Fatal(err)
	}
	inc1()
	inc2()
	if got := scrape(t, reg); !strings.Contains(got, "x_panics_total{handler=\"http\"} 2\n") || strings.Count(got, "x_panics_total{") != 1 {
		t.Fatalf("want one series at 2:\n%s", got)
	}
}
