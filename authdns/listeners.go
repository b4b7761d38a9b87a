package authdns

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/geotraffic/geotraffic/internal/unixctl"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// listeners owns the control API (Unix socket and optional TCP, with or
// without TLS) and the metrics endpoint, and moves them when a reload
// changes their addresses: the new listener serves before the old one is
// shut down.
type listeners struct {
	d                  *Daemon
	unix, tcp, metrics *httpListener
	token              atomic.Pointer[[]byte]
	// cert is the TCP control listener's TLS certificate: a reload
	// replaces it for new connections without reopening the socket.
	cert atomic.Pointer[tls.Certificate]
	// clientCAs verify client certificates (control_client_ca); nil:
	// the token is the only way in.
	clientCAs atomic.Pointer[x509.CertPool]
}

type httpListener struct {
	addr string // what the configuration asked for: a new value reopens it
	ln   net.Listener
	srv  *http.Server
	path string // Unix socket file to remove on close
}

func (l *listeners) apply(cfg *Config) error {
	commit, err := l.prepare(cfg)
	if err != nil {
		return err
	}
	commit(true)
	return nil
}

// prepare opens the listeners cfg needs that are not open yet. The
// returned function either starts them and retires the ones they replace
// (true) or closes them (false).
func (l *listeners) prepare(cfg *Config) (func(bool), error) {
	token, err := readToken(cfg)
	if err != nil {
		return nil, err
	}
	cert, err := loadControlCert(cfg)
	if err != nil {
		return nil, err
	}
	cas, err := loadClientCAs(cfg)
	if err != nil {
		return nil, err
	}
	type change struct {
		slot *(*httpListener)
		next *httpListener
	}
	var changes []change
	fail := func(err error) (func(bool), error) {
		for _, c := range changes {
			if c.next != nil {
				c.next.close()
			}
		}
		return nil, err
	}
	tcpKey := cfg.ControlTCP
	if tcpKey != "" && cfg.ControlTLS() {
		tcpKey = "https://" + tcpKey // turning TLS on or off reopens the listener
	}
	want := []struct {
		slot      *(*httpListener)
		key, addr string
		open      func(string) (*httpListener, error)
	}{
		{&l.unix, cfg.Control, cfg.Control, l.openUnix},
		{&l.tcp, tcpKey, cfg.ControlTCP, func(a string) (*httpListener, error) { return l.openTCP(a, cfg.ControlTLS()) }},
		{&l.metrics, cfg.Metrics, cfg.Metrics, l.openMetrics},
	}
	for _, w := range want {
		cur := *w.slot
		if (cur == nil && w.key == "") || (cur != nil && cur.addr == w.key) {
			continue
		}
		var next *httpListener
		if w.key != "" {
			if next, err = w.open(w.addr); err != nil {
				return fail(err)
			}
			next.addr = w.key
		}
		changes = append(changes, change{w.slot, next})
	}
	return func(ok bool) {
		if !ok {
			fail(nil)
			return
		}
		l.token.Store(&token)
		l.cert.Store(cert)
		l.clientCAs.Store(cas)
		for _, c := range changes {
			old := *c.slot
			if c.next != nil {
				go c.next.srv.Serve(c.next.ln)
			}
			*c.slot = c.next
			if old != nil {
				// Graceful, in the background: the request that asked
				// for this reload may be running on it.
				go old.shutdown(5 * time.Second)
			}
		}
	}, nil
}

func (l *listeners) closeAll() {
	for _, h := range []*httpListener{l.unix, l.tcp, l.metrics} {
		if h != nil {
			h.close()
		}
	}
}

func (h *httpListener) close() {
	if h.srv != nil {
		h.srv.Close()
	}
	h.ln.Close()
	if h.path != "" {
		os.Remove(h.path)
	}
}

func (h *httpListener) shutdown(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	h.srv.Shutdown(ctx)
	h.close()
}

// newHTTPServer serves h behind guardHTTP; net/http's own messages (TLS
// handshake failures, accept errors) go to the daemon's slog logger as
// warnings, so JSON logs stay one JSON object per line.
func (l *listeners) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: l.d.guardHTTP(h), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second,
		ErrorLog: slog.NewLogLogger(l.d.log.Handler(), slog.LevelWarn)}
}

// openUnix opens the control socket (see unixctl: mode 0600, root or
// the daemon's user only).
func (l *listeners) openUnix(path string) (*httpListener, error) {
	ln, err := unixctl.Listen(path, l.d.log)
	if err != nil {
		return nil, fmt.Errorf("control %w", err)
	}
	h := &httpListener{addr: path, path: path, ln: ln}
	h.srv = l.newHTTPServer(newControlHandler(l.d))
	return h, nil
}

// openTCP opens the TCP control listener, behind TLS when withTLS (the
// certificate is l.cert at each handshake).
func (l *listeners) openTCP(addr string, withTLS bool) (*httpListener, error) {
	if err := controlTCPAddr(addr, withTLS); err != nil {
		return nil, fmt.Errorf("control_tcp: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("control_tcp: %w", err)
	}
	if withTLS {
		ln = tls.NewListener(ln, serverTLSConfig(&l.cert, &l.clientCAs))
	}
	inner := newControlHandler(l.d)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.authorized(r) {
			l.d.log.Warn("control: refused a TCP client without a valid token or client certificate", "client", r.RemoteAddr, "path", r.URL.Path)
			writeError(w, http.StatusUnauthorized, errors.New("a valid bearer token (or a client certificate signed by control_client_ca) is required"))
			return
		}
		inner.ServeHTTP(w, r)
	})
	return &httpListener{addr: addr, ln: ln, srv: l.newHTTPServer(h)}, nil
}

func (l *listeners) openMetrics(addr string) (*httpListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(l.d.reg, promhttp.HandlerOpts{}))
	l.d.mountStatusPage(mux)
	return &httpListener{addr: addr, ln: ln, srv: l.newHTTPServer(mux)}, nil
}

// readToken reads the TCP control token; it must not be readable by group
// or others, and must not be empty.
func readToken(cfg *Config) ([]byte, error) {
	if cfg.ControlTCP == "" || cfg.ControlTokenFile == "" {
		return nil, nil // no TCP listener, or client certificates only
	}
	info, err := os.Stat(cfg.ControlTokenFile)
	if err != nil {
		return nil, fmt.Errorf("control_token_file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("control_token_file %s: mode %v lets other users read the token; chmod 600 it", cfg.ControlTokenFile, info.Mode().Perm())
	}
	data, err := os.ReadFile(cfg.ControlTokenFile)
	if err != nil {
		return nil, fmt.Errorf("control_token_file: %w", err)
	}
	tok := []byte(strings.TrimSpace(string(data)))
	if len(tok) < 16 {
		return nil, fmt.Errorf("control_token_file %s: the token must be at least 16 characters", cfg.ControlTokenFile)
	}
	return tok, nil
}
