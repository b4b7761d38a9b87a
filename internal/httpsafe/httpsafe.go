// Package httpsafe guards net/http handlers against panics, the same way
// for every daemon of the module: one log line with the stack, a counter,
// and a 500 for that request, while the server goes on.
//
// net/http recovers a handler's panic on its own, but only prints it to
// the server's ErrorLog and drops the connection, with no count and no
// status for the client; a daemon that logs JSON gets a multi-line stack
// outside it.
package httpsafe

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Wrap returns h guarded: a panic in h is logged once (with the request's
// method, path and client, the panic value and the stack), counted with
// count (nil: not counted) and answered 500 if h wrote nothing yet. If h
// had already written, the connection is aborted instead, so the client
// cannot take a truncated response for a whole one.
// http.ErrAbortHandler passes through untouched: handlers panic with it
// to abort on purpose.
func Wrap(h http.Handler, log *slog.Logger, count func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			if count != nil {
				count()
			}
			log.Error("panic while serving an HTTP request; the request failed and the server goes on",
				"method", r.Method, "path", r.URL.Path, "client", r.RemoteAddr,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rw.wrote {
				panic(http.ErrAbortHandler)
			}
			// Headers the handler set for its own response would
			// describe this one wrongly.
			clear(w.Header())
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error": "internal error"}`+"\n")
		}()
		h.ServeHTTP(rw, r)
	})
}

// recorder notes whether the handler wrote anything, which decides
// between a 500 and aborting the connection.
type recorder struct {
	http.ResponseWriter
	wrote bool
}

func (r *recorder) WriteHeader(code int) {
	r.wrote = true
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Flush keeps streaming handlers (and promhttp) able to flush.
func (r *recorder) Flush() {
	r.wrote = true
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Counter registers a counter of handler panics on reg, with constant
// labels, and returns its Inc for Wrap. A counter already registered under
// the same name and labels is reused, so building a handler twice does not
// fail.
func Counter(reg prometheus.Registerer, name, help string, labels prometheus.Labels) (func(), error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels})
	if err := reg.Register(c); err != nil {
		var dup prometheus.AlreadyRegisteredError
		if !errors.As(err, &dup) {
			return nil, fmt.Errorf("registering %s: %w", name, err)
		}
		existing, ok := dup.ExistingCollector.(prometheus.Counter)
		if !ok {
			return nil, fmt.Errorf("registering %s: %w", name, err)
		}
		return existing.Inc, nil
	}
	return c.Inc, nil
}

// Guard is Wrap with the panics counted in a counter registered on reg by
// Counter. A counter that cannot be registered is logged and the handler
// still guarded: a panic is then logged and answered, only not counted.
func Guard(h http.Handler, log *slog.Logger, reg prometheus.Registerer, name, help string, labels prometheus.Labels) http.Handler {
	count, err := Counter(reg, name, help, labels)
	if err != nil {
		log.Error("panics are not counted", "err", err)
	}
	return Wrap(h, log, count)
}
