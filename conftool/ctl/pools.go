package ctl

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// PoolNode is one node of a pools file: Host serves Service in Cluster at
// DC, as conftool-data's pools files say it.
type PoolNode struct {
	DC, Cluster, Service, Host string
	Line                       int // of the host
}

// maxPoolNodes bounds what a pools file may expand to (YAML aliases can
// multiply a small file); a real fleet is a few thousand nodes.
const maxPoolNodes = 100000

// poolName is what a dc, cluster, service or host may be called: each
// becomes one element of an etcd key.
var poolName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ParsePools parses a conftool-data pools file:
//
//	eqiad:                      # dc
//	  appserver:                # cluster
//	    mw1001.eqiad.wmnet: [apache2, nginx]   # host: [services]
//
// Every problem is reported as `file:line: reason`, and any rejects the
// file. Nodes come in file order.
func ParsePools(file string, data []byte) ([]PoolNode, error) {
	root, err := conf.DecodeYAML(file, data)
	if err != nil {
		return nil, err
	}
	p := &poolParser{file: file}
	if root == nil {
		return nil, nil // an empty file: no pools
	}
	p.mapping(root, "", func(dc string, _ int, v *conf.Node) {
		p.mapping(v, dc, func(cluster string, _ int, v *conf.Node) {
			p.mapping(v, dc+"/"+cluster, func(host string, line int, v *conf.Node) {
				p.services(v, PoolNode{DC: dc, Cluster: cluster, Host: host, Line: line})
			})
		})
	})
	return p.nodes, errors.Join(p.errs...)
}

type poolParser struct {
	file  string
	nodes []PoolNode
	errs  []error
	full  bool // maxPoolNodes reached: stop walking
}

// maxPoolErrors bounds the report of a file that is wrong throughout.
const maxPoolErrors = 20

func (p *poolParser) errorf(n *conf.Node, path, format string, args ...any) {
	if p.full {
		return
	}
	if len(p.errs) == maxPoolErrors {
		p.errs, p.full = append(p.errs, fmt.Errorf("%s: too many errors, stopped", p.file)), true
		return
	}
	if path != "" {
		path += ": "
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s%s", p.file, n.Pos.Line, path, fmt.Sprintf(format, args...)))
}

// mapping calls f for each key of n, a mapping of names, in file order.
func (p *poolParser) mapping(n *conf.Node, path string, f func(name string, line int, v *conf.Node)) {
	if n.Kind != conf.MappingNode {
		p.errorf(n, path, "expected a mapping of %s", [...]string{"dcs", "clusters", "hosts"}[depth(path)])
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != conf.ScalarNode || !poolName.MatchString(k.Value) {
			p.errorf(k, path, "%q is not a name (letters, digits, '.', '_', '-')", k.Value)
			continue
		}
		if seen[k.Value] {
			p.errorf(k, path, "%s given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		if p.full {
			return
		}
		f(k.Value, k.Pos.Line, n.Content[i+1])
	}
}

// depth is how many names path holds: 0 for the dcs' mapping.
func depth(path string) int {
	if path == "" {
		return 0
	}
	d := 1
	for _, c := range path {
		if c == '/' {
			d++
		}
	}
	return min(d, 2)
}

// services reads a host's list of services.
func (p *poolParser) services(n *conf.Node, node PoolNode) {
	path := node.DC + "/" + node.Cluster + "/" + node.Host
	if n.Kind != conf.SequenceNode {
		p.errorf(n, path, "expected a list of services, e.g. [apache2, nginx]")
		return
	}
	seen := map[string]bool{}
	for _, s := range n.Content {
		switch {
		case p.full:
			return
		case s.Kind != conf.ScalarNode || !poolName.MatchString(s.Value):
			p.errorf(s, path, "%q is not a service name (letters, digits, '.', '_', '-')", s.Value)
		case seen[s.Value]:
			p.errorf(s, path, "service %s given twice", s.Value)
		case len(p.nodes) == maxPoolNodes:
			p.errorf(s, path, "more than %d nodes", maxPoolNodes)
			p.full = true
		default:
			seen[s.Value] = true
			node.Service = s.Value
			p.nodes = append(p.nodes, node)
		}
	}
}
