package pool

import (
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/conftool"
)

func TestParseEtcdURL(t *testing.T) {
	tests := []struct {
		url       string
		tls       bool
		endpoints string
		layout    string
		prefix    string
		err       string
	}{
		{url: "etcd://conf1001/conftool/v1/pools/eqiad/appserver/apache2/",
			endpoints: "http://conf1001:2379", layout: "/conftool/v1", prefix: "/conftool/v1/pools/eqiad/appserver/apache2/"},
		{url: "etcd://127.0.0.1:2379/conftool/v1/pools/eqiad/appserver/apache2",
			endpoints: "http://127.0.0.1:2379", layout: "/conftool/v1", prefix: "/conftool/v1/pools/eqiad/appserver/apache2/"},
		{url: "etcds://conf1001:4001,conf1002,[::1]:2379,[2001:db8::1]/p/pools/a/b/c/", tls: true,
			endpoints: "https://conf1001:4001 https://conf1002:2379 https://[::1]:2379 https://[2001:db8::1]:2379",
			layout:    "/p", prefix: "/p/pools/a/b/c/"},
		{url: "etcd://h/pools/a/b/c/", endpoints: "http://h:2379", layout: "", prefix: "/pools/a/b/c/"},
		{url: "etcd://h/conftool/v1/pools/eqiad/appserver/", err: "not conftool's PREFIX/pools/DC/CLUSTER/SERVICE/"},
		{url: "etcd://h/conftool/v1/nodes/eqiad/appserver/apache2/", err: "not conftool's"},
		{url: "etcd://h/conftool//v1/pools/eqiad/appserver/apache2/", err: "empty or bad element"},
		{url: "etcd://h/conftool/v1/pools/eqiad//apache2/", err: "empty or bad element"},
		{url: "etcd:///conftool/v1/pools/a/b/c/", err: "want etcd://HOST"},
		{url: "etcd://h", err: "want etcd://HOST"},
		{url: "etcd://h:port/conftool/v1/pools/a/b/c/", err: `bad host:port "h:port"`},
		{url: "etcd://h:0/conftool/v1/pools/a/b/c/", err: `bad host:port`},
		{url: "etcd://a,,b/conftool/v1/pools/a/b/c/", err: "empty host"},
		{url: "etcd://::1/conftool/v1/pools/a/b/c/", err: "IPv6 addresses go in brackets"},
		{url: "http://h/conftool/v1/pools/a/b/c/", err: "not an etcd:// or etcds:// URL"},
	}
	for _, tc := range tests {
		u, err := ParseEtcdURL(tc.url)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if u.TLS != tc.tls || strings.Join(u.Endpoints, " ") != tc.endpoints || u.Layout.Prefix != tc.layout || u.Prefix != tc.prefix {
			t.Errorf("%s: got %+v", tc.url, u)
		}
		// Every node key of the service parses in the layout, so the
		// watcher sees it.
		if k, tags, ok := u.Layout.Parse(u.Prefix + "mw1001.eqiad.wmnet"); !ok || k != conftool.Node || tags[3] != "mw1001.eqiad.wmnet" {
			t.Errorf("%s: node key does not parse: %v %v %v", tc.url, k, tags, ok)
		}
	}
}

func node(t *testing.T, host, value string) conftool.Object {
	t.Helper()
	l := conftool.NewLayout("")
	key, err := l.Key(conftool.Node, "eqiad", "appserver", "apache2", host)
	if err != nil {
		t.Fatal(err)
	}
	k, tags, _ := l.Parse(key)
	return conftool.Object{Kind: k, Key: key, Tags: tags, Value: []byte(value)}
}

// PyBal's reading of conftool nodes: yes enabled, no disabled, inactive
// (like a deleted key) out of the pool; the weight is the node's.
func TestFromNodes(t *testing.T) {
	tests := []struct {
		name  string
		nodes map[string]string
		want  Pool
		bad   int
	}{
		{"empty", nil, Pool{}, 0},
		{"yes", map[string]string{"mw1": `{"weight": 10, "pooled": "yes"}`}, Pool{"mw1": {Enabled: true, Weight: 10}}, 0},
		{"no keeps the host, disabled", map[string]string{"mw1": `{"weight": 5, "pooled": "no"}`}, Pool{"mw1": {Enabled: false, Weight: 5}}, 0},
		{"inactive is out", map[string]string{"mw1": `{"weight": 10, "pooled": "inactive"}`, "mw2": `{"pooled": "yes", "weight": 0}`},
			Pool{"mw2": {Enabled: true, Weight: 0}}, 0},
		{"max weight", map[string]string{"mw1": `{"weight": 65535, "pooled": "yes"}`}, Pool{"mw1": {Enabled: true, Weight: 65535}}, 0},
		{"an invalid value is skipped and reported", map[string]string{"mw1": `{"weight": 10, "pooled": "maybe"}`, "mw2": `garbage`,
			"mw3": `{"weight": 1, "pooled": "yes"}`}, Pool{"mw3": {Enabled: true, Weight: 1}}, 2},
	}
	for _, tc := range tests {
		var objs []conftool.Object
		for h, v := range tc.nodes {
			objs = append(objs, node(t, h, v))
		}
		// Objects of other kinds are not nodes.
		objs = append(objs, conftool.Object{Kind: conftool.Site, Key: "/conftool/v1/sites/esams", Tags: []string{"esams"}, Value: []byte(`{"state": "up"}`)})
		p, bad := FromNodes(objs)
		if !p.Equal(tc.want) || len(bad) != tc.bad {
			t.Errorf("%s: pool %v bad %v, want %v and %d bad", tc.name, p, bad, tc.want, tc.bad)
		}
		for _, err := range bad {
			if !strings.Contains(err.Error(), "/conftool/v1/pools/eqiad/appserver/apache2/mw") {
				t.Errorf("%s: error does not name the key: %v", tc.name, err)
			}
		}
	}
}
