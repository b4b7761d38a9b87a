package realserver

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// VIP is one service IP the real server accepts, with the TCP ports its
// services listen on (for check; none: not checked).
type VIP struct {
	Addr  netip.Addr
	Ports []uint16
}

// Addrs are the addresses of vips.
func Addrs(vips []VIP) []netip.Addr {
	out := make([]netip.Addr, len(vips))
	for i, v := range vips {
		out[i] = v.Addr
	}
	return out
}

// ParseVIPs reads a --vips list: addresses separated by commas, each with
// ports (the --ports list) for check.
func ParseVIPs(list string, ports []uint16) ([]VIP, error) {
	var out []VIP
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		a, err := parseVIP(f)
		if err != nil {
			return nil, err
		}
		out = merge(out, VIP{Addr: a, Ports: ports})
	}
	return out, nil
}

// ParsePorts reads a --ports list: TCP ports separated by commas.
func ParsePorts(list string) ([]uint16, error) {
	var out []uint16
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := parsePort(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseVIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil || a.Zone() != "":
		return a, fmt.Errorf("%q is not an IP address", s)
	case a.Is4In6():
		return a, fmt.Errorf("%q: write IPv4 VIPs as IPv4", s)
	case a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || a.IsLinkLocalUnicast():
		return a, fmt.Errorf("%q cannot be a service IP", s)
	}
	return a, nil
}

func parsePort(s string) (uint16, error) {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	return uint16(p), nil
}

// merge adds v to vips, joining its ports to an earlier entry of the same
// address.
func merge(vips []VIP, v VIP) []VIP {
	i := slices.IndexFunc(vips, func(o VIP) bool { return o.Addr == v.Addr })
	if i < 0 {
		return append(vips, VIP{Addr: v.Addr, Ports: slices.Clone(v.Ports)})
	}
	for _, p := range v.Ports {
		if !slices.Contains(vips[i].Ports, p) {
			vips[i].Ports = append(vips[i].Ports, p)
		}
	}
	return vips
}

// LoadConfig reads the VIP file at path (see ParseConfig).
func LoadConfig(path string) ([]VIP, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig reads a VIP file, YAML:
//
//	vips: [192.0.2.30]          # VIPs without ports to check
//	services:                   # per service: its VIPs and TCP ports
//	  www:
//	    vips: [192.0.2.20, 2001:db8::20]
//	    ports: [80, 443]
//
// Every problem is reported as file:line: key: reason; an empty file or
// one without VIPs is an error, as applying it would remove every VIP.
func ParseConfig(file string, data []byte) ([]VIP, error) {
	root, err := conf.DecodeYAML(file, data)
	if err != nil {
		return nil, err
	}
	var l conf.List
	if root == nil {
		l.Addf(conf.Pos{File: file}, "", "no VIPs: an empty file would remove every VIP")
		return nil, l.Err()
	}
	var vips []VIP
	if l.Mapping(root, "", "a mapping with vips and services") {
		l.Fields(root, "", []string{"vips", "services"}, func(key string, _, v *conf.Node) {
			if key == "vips" {
				vips = readVIPs(&l, v, key, nil, vips)
				return
			}
			if l.Mapping(v, key, "a mapping of service names") {
				l.Pairs(v, key, func(name string, _, s *conf.Node) {
					vips = readService(&l, s, conf.Join(key, name), vips)
				})
			}
		})
	}
	if l.Len() == 0 && len(vips) == 0 {
		l.Addf(root.Pos, "vips", "no VIPs: an empty list would remove every VIP")
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	return vips, nil
}

func readService(l *conf.List, s *conf.Node, path string, vips []VIP) []VIP {
	if !l.Mapping(s, path, "a mapping with vips and ports") {
		return vips
	}
	var ports []uint16
	if p := s.Get("ports"); p != nil {
		ports = readPorts(l, p, conf.Join(path, "ports"))
	}
	if s.Get("vips") == nil {
		l.Addf(s.Pos, path, "missing vips")
	}
	l.Fields(s, path, []string{"vips", "ports"}, func(key string, _, v *conf.Node) {
		if key == "vips" {
			vips = readVIPs(l, v, conf.Join(path, key), ports, vips)
		}
	})
	return vips
}

func readVIPs(l *conf.List, n *conf.Node, path string, ports []uint16, vips []VIP) []VIP {
	for _, it := range items(l, n, path, "a list of IP addresses") {
		s, ok := it.Str()
		if !ok {
			l.Addf(it.Pos, path, "expected an IP address, found %s", it.Describe())
			continue
		}
		a, err := parseVIP(s)
		if err != nil {
			l.Addf(it.Pos, path, "%v", err)
			continue
		}
		vips = merge(vips, VIP{Addr: a, Ports: ports})
	}
	return vips
}

func readPorts(l *conf.List, n *conf.Node, path string) []uint16 {
	var out []uint16
	for _, it := range items(l, n, path, "a list of ports") {
		s, _ := it.Str()
		p, err := parsePort(s)
		if err != nil || it.Kind != conf.ScalarNode {
			l.Addf(it.Pos, path, "expected a port (1-65535), found %s", it.Describe())
			continue
		}
		out = append(out, p)
	}
	return out
}

// items is a sequence's items; a single scalar stands for a list of one.
func items(l *conf.List, n *conf.Node, path, what string) []*conf.Node {
	switch n.Kind {
	case conf.SequenceNode:
		return n.Content
	case conf.ScalarNode:
		return []*conf.Node{n}
	}
	l.Addf(n.Pos, path, "expected %s, found %s", what, n.Describe())
	return nil
}
