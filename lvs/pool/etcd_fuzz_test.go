package pool

import (
	"strings"
	"testing"
)

// FuzzParseEtcdURL feeds pybal.conf `config = etcd://...` values. An
// accepted URL must name endpoints of its own scheme and a node directory
// in which a node key parses back as a node of that service.
func FuzzParseEtcdURL(f *testing.F) {
	for _, s := range []string{
		"etcd://127.0.0.1:2379/conftool/v1/pools/eqiad/appserver/apache2/",
		"etcds://conf1001:2379,conf1002/conftool/v1/pools/eqiad/appserver/apache2",
		"etcd://[::1]:2379/pools/a/b/c/",
		"etcd:///conftool/v1/pools/a/b/c/", "etcd://h:0/pools/a/b/c/", "etcd://h/x//pools/a/b/c/", "file:///x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseEtcdURL(s)
		if err != nil {
			return
		}
		scheme := "http://"
		if u.TLS {
			scheme = "https://"
		}
		if len(u.Endpoints) == 0 {
			t.Fatalf("%q: accepted with no endpoint", s)
		}
		for _, e := range u.Endpoints {
			if !strings.HasPrefix(e, scheme) {
				t.Fatalf("%q: endpoint %q is not %s", s, e, scheme)
			}
		}
		if !strings.HasSuffix(u.Prefix, "/") {
			t.Fatalf("%q: node prefix %q does not end in /", s, u.Prefix)
		}
		k, tags, ok := u.Layout.Parse(u.Prefix + "mw1001")
		if !ok || k != "node" || tags[3] != "mw1001" {
			t.Fatalf("%q: a node key under %q parses as %v %v %v", s, u.Prefix, k, tags, ok)
		}
	})
}
