package conf

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	goyaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Kind tells what a YAML node holds.
type Kind uint8

// Node kinds. An explicit null (`~`, `null`, or a key with nothing after
// it) is a NullNode: a reader that accepts "nothing" checks for it, and
// every other check refuses it as the wrong kind.
const (
	NullNode Kind = iota + 1
	ScalarNode
	SequenceNode
	MappingNode
)

// Node is one value of a YAML document, aliases already followed: an
// alias is the anchored node itself (so its position is the anchor's).
type Node struct {
	Kind Kind
	Pos  Pos
	// Value is a scalar's text: unquoted strings as written, numbers and
	// booleans as written (readers convert them).
	Value string
	// Content holds a sequence's items, or a mapping's keys and values
	// alternately, in file order.
	Content []*Node
	// Comment is the comment written before or beside the node, if any.
	Comment string
	size    int // nodes under this one, itself included, aliases expanded
}

// maxNodes bounds the nodes a document may expand to through aliases
// (a "billion laughs" file is small but expands exponentially).
const maxNodes = 1 << 20

// DecodeYAML parses data, the bytes of file, as exactly one YAML
// document and returns its root, or nil for a file with no document
// (empty, or only comments). Every error is located at the problem's own
// line: syntax errors as "YAML syntax: ...", a second document, aliases
// naming no anchor, and documents that expand past a bound.
func DecodeYAML(file string, data []byte) (*Node, error) {
	if p, reason := badBytes(data); reason != "" {
		p.File = file
		return nil, p.Errorf("", "YAML syntax: %s", reason)
	}
	// DOS line ends read as Unix ones: the parser counts the CR of a
	// CRLF after a comment as a line break of its own.
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	f, err := parser.ParseBytes(data, parser.ParseComments, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, syntaxError(file, err)
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil && !isComment(d.Body) {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return nil, nil
	}
	if len(docs) > 1 {
		p := tokenPos(file, docs[1].Start)
		if p.Line == 0 {
			p = tokenPos(file, docs[1].Body.GetToken())
		}
		return nil, p.Errorf("", "a second YAML document (`---`) is not allowed: the file is one document")
	}
	c := &converter{file: file, anchors: map[string]*Node{}}
	root := c.node(docs[0].Body, Pos{File: file, Line: 1, Col: 1})
	if c.err != nil {
		return nil, c.err
	}
	return root, nil
}

// badBytes finds what the parser would accept but YAML forbids: invalid
// UTF-8 and control characters other than tab, newline and return. A
// return without a newline after it is refused too: YAML counts it as a
// line break that editors do not show, so every line number after it
// would be off by one.
func badBytes(data []byte) (Pos, string) {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return Pos{Line: line, Col: col}, "invalid UTF-8"
		case r == '\n':
			line, col = line+1, 0
		case r == '\r' && (i+1 == len(data) || data[i+1] != '\n'):
			return Pos{Line: line, Col: col}, "a carriage return without a line feed (save the file with Unix or DOS line ends)"
		case r < 0x20 && r != '\t' && r != '\r', r == 0x7f:
			return Pos{Line: line, Col: col}, "control characters are not allowed"
		}
		i += size
		col++
	}
	return Pos{}, ""
}

// syntaxError locates a parser error at its token. For a flow collection
// left open, the parser's token is the one where a ',' was expected (the
// next line, often); the problem is the bracket that was never closed.
// For a misplaced ':', the problem is the ':'.
func syntaxError(file string, err error) error {
	var ye goyaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return &Error{Pos: Pos{File: file}, Reason: "YAML syntax: " + err.Error(), Err: err}
	}
	tk, msg := ye.GetToken(), ye.GetMessage()
	switch {
	case strings.HasSuffix(msg, "must be specified"):
		if open := unclosed(tk); open != nil {
			tk = open
		}
	case strings.HasPrefix(msg, "mapping value is not allowed") && tk.Next != nil && tk.Next.Type == token.MappingValueType:
		// The token is the scalar before the ':', which may start lines
		// earlier (a key indented under a plain value continues it).
		tk = tk.Next
	}
	// The parser quotes the offending character raw; a tab would not show.
	msg = strings.ReplaceAll(msg, "\t", `\t`)
	return &Error{Pos: tokenPos(file, tk), Reason: "YAML syntax: " + msg, Err: err}
}

