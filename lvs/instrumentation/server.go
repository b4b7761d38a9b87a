package instrumentation

import (
	"net/http"
	"time"
)

// Timeouts bound the API's HTTP connections, so that a client that stops
// half-way through a request, never reads the answer, or leaves an idle
// keep-alive connection open cannot hold a connection and its goroutine
// forever (monitoring polls /alerts and /metrics from many hosts).
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// DefaultTimeouts are lvsd's: generous for a loaded director answering
// /ipvs or /metrics, short enough to shed stuck and idle clients.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 30 * time.Second, Idle: 60 * time.Second}
}

// orDefault fills the zero fields with DefaultTimeouts'.
func (t Timeouts) orDefault() Timeouts {
	d := DefaultTimeouts()
	for _, f := range []struct{ v, def *time.Duration }{{&t.ReadHeader, &d.ReadHeader}, {&t.Read, &d.Read}, {&t.Write, &d.Write}, {&t.Idle, &d.Idle}} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return t
}

// NewServer is the API's HTTP server for h, with t's timeouts (zero fields
// take the defaults).
func NewServer(h http.Handler, t Timeouts) *http.Server {
	t = t.orDefault()
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle}
}
