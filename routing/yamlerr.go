package routing

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseYAML decodes the one YAML document of data. A second document is an
// error: yaml.Unmarshal would silently ignore it.
func parseYAML(file string, data []byte) (yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return doc, syntaxError(file, data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return doc, nil
	case err != nil:
		return doc, syntaxError(file, data, err)
	default:
		return doc, &Error{File: file, Line: max(1, extra.Line),
			Msg: "a second YAML document (`---`) is not allowed: routing.yaml is one document"}
	}
}

var yamlErrRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// maxLineSearch bounds the prefix search of syntaxError (quadratic in the
// file size); longer files get yaml.v3's own line.
const maxLineSearch = 5000

// syntaxError locates a yaml.v3 syntax error. yaml.v3's line is unreliable:
// parser errors give the 0-based line of the enclosing construct (a brace
// left open on line 4 is "line 3", bad indentation on line 8 "line 5"), and
// some errors (control characters) give none. The first prefix of the file,
// from that line on, that fails with the same message ends at the line of
// the problem: for an unclosed brace, the brace's line; for a bad key, the
// key's line.
func syntaxError(file string, data []byte, err error) error {
	m := yamlErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{File: file, Line: 1, Msg: "YAML: " + err.Error()}
	}
	msg := m[2]
	reported := 1
	if m[1] != "" {
		reported, _ = strconv.Atoi(m[1])
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	line := min(max(1, reported), len(lines))
	if len(lines) <= maxLineSearch {
		for n := max(1, reported); n <= len(lines); n++ {
			var node yaml.Node
			perr := yaml.Unmarshal([]byte(strings.Join(lines[:n], "\n")), &node)
			if pm := yamlErrRE.FindStringSubmatch(errString(perr)); pm != nil && pm[2] == msg {
				line = n
				break
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "YAML syntax: " + msg}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