// unclosed is the innermost '[' or '{' before tk that no bracket closes.
func unclosed(tk *token.Token) *token.Token {
	depth := 0
	for t := tk.Prev; t != nil; t = t.Prev {
		switch t.Type {
		case token.SequenceEndType, token.MappingEndType:
			depth++
		case token.SequenceStartType, token.MappingStartType:
			if depth == 0 {
				return t
			}
			depth--
		}
	}
	return nil
}

func tokenPos(file string, tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: tk.Position.Line, Col: tk.Position.Column}
}

// converter turns the parser's tree into Nodes, following aliases.
type converter struct {
	file    string
	anchors map[string]*Node
	err     *Error
}

func (c *converter) fail(p Pos, format string, args ...any) *Node {
	if c.err == nil {
		c.err = p.Errorf("", format, args...)
	}
	return &Node{Kind: NullNode, Pos: p}
}

// node converts n; at is the position of an implicit null (a key with
// no value), which the parser gives no token of its own.
func (c *converter) node(n ast.Node, at Pos) *Node {
	if c.err != nil {
		return &Node{Kind: NullNode, Pos: at}
	}
	if n == nil {
		return &Node{Kind: NullNode, Pos: at}
	}
	p := tokenPos(c.file, n.GetToken())
	if p.Line == 0 {
		p = at
	}
	out := c.convert(n, p)
	if out.size == 0 {
		out.size = 1
		for _, ch := range out.Content {
			out.size += ch.size
		}
	}
	if out.size > maxNodes {
		return c.fail(p, "YAML: the document expands to more than %d nodes through aliases", maxNodes)
	}
	return out
}

func (c *converter) convert(n ast.Node, p Pos) *Node {
	out := &Node{Pos: p, Comment: comment(n)}
	switch n := n.(type) {
	case *ast.NullNode, *ast.CommentGroupNode, *ast.CommentNode:
		out.Kind = NullNode
	case *ast.TagNode:
		return c.node(n.Value, p)
	case *ast.AnchorNode:
		v := c.node(n.Value, p)
		c.anchors[n.Name.GetToken().Value] = v
		return v
	case *ast.AliasNode:
		name := n.Value.GetToken().Value
		v, ok := c.anchors[name]
		if !ok {
			return c.fail(p, "YAML: unknown anchor %q referenced", name)
		}
		return v
	case *ast.MappingNode:
		out.Kind = MappingNode
		for _, mv := range n.Values {
			c.pair(out, mv)
		}
	case *ast.MappingValueNode:
		out.Kind = MappingNode
		c.pair(out, n)
	case *ast.SequenceNode:
		out.Kind = SequenceNode
		for _, item := range n.Values {
			out.Content = append(out.Content, c.node(item, p))
		}
	case *ast.StringNode:
		out.Kind, out.Value = ScalarNode, n.Value
	case *ast.LiteralNode:
		out.Kind, out.Value = ScalarNode, n.Value.Value
	case *ast.MappingKeyNode:
		return c.node(n.Value, p)
	case ast.ScalarNode:
		out.Kind, out.Value = ScalarNode, n.GetToken().Value
	default:
		return c.fail(p, "YAML: unsupported %s", n.Type())
	}
	return out
}

func (c *converter) pair(m *Node, mv *ast.MappingValueNode) {
	k := c.node(mv.Key, m.Pos)
	if k.Comment == "" {
		k.Comment = comment(mv)
	}
	m.Content = append(m.Content, k, c.node(mv.Value, k.Pos))
}

func isComment(n ast.Node) bool {
	switch n.(type) {
	case *ast.CommentGroupNode, *ast.CommentNode:
		return true
	}
	return false
}

func comment(n ast.Node) string {
	cg := n.GetComment()
	if cg == nil {
		return ""
	}
	return strings.TrimSpace(cg.String())
}

// Describe names a node's kind for "expected X, found Y" messages.
func (n *Node) Describe() string {
	switch n.Kind {
	case NullNode:
		return "nothing (null)"
	case ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case SequenceNode:
		return "a list"
	case MappingNode:
		return "a mapping"
	}
	return "?"
}
