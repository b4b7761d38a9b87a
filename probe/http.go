package probe

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
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

// Get sends h to addr over a new connection and returns the response's
// status. A redirect is not followed: its status is the result. A server
// certificate is not verified (servers present the public name's
// certificate; a health check is not the place to judge it).
func (h HTTP) Get(ctx context.Context, addr netip.AddrPort) (status int, err error) {
	u, err := url.Parse(h.URL)
	if err != nil {
		return 0, err
	}
	dialer := &net.Dialer{}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr.String())
		},
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, ServerName: u.Hostname()},
		DisableKeepAlives: true,
		Proxy:             nil,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", h.UserAgent)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return 0, ErrTimedOut
		}
		return 0, unwrapURLError(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, h.BodyLimit))
	return resp.StatusCode, nil
}

// unwrapURLError drops net/http's "Get URL:" prefix (callers name the URL
// already).
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
