package pool

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/geotraffic/geotraffic/conftool"
)

// DefaultEtcdPort is the port of an etcd:// URL that names none (PyBal's).
const DefaultEtcdPort = 2379

// EtcdURL is a parsed etcd:// or etcds:// pool source, PyBal's syntax:
// etcd://HOST[:PORT][,HOST[:PORT]...]/PREFIX/pools/DC/CLUSTER/SERVICE/.
type EtcdURL struct {
	TLS       bool     // etcds://
	Endpoints []string // "http://host:port" or "https://host:port"
	// Layout is the conftool layout the path lives in (its PREFIX), and
	// Prefix the key prefix of the service's nodes, ending in "/".
	Layout conftool.Layout
	Prefix string
}

// IsEtcdURL reports whether a pool URL names an etcd source.
func IsEtcdURL(rawURL string) bool {
	return strings.HasPrefix(rawURL, "etcd://") || strings.HasPrefix(rawURL, "etcds://")
}

// ParseEtcdURL parses an etcd:// (plain HTTP) or etcds:// (TLS) pool URL.
// The path must be conftool's node directory of one service: lvsd reads
// conftool node values, and a prefix elsewhere would silently match nothing.
func ParseEtcdURL(rawURL string) (EtcdURL, error) {
	var u EtcdURL
	rest, ok := strings.CutPrefix(rawURL, "etcd://")
	if !ok {
		if rest, ok = strings.CutPrefix(rawURL, "etcds://"); !ok {
			return u, fmt.Errorf("pool source %s: not an etcd:// or etcds:// URL", rawURL)
		}
		u.TLS = true
	}
	hosts, path, found := strings.Cut(rest, "/")
	if !found || hosts == "" {
		return u, fmt.Errorf("pool source %s: want etcd://HOST[:PORT]/PREFIX/pools/DC/CLUSTER/SERVICE/", rawURL)
	}
	var err error
	scheme := "http://"
	if u.TLS {
		scheme = "https://"
	}
	for _, h := range strings.Split(hosts, ",") {
		hp, err := hostPort(h)
		if err != nil {
			return u, fmt.Errorf("pool source %s: %w", rawURL, err)
		}
		u.Endpoints = append(u.Endpoints, scheme+hp)
	}
	if u.Layout, u.Prefix, err = nodeDir(path); err != nil {
		return u, fmt.Errorf("pool source %s: %w", rawURL, err)
	}
	return u, nil
}

// hostPort checks one HOST[:PORT] of the URL and adds the default port.
func hostPort(h string) (string, error) {
	if h == "" {
		return "", fmt.Errorf("empty host")
	}
	if host, port, err := net.SplitHostPort(h); err == nil {
		n, perr := strconv.ParseUint(port, 10, 16)
		if perr != nil || n == 0 || host == "" {
			return "", fmt.Errorf("bad host:port %q", h)
		}
		return net.JoinHostPort(host, port), nil
	}
	bare := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.ContainsAny(bare, "[]/?#@ ") || (strings.Contains(bare, ":") && !strings.HasPrefix(h, "[")) {
		return "", fmt.Errorf("bad host %q (IPv6 addresses go in brackets: [::1]:2379)", h)
	}
	return net.JoinHostPort(bare, strconv.Itoa(DefaultEtcdPort)), nil
}

// nodeDir splits PREFIX/pools/DC/CLUSTER/SERVICE into the layout and the
// key prefix of the service's nodes.
func nodeDir(path string) (conftool.Layout, string, error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	n := len(parts)
	if n < 4 || parts[n-4] != "pools" {
		return conftool.Layout{}, "", fmt.Errorf("the path /%s is not conftool's PREFIX/pools/DC/CLUSTER/SERVICE/", strings.Trim(path, "/"))
	}
	// Not NewLayout: an empty prefix must stay empty, not become /conftool/v1.
	l := conftool.Layout{}
	if n > 4 {
		l.Prefix = "/" + strings.Join(parts[:n-4], "/")
	}
	key, err := l.Key(conftool.Node, parts[n-3], parts[n-2], parts[n-1], "x")
	if err != nil || strings.Contains(l.Prefix, "//") {
		return conftool.Layout{}, "", fmt.Errorf("the path /%s has an empty or bad element", strings.Trim(path, "/"))
	}
	return l, strings.TrimSuffix(key, "x"), nil
}

// FromNodes converts conftool node objects into a pool, PyBal's reading of
// conftool: pooled "yes" is enabled, "no" disabled, "inactive" is not in
// the pool at all (nor is a deleted key); the host is the key's last
// element. Values the watcher let through are valid; one that is not (it
// cannot happen with etcdstore's validation) is skipped and returned.
func FromNodes(objs []conftool.Object) (Pool, []error) {
	p := Pool{}
	var bad []error
	for _, o := range objs {
		if o.Kind != conftool.Node {
			continue
		}
		v, err := conftool.ParseNode(o.Value)
		if err != nil {
			bad = append(bad, conftool.AtKey(o.Key, err))
			continue
		}
		switch v.Pooled {
		case "yes":
			p[o.Name()] = Server{Enabled: true, Weight: uint32(v.Weight)}
		case "no":
			p[o.Name()] = Server{Enabled: false, Weight: uint32(v.Weight)}
		}
	}
	return p, bad
}
