package ctl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/geotraffic/geotraffic/conftool"
)

// GetLine is one object as conftool's `get` prints it:
// {"NAME": VALUE, "tags": "dc=eqiad,cluster=appserver,service=apache2"},
// spaced as Python's json.dumps spaces it. A valid value is printed in its
// canonical field order; a value that is not JSON at all is printed as a
// JSON string, and one that is JSON but invalid as it is, so a garbage
// value still shows. bad is why the value is not valid, or nil.
func GetLine(o conftool.Object) (line string, bad error) {
	value := o.Value
	if bad = conftool.Validate(o.Kind, o.Value); bad == nil {
		c, err := conftool.Canonical(o.Kind, o.Value)
		if err != nil {
			return "", err // Validate accepted it: cannot happen
		}
		value = c
	} else if !json.Valid(o.Value) {
		value = mustString(string(o.Value))
	}
	v, err := pyJSON(value)
	if err != nil {
		v = string(mustString(string(o.Value)))
	}
	return fmt.Sprintf("{%s: %s, \"tags\": %s}", mustString(o.Name()), v, mustString(o.TagString())), bad
}

// mustString encodes s as a JSON string, leaving <, > and & as they are.
func mustString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// pyJSON re-spaces a JSON value as Python's json.dumps does (", " and
// ": "), keeping the order of object keys.
func pyJSON(data []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var b strings.Builder
	if err := pyValue(dec, &b, 0); err != nil {
		return "", err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", errors.New("trailing data after the JSON value")
	}
	return b.String(), nil
}

// maxDepth bounds the recursion on values anyone with etcd access wrote.
const maxDepth = 64

func pyValue(dec *json.Decoder, b *strings.Builder, depth int) error {
	if depth > maxDepth {
		return errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := map[json.Delim]json.Delim{'{': '}', '[': ']'}[t]
		b.WriteRune(rune(t))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			if t == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				b.Write(mustString(key.(string)))
				b.WriteString(": ")
			}
			if err := pyValue(dec, b, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return err
		}
		b.WriteRune(rune(closing))
	case string:
		b.Write(mustString(t))
	case json.Number:
		b.WriteString(t.String())
	case bool:
		fmt.Fprint(b, t)
	case nil:
		b.WriteString("null")
	}
	return nil
}
