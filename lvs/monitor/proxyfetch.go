package monitor

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ProxyFetch GETs URLs from the real server itself (its address, the
// service port) with the URL's Host header and path, like a proxy would.
type ProxyFetch struct {
	URLs        []string
	Interval    time.Duration
	Timeout     time.Duration
	HTTPStatus  int
	CheckAll    bool
	MaxFailures int
}

func parseProxyFetch(o *options) Spec {
	p := &ProxyFetch{}
	p.URLs = o.stringList("url", true)
	for _, u := range p.URLs {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			v, _ := o.get("url")
			o.errorf("url", v, "bad URL %q (want http:// or https://host/path)", u)
			break
		}
	}
	p.Interval = o.seconds("interval", 10*time.Second)
	p.Timeout = o.seconds("timeout", 5*time.Second)
	p.HTTPStatus = o.integer("http_status", 200, 100, 599)
	p.CheckAll = o.boolean("check_all", false)
	p.MaxFailures = o.integer("max_failures", 0, 0, 1000)
	return p
}

func (p *ProxyFetch) Name() string { return "ProxyFetch" }

func (p *ProxyFetch) New(m *Metrics) Monitor {
	return &looper{name: p.Name(), interval: p.Interval, timeout: p.Timeout, check: func(ctx context.Context, t Target, r Reporter) (bool, string) {
		return p.check(ctx, t, r, m)
	}}
}

// statusOK is PyBal's rule: with http_status 301-303 any 3xx passes (and
// 200 fails); otherwise the configured status passes, and with the default
// 200 so do 201 and 202.
func (p *ProxyFetch) statusOK(code int) bool {
	switch {
	case p.HTTPStatus >= 301 && p.HTTPStatus <= 303:
		return code >= 300 && code < 400
	case p.HTTPStatus == 200:
		return code >= 200 && code <= 202
	}
	return code == p.HTTPStatus
}

func (p *ProxyFetch) check(ctx context.Context, t Target, r Reporter, m *Metrics) (bool, string) {
	urls := p.URLs
	if !p.CheckAll {
		urls = []string{p.URLs[rand.IntN(len(p.URLs))]}
	}
	failures := 0
	var lastErr string
	for _, u := range urls {
		start := time.Now()
		err := p.fetch(ctx, t, u)
		d := time.Since(start)
		m.observe(func(m *Metrics) *prometheus.HistogramVec { return m.proxyFetchDuration }, t, d)
		if err != nil {
			failures++
			lastErr = fmt.Sprintf("Fetch failed (%s), %s: %v", u, seconds(d), err)
			r.Log(slog.LevelWarn, lastErr)
			continue
		}
		r.Log(slog.LevelDebug, fmt.Sprintf("Fetch successful (%s), %s", u, seconds(d)))
	}
	if p.CheckAll {
		if failures > p.MaxFailures {
			return false, fmt.Sprintf("%d of %d URLs failed (max_failures %d); last: %s", failures, len(urls), p.MaxFailures, lastErr)
		}
		return true, ""
	}
	return failures == 0, lastErr
}

func (p *ProxyFetch) fetch(ctx context.Context, t Target, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	addr := t.AddrPort().String()
	dialer := &net.Dialer{}
	tr := &http.Transport{
		// Always connect to the real server, whatever the URL's host.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		// Real servers present the service's certificate for the public
		// name; PyBal does not verify either. SNI follows the URL.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, ServerName: u.Hostname()},
		DisableKeepAlives: true,
		Proxy:             nil,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "lvsd ProxyFetch monitor")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("timed out")
		}
		return unwrapURLError(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if !p.statusOK(resp.StatusCode) {
		return fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	return nil
}

// unwrapURLError drops net/http's "Get URL:" prefix (the URL is in the
// log line already).
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
