package authdns

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/internal/conf"
)

// EtcdConfig is the `etcd:` section: where site and admin-state objects
// come from. Paths are absolute once parsed, as every path of the file.
type EtcdConfig struct {
	Endpoints []string
	// Prefix is conftool's key prefix, normalised (default /conftool/v1).
	Prefix            string
	CACert, Cert, Key string
	User              string
	PasswordFile      string
}

// Layout is the conftool key layout under Prefix.
func (e *EtcdConfig) Layout() conftool.Layout { return conftool.NewLayout(e.Prefix) }

// etcdKeys are the keys of the `etcd:` mapping.
var etcdKeys = []string{"endpoints", "prefix", "cacert", "cert", "key", "user", "password_file"}

// parseEtcd reads the `etcd:` mapping; errors are file:line: etcd.KEY: reason.
func parseEtcd(l *conf.List, base string, n *conf.Node) *EtcdConfig {
	if n.Kind != conf.MappingNode {
		l.Addf(n.Pos, "etcd", "want a mapping: {endpoints: [...], prefix: /conftool/v1, ...}")
		return nil
	}
	e := &EtcdConfig{Prefix: conftool.DefaultPrefix}
	l.Fields(n, "etcd", etcdKeys, func(key string, _, v *conf.Node) {
		fail := func(format string, args ...any) { l.Addf(v.Pos, "etcd."+key, format, args...) }
		s, ok := v.Str()
		if !ok && v.Kind != conf.SequenceNode && v.Kind != conf.NullNode {
			fail("want a single value, found %s", v.Describe())
			return
		}
		switch key {
		case "endpoints":
			eps, ok := stringList(v)
			if !ok {
				fail("want a list such as [\"http://127.0.0.1:2379\"]")
				return
			}
			e.Endpoints = eps
			for i, ep := range eps {
				if err := checkEndpoint(ep); err != nil {
					l.Addf(v.Content[i].Pos, "etcd."+key, "%q: %v", ep, err)
				}
			}
		case "prefix":
			if !strings.HasPrefix(s, "/") || strings.Trim(s, "/") == "" {
				fail("want an absolute key prefix such as /conftool/v1")
				return
			}
			e.Prefix = conftool.NewLayout(s).Prefix
		case "cacert":
			e.CACert = resolve(base, s)
		case "cert":
			e.Cert = resolve(base, s)
		case "key":
			e.Key = resolve(base, s)
		case "user":
			e.User = s
		case "password_file":
			e.PasswordFile = resolve(base, s)
		}
	})
	if len(e.Endpoints) == 0 {
		l.Addf(keyPos(n, "endpoints"), "etcd.endpoints", "at least one endpoint is required")
	}
	if (e.Cert == "") != (e.Key == "") {
		l.Addf(n.Pos, "etcd", "cert and key go together (a client certificate needs both)")
	}
	if (e.User == "") != (e.PasswordFile == "") {
		l.Addf(n.Pos, "etcd", "user and password_file go together")
	}
	return e
}

// checkEndpoint accepts what etcd's client takes: http://host:port,
// https://host:port or host:port.
func checkEndpoint(ep string) error {
	hostport := ep
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		if err != nil {
			return err
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("scheme %q: want http or https", u.Scheme)
		}
		if u.Path != "" && u.Path != "/" {
			return fmt.Errorf("an endpoint has no path (the key prefix is `prefix`)")
		}
		hostport = u.Host
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("want http://host:port, https://host:port or host:port")
	}
	return nil
}
