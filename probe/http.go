package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// HTTP is a GET request sent to one server.
type HTTP struct {
	// URL is http:// or https://; its host is the Host header and the TLS
	// server name, not where the request goes.
	URL       string
	UserAgent string
	// BodyLimit is how much of the body is read (and discarded) before
	// the connection is closed.
	BodyLimit int64
}

// Get sends h to addr over a new connection (HTTP/1.1, Connection:
// close) and returns the response's status. A redirect is not followed:
// its status is the result. A server certificate is not verified (servers
// present the public name's certificate; a health check is not the place
// to judge it).
//
// It writes the request and reads the response on the connection itself
// rather than through an http.Transport: a check is one request on one
// connection, and the transport's connection machinery would cost
// several times the check's own work at thousands of checks a second.
func (h HTTP) Get(ctx context.Context, addr netip.AddrPort) (status int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return 0, err
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return 0, fmt.Errorf("unsupported protocol scheme %q", req.URL.Scheme)
	}
	req.Header.Set("User-Agent", h.UserAgent)
	req.Close = true
	conn, err := dial(ctx, addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// Blocked reads and writes end with ctx.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if req.URL.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: req.URL.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			return 0, ctxErr(ctx, err)
		}
		conn = tc
	}
	if err := req.Write(conn); err != nil {
		return 0, ctxErr(ctx, err)
	}
	br := bufio.NewReader(conn)
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return 0, ctxErr(ctx, err)
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue // an interim response; the final one follows
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, h.BodyLimit))
		resp.Body.Close()
		return resp.StatusCode, nil
	}
}

// dial connects to addr. Keepalive probes are off: the connection lives
// for one check, and setting them up costs system calls.
func dial(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	d := net.Dialer{KeepAlive: -1}
	conn, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	return conn, nil
}

// ctxErr is ErrTimedOut when ctx's deadline ended the check, else err.
func ctxErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrTimedOut
	}
	return err
}
