// Package yamlerr turns gopkg.in/yaml.v3 syntax errors into the
// project's "file:line: reason" form with the real, 1-based line.
//
// yaml.v3 prints "yaml: line N: problem", but N is 1-based only for
// scanner errors; parser errors ("did not find expected ...") print the
// 0-based line of the construct being parsed (or of the problem), and an
// error on the first line prints no line at all.
package yamlerr

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// parserProblems are the problems the yaml.v3 parser (as opposed to its
// scanner) reports: their line numbers are 0-based.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// Error is a YAML syntax error located in a file.
type Error struct {
	File   string
	Line   int // 1-based; 0 when yaml.v3 gave no way to tell
	Reason string
	Err    error // the yaml.v3 error
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// Wrap returns err, a yaml.Unmarshal error for data, as an *Error naming
// file and the line. data locates aliases that name no anchor.
func Wrap(file string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: file, Reason: msg, Err: err}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, reason, ok := strings.Cut(rest, ": "); ok {
			if n, aerr := strconv.Atoi(num); aerr == nil {
				e.Line, e.Reason = n, reason
				if parserProblems[reason] {
					e.Line++
				}
				return e
			}
		}
	}
	switch {
	case parserProblems[msg] || isScannerProblem(msg):
		// No line printed: yaml.v3 leaves it out for its first line.
		e.Line = 1
	case strings.HasPrefix(msg, "unknown anchor '"):
		name := strings.TrimSuffix(strings.TrimPrefix(msg, "unknown anchor '"), "' referenced")
		e.Line = lineOf(data, "*"+name)
	}
	return e
}

// isScannerProblem tells the scanner's messages from the reader's
// (encoding) and the composer's (anchors, aliasing), which carry no
// position at all.
func isScannerProblem(msg string) bool {
	for _, p := range []string{"found ", "did not find ", "could not find ", "mapping values are not allowed",
		"mapping keys are not allowed", "block sequence entries are not allowed", "exceeded max depth"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// lineOf is the 1-based line of the first occurrence of s, or 0.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}
