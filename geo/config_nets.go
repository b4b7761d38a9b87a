package geo

import (
	"errors"
	"net/netip"
	"os"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// parseNets parses `nets`: an inline mapping or the name of a file with the
// same syntax (plus gdnsd's `=>` and `;` comments).
func (p *parser) parseNets(c valueCtx, v *conf.Node, path string) []Net {
	if v.Kind == conf.ScalarNode && v.Kind != conf.NullNode {
		name := p.resolve(v.Value)
		data, err := os.ReadFile(name)
		if err != nil {
			p.errf(c.file, v, path, "nets file: %v", err)
			return nil
		}
		fv, err := conf.DecodeYAML(name, gdnsdToYAML(data))
		if err != nil {
			// gdnsdToYAML keeps lines where they are, so the line is the file's.
			var e *conf.Error
			if errors.As(err, &e) {
				err = &conf.Error{Pos: e.Pos, Key: path, Reason: e.Reason, Err: e.Err}
			}
			p.l.Append(conf.Pos{File: name}, err)
			return nil
		}
		if fv == nil {
			return nil // an empty nets file is no nets
		}
		c.file = name
		v = fv
	}
	if v.Kind != conf.MappingNode {
		p.errf(c.file, v, path, "expected a mapping of PREFIX: [DC, ...] or a file name")
		return nil
	}
	var nets []Net
	index := map[netip.Prefix]int{}
	p.l.Pairs(v, path, func(key string, k, v *conf.Node) {
		kp := path + "." + key
		pfx, err := netip.ParsePrefix(key)
		if err != nil {
			p.errf(c.file, k, kp, "expected ADDRESS/LENGTH: %v", err)
			return
		}
		w := Where{at(c.file, k), kp}
		if pfx.Addr().Zone() != "" {
			p.errf(c.file, k, kp, "zones are not allowed in prefixes")
			return
		}
		if m := pfx.Masked(); m != pfx {
			p.warnf(w, "host bits past /%d cleared: using %s", pfx.Bits(), m)
			pfx = m
		}
		if why := inV4Alias(pfx); why != "" {
			p.errf(c.file, k, kp, "inside %s, which is looked up as IPv4: write the IPv4 prefix instead", why)
			return
		}
		if v.Kind == conf.ScalarNode && strings.EqualFold(v.Value, "auto") {
			p.errf(c.file, v, kp, "nets values are data centre lists; auto is not allowed")
			return
		}
		dcs, ok := p.parseDCList(c, v, kp)
		if !ok {
			return
		}
		if i, dup := index[pfx]; dup {
			p.warnf(w, "%s also set at line %d; this later entry wins", pfx, nets[i].Where.Line)
			nets[i] = Net{pfx, dcs, w}
			return
		}
		index[pfx] = len(nets)
		nets = append(nets, Net{pfx, dcs, w})
	})
	return nets
}

// gdnsdToYAML turns gdnsd-style nets lines (`10/8 => [a, b]`, `;` comments)
// into YAML, keeping line numbers.
func gdnsdToYAML(data []byte) []byte {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		l = stripComment(l)
		l = strings.Replace(l, "=>", ":", 1)
		lines[i] = l
	}
	return []byte(strings.Join(lines, "\n"))
}

// stripComment cuts a `#` or `;` comment outside quotes. A '#' must follow
// a blank or start the line, as in YAML, so "a#b" is kept.
func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == ';', ch == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}
