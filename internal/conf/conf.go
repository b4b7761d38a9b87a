// Package conf is the one way the project's configuration readers locate
// and report problems: a position (file, line, column), one error type
// printed as `file:line: key: reason`, and a list that collects every
// problem of a file and reports them all, sorted by position.
//
// Every reader (authdns.yaml, geoip.yaml, nets files, routing.yaml,
// admin_state, pybal.conf, pool files, etcd values) reports through it, so
// the binaries print errors in one shape.
package conf

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Pos locates a problem. Line and Col are 1-based; 0 means unknown. A
// source without lines (an etcd key, a command-line override) sets File
// only, or nothing.
type Pos struct {
	File string
	Line int
	Col  int
}

// String is "file:line", "file" when the line is unknown, or "".
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.File == "":
		return fmt.Sprintf("line %d", p.Line)
	default:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
}

// At is the position of line in file.
func At(file string, line int) Pos { return Pos{File: file, Line: line} }

// Errorf returns an *Error about key at p.
func (p Pos) Errorf(key, format string, args ...any) *Error {
	return &Error{Pos: p, Key: key, Reason: fmt.Sprintf(format, args...)}
}

// Error is one configuration problem: `file:line: key: reason`, with the
// parts that are unknown left out.
type Error struct {
	Pos    Pos
	Key    string // dotted path of the offending key, e.g. clusters.text.route_table; may be ""
	Reason string
	Err    error // the underlying error, if any
}

func (e *Error) Error() string {
	parts := make([]string, 0, 3)
	for _, s := range []string{e.Pos.String(), e.Key, e.Reason} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in a configuration, sorted by position.
// It prints one problem per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As and errors.Is look at each problem.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// List collects the problems of one configuration. The zero List is ready
// to use.
type List struct {
	errs []*Error
}

// Add records e; nil is ignored.
func (l *List) Add(e *Error) {
	if e != nil {
		l.errs = append(l.errs, e)
	}
}

// Addf records a problem about key at p.
func (l *List) Addf(p Pos, key, format string, args ...any) {
	l.Add(p.Errorf(key, format, args...))
}

// Append records err: each problem of an Errors or an *Error as it is,
// anything else as a problem at p.
func (l *List) Append(p Pos, err error) {
	if err == nil {
		return
	}
	var es Errors
	if errors.As(err, &es) {
		l.errs = append(l.errs, es...)
		return
	}
	var e *Error
	if errors.As(err, &e) {
		l.Add(e)
		return
	}
	l.Add(&Error{Pos: p, Reason: err.Error(), Err: err})
}

// Len is the number of problems recorded.
func (l *List) Len() int { return len(l.errs) }

// Sorted returns the problems in position order: files in the order they
// were first named, then by line and column; problems at the same
// position keep the order they were recorded in.
func (l *List) Sorted() Errors {
	order := map[string]int{}
	for _, e := range l.errs {
		if _, ok := order[e.Pos.File]; !ok {
			order[e.Pos.File] = len(order)
		}
	}
	out := append(Errors(nil), l.errs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Pos, out[j].Pos
		if order[a.File] != order[b.File] {
			return order[a.File] < order[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return out
}

// Err returns every problem as an Errors sorted by position, or nil when
// there is none.
func (l *List) Err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return l.Sorted()
}
