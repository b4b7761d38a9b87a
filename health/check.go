package health

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/probe"
)

// userAgent is gdnsd's, so servers that filter or log monitor requests
// by it keep doing so after a migration.
const userAgent = "gdnsd-monitor"

// prober checks addr once as t says; nil is a success.
type prober func(ctx context.Context, t *ServiceType, addr netip.Addr) error

// checks reports whether t's plugin checks addresses on a schedule one
// by one (extfile reads one file for all, static and the built-ins never
// check).
func checks(t *ServiceType) bool {
	switch t.Plugin {
	case "http_status", "tcp_connect", "extmon":
		return true
	}
	return false
}

// probeOnce is the real prober: the plugin's check through package probe.
func probeOnce(ctx context.Context, t *ServiceType, addr netip.Addr) error {
	switch t.Plugin {
	case "http_status":
		return httpStatus(ctx, t, addr)
	case "tcp_connect":
		return probe.TCPConnect(ctx, netip.AddrPortFrom(addr, t.Port))
	case "extmon":
		return extmon(ctx, t, addr)
	}
	return fmt.Errorf("plugin %q has no check", t.Plugin)
}

// httpStatus GETs url_path from addr:port with Host vhost (the address
// without one); a status in ok_codes is a success, redirects included.
func httpStatus(ctx context.Context, t *ServiceType, addr netip.Addr) error {
	ap := netip.AddrPortFrom(addr, t.Port)
	host := t.VHost
	if host == "" {
		host = ap.String()
	}
	path := t.URLPath
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	code, err := probe.HTTP{URL: "http://" + host + path, UserAgent: userAgent}.Get(ctx, ap)
	if err != nil {
		return err
	}
	for _, ok := range t.OKCodes {
		if code == ok {
			return nil
		}
	}
	return fmt.Errorf("HTTP status %d", code)
}

// extmon runs cmd with %%ITEM%% replaced by the address; exit status 0
// is a success.
func extmon(ctx context.Context, t *ServiceType, addr netip.Addr) error {
	argv := make([]string, len(t.Cmd))
	for i, a := range t.Cmd {
		argv[i] = strings.ReplaceAll(a, "%%ITEM%%", addr.String())
	}
	_, err := probe.Command(ctx, argv)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() == context.DeadlineExceeded:
		return errors.New("timed out, killed")
	case errors.As(err, &exitErr) && exitErr.Exited():
		return errors.New("exit status " + strconv.Itoa(exitErr.ExitCode()))
	}
	return err
}

// withDefaults is t with gdnsd's defaults where t leaves a field zero, so
// a hand-built type can never schedule checks in a busy loop.
func withDefaults(t *ServiceType) *ServiceType {
	c := *t
	if c.Interval <= 0 {
		c.Interval = 10 * time.Second
	}
	if c.Timeout <= 0 || c.Timeout >= c.Interval {
		c.Timeout = c.Interval / 2
	}
	for _, th := range []struct {
		p   *int
		def int
	}{{&c.UpThresh, 20}, {&c.OKThresh, 10}, {&c.DownThresh, 10}} {
		if *th.p <= 0 {
			*th.p = th.def
		}
	}
	if c.Plugin == "http_status" {
		if c.Port == 0 {
			c.Port = 80
		}
		if c.URLPath == "" {
			c.URLPath = "/"
		}
		if len(c.OKCodes) == 0 {
			c.OKCodes = []int{200}
		}
	}
	return &c
}
