package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/geotraffic/geotraffic/probe"
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
	code, err := probe.HTTP{URL: rawURL, UserAgent: "lvsd ProxyFetch monitor", BodyLimit: 1 << 20}.Get(ctx, t.AddrPort())
	if err != nil {
		return err
	}
	if !p.statusOK(code) {
		return fmt.Errorf("HTTP status %d", code)
	}
	return nil
}
