// Package vscf reads gdnsd's configuration language (vscf): the syntax of
// gdnsd's config file, its $include'd files, admin_state, extfile state
// files and geoip nets files. It parses with positions and comments kept,
// resolves $include{} as gdnsd does, and reads typed values as gdnsd's C
// code does. It knows no schema: each reader checks its own keys.
//
// The language, as gdnsd 3.x parses it:
//
//   - Whitespace is space, tab and LF; CR is not whitespace, so a CR
//     becomes part of a token. A comment runs from `#` or `;` to the end of
//     the line and needs its LF, even on the last line.
//   - An unquoted scalar is any bytes but whitespace and { } [ ] ; # , " =,
//     and may not start with `$`. A quoted scalar ("...") may hold any byte
//     but an unescaped `"` or `\`, newlines included. In both, `\X` (X not a
//     digit) is the byte X and `\DDD` (000 to 255) is that byte.
//   - A hash is { key = value ... } (`=` or `=>`), an array [ value ... ];
//     each entry may be followed by one comma. A file is an implicit hash
//     or one explicit array. A key given twice in a hash is an error, also
//     when an $include brings it.
//   - $include{path} as a value (a key's value or an array item) is the
//     one file it names; where a key would go, it merges the hashes of
//     every file it matches. A relative path is relative to the directory
//     of the file holding the directive; a directory means dir/*; anything
//     else is a glob (sorted, `*` skips dotfiles, `\` quotes) that must
//     match or name a file literally. The path is not unescaped. As a
//     value, an empty directory is nothing: the key or item disappears.
//
// Differences from gdnsd 3.8.1, on purpose: an include loop is an error
// naming the chain, where gdnsd 3.8.1 recurses until it crashes (SIGSEGV);
// nesting deeper than MaxDepth and an $include of anything but a regular
// file (a device, a pipe) are refused; `\200` to `\255` are the bytes
// they name, as gdnsd documents, where its parser refuses them as a
// syntax error.
package vscf

import (
	"os"
	"path/filepath"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// MaxDepth bounds the nesting of arrays, hashes and includes, so hostile
// input cannot exhaust the stack.
const MaxDepth = 1000

// Kind is the type of a Node.
type Kind uint8

const (
	Scalar Kind = iota
	Array
	Hash
)

func (k Kind) String() string {
	switch k {
	case Scalar:
		return "a scalar"
	case Array:
		return "an array"
	default:
		return "a hash"
	}
}

// Node is one value.
type Node struct {
	Kind   Kind
	Value  string   // Scalar: the unescaped bytes
	Quoted bool     // Scalar: written in quotes
	Items  []*Node  // Array
	Pairs  []*Pair  // Hash, in file order (merged includes in their place)
	Pos    conf.Pos // where the value starts; File is the file it was read from
	// Comments are the comments above an array item, as written ("# text",
	// marker kept): full-line ones, and one after the opening bracket of
	// its array on that bracket's line.
	Comments []string
	// LineComment is a comment after the value on the line where the value
	// ends (for a pair whose value ends on the key's line, it is the Pair's).
	LineComment string
	// EndComments are a Hash's or Array's full-line comments after its last
	// entry, before the closing bracket or the end of the file.
	EndComments []string
}

// Pair is one key and its value in a Hash.
type Pair struct {
	Key      string
	KeyPos   conf.Pos
	Value    *Node
	Comments []string // comments above the key, as Node.Comments
	// LineComment is the comment after the value when the value ends on
	// the key's line.
	LineComment string
}

// ParseFile reads and parses path. $include{} paths resolve relative to
// the directory of the file containing them.
func ParseFile(path string) (*Node, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &conf.Error{Pos: conf.Pos{File: path}, Reason: err.Error(), Err: err}
	}
	return Parse(path, data)
}

// Parse parses data read from file; $include{} resolves relative to
// filepath.Dir(file). The first problem found is returned as a
// *conf.Error at its file and line.
func Parse(file string, data []byte) (*Node, error) {
	return parse(file, data, &includeState{})
}

// ParseNoInclude is Parse for a file that is read and watched on its own
// (admin_state, extfiles): $include is an error there.
func ParseNoInclude(file string, data []byte) (*Node, error) {
	return parse(file, data, &includeState{forbid: true})
}

func parse(file string, data []byte, inc *includeState) (*Node, error) {
	p := newParser(file, data, inc)
	if abs, err := filepath.Abs(file); err == nil && !inc.forbid {
		p.inc.chain = append(p.inc.chain, frame{abs: abs})
	}
	n, err := p.parseFile()
	if err != nil {
		return nil, err
	}
	return n, nil
}

// Get is the value of key in a Hash, or nil when absent or n is not a
// hash. It looks through the pairs in order.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Hash {
		return nil
	}
	for _, p := range n.Pairs {
		if p.Key == key {
			return p.Value
		}
	}
	return nil
}

// List is an Array's items, or a Scalar or Hash as a one-element list:
// gdnsd accepts a single value wherever it expects an array.
func (n *Node) List() []*Node {
	if n == nil {
		return nil
	}
	if n.Kind == Array {
		return n.Items
	}
	return []*Node{n}
}
