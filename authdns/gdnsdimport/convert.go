package gdnsdimport

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/geotraffic/geotraffic/vscf"
)

// copyNode converts n as it is: scalars as their text, hashes and arrays
// in their order, comments where the operator wrote them.
func (t *translator) copyNode(n *vscf.Node, path string) *ynode {
	return t.convert(n, path, nil)
}

// fixFunc rewrites the value of one key of a hash being converted (a
// number written as gdnsd reads it, a path), or returns nil to convert it
// as it is.
type fixFunc func(key string, v *vscf.Node, path string) *ynode

// dropped is what a fixFunc returns for a key convert must leave out
// (compared by identity, never written).
var dropped = &ynode{}

// convert is copyNode with fix applied to the values of every hash under n.
func (t *translator) convert(n *vscf.Node, path string, fix fixFunc) *ynode {
	switch n.Kind {
	case vscf.Hash:
		m := yMapOf()
		for _, p := range n.Pairs {
			kp := join(path, p.Key)
			var v *ynode
			if fix != nil {
				v = fix(p.Key, p.Value, kp)
			}
			if v == nil {
				v = t.convert(p.Value, kp, fix)
			}
			if v == dropped {
				continue
			}
			t.addPair(m, p, v)
		}
		m.end = n.EndComments
		return m
	case vscf.Array:
		s := &ynode{kind: ySeq, end: n.EndComments}
		for _, it := range n.Items {
			s.items = append(s.items, &yitem{v: t.convert(it, path, fix), comments: it.Comments, line: it.LineComment})
		}
		return s
	}
	return yStr(t.text(n, path))
}

// addPair adds the translation v of pair p to m, with p's comments. A
// comment after the closing bracket of a multi-line value joins the key's
// line.
func (t *translator) addPair(m *ynode, p *vscf.Pair, v *ynode) *ypair {
	yp := m.add(t.keyText(p), v)
	yp.comments, yp.line = p.Comments, p.LineComment
	if p.Value.Kind != vscf.Scalar && p.Value.LineComment != "" && p.Value.LineComment != p.LineComment {
		if yp.line == "" {
			yp.line = p.Value.LineComment
		} else {
			yp.comments = append(append([]string(nil), yp.comments...), p.Value.LineComment)
		}
	}
	return yp
}

// text is a scalar's value. YAML holds UTF-8 text only: other bytes are
// reported and replaced.
func (t *translator) text(n *vscf.Node, path string) string {
	if utf8.ValidString(n.Value) {
		return n.Value
	}
	t.notef(n.Pos, path, Error, "%s is not UTF-8 text, which YAML cannot hold", strconv.QuoteToASCII(n.Value))
	return toValid(n.Value)
}

func (t *translator) keyText(p *vscf.Pair) string {
	if utf8.ValidString(p.Key) {
		return p.Key
	}
	t.notef(p.KeyPos, p.Key, Error, "the key %s is not UTF-8 text, which YAML cannot hold", strconv.QuoteToASCII(p.Key))
	return toValid(p.Key)
}

func toValid(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// join is the dotted path of key under path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// uintValue is n read as gdnsd reads an integer (strtoul base 0: 0x10 is
// 16, 010 is 8), in decimal; nil when n is not one, so the value is copied
// and authdns's own check reports it.
func uintValue(n *vscf.Node) *ynode {
	if n.Kind != vscf.Scalar {
		return nil
	}
	u, err := n.Uint()
	if err != nil {
		return nil
	}
	return yTyped(strconv.FormatUint(u, 10))
}

// boolValue is n read as gdnsd reads a boolean (true or false, any case).
func boolValue(n *vscf.Node) *ynode {
	if n.Kind != vscf.Scalar {
		return nil
	}
	b, err := n.Bool()
	if err != nil {
		return nil
	}
	return yTyped(strconv.FormatBool(b))
}

// floatValue is n read as gdnsd reads a number (strtod).
func floatValue(n *vscf.Node) *ynode {
	if n.Kind != vscf.Scalar {
		return nil
	}
	f, err := n.Float()
	if err != nil {
		return nil
	}
	return yTyped(strconv.FormatFloat(f, 'g', -1, 64))
}
