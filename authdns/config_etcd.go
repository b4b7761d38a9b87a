package authdns

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/geotraffic/geotraffic/conftool"
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

// parseEtcd reads the `etcd:` mapping; errors are file:line: etcd.KEY: reason.
func parseEtcd(path, base string, n *yaml.Node) (*EtcdConfig, []error) {
	var errs []error
	fail := func(at *yaml.Node, key, format string, args ...any) {
		errs = append(errs, &fieldError{path, at.Line, "etcd." + key, fmt.Sprintf(format, args...)})
	}
	if n.Kind != yaml.MappingNode {
		return nil, []error{&fieldError{path, n.Line, "etcd", "want a mapping: {endpoints: [...], prefix: /conftool/v1, ...}"}}
	}
	e := &EtcdConfig{Prefix: conftool.DefaultPrefix}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			fail(k, k.Value, "duplicate key")
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "endpoints":
			if err := v.Decode(&e.Endpoints); err != nil {
				fail(v, k.Value, "want a list such as [\"http://127.0.0.1:2379\"]")
				continue
			}
			for _, ep := range e.Endpoints {
				if err := checkEndpoint(ep); err != nil {
					fail(v, k.Value, "%q: %v", ep, err)
				}
			}
		case "prefix":
			if !strings.HasPrefix(v.Value, "/") || strings.Trim(v.Value, "/") == "" {
				fail(v, k.Value, "want an absolute key prefix such as /conftool/v1")
				continue
			}
			e.Prefix = conftool.NewLayout(v.Value).Prefix
		case "cacert":
			e.CACert = resolve(base, v.Value)
		case "cert":
			e.Cert = resolve(base, v.Value)
		case "key":
			e.Key = resolve(base, v.Value)
		case "user":
			e.User = v.Value
		case "password_file":
			e.PasswordFile = resolve(base, v.Value)
		default:
			fail(k, k.Value, "unknown key (want endpoints, prefix, cacert, cert, key, user, password_file)")
		}
	}
	if len(e.Endpoints) == 0 {
		errs = append(errs, &fieldError{path, keyLine(n, "endpoints"), "etcd.endpoints", "at least one endpoint is required"})
	}
	if (e.Cert == "") != (e.Key == "") {
		errs = append(errs, &fieldError{path, n.Line, "etcd", "cert and key go together (a client certificate needs both)"})
	}
	if (e.User == "") != (e.PasswordFile == "") {
		errs = append(errs, &fieldError{path, n.Line, "etcd", "user and password_file go together"})
	}
	return e, errs
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
