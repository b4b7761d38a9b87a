package main

import (
	"net/http"
	"time"
)

// newHTTPServer is serve's HTTP server: every connection is bounded, so a
// client stuck half-way through a request, one that never reads its
// answer, or an idle keep-alive connection cannot hold a connection and
// its goroutine forever; idle is how long a keep-alive connection may wait
// for its next request.
func newHTTPServer(h http.Handler, idle time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: idle}
}
