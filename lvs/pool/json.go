package pool

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// ParseJSON parses {"host": {"enabled": bool, "weight": int}}. Missing
// keys take PyBal's defaults (enabled, weight 10); anything malformed
// rejects the whole document. Every malformed host or field is reported
// (conf.Errors, `file:line: bad JSON pool: ...`); file names the document
// (a path, or the URL of a source without one).
func ParseJSON(file string, data []byte) (Pool, error) {
	d := &jsonDoc{file: file, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p := d.pool()
	if err := d.errs.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// jsonDoc reads a JSON pool token by token, so that each problem has the
// line of the host or field it is about.
type jsonDoc struct {
	file string
	data []byte
	dec  *json.Decoder
	errs conf.List
}

// at is the position of byte offset off of the document.
func (d *jsonDoc) at(off int64) conf.Pos {
	off = min(max(off, 0), int64(len(d.data)))
	return conf.At(d.file, 1+bytes.Count(d.data[:off], []byte("\n")))
}

func (d *jsonDoc) failf(off int64, format string, args ...any) {
	d.errs.Addf(d.at(off), "", "bad JSON pool: "+format, args...)
}

// syntax records a decoding error where the decoder stopped.
func (d *jsonDoc) syntax(err error) {
	off := d.dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	d.errs.Add(&conf.Error{Pos: d.at(off), Reason: "bad JSON pool: " + err.Error(), Err: err})
}

func (d *jsonDoc) pool() Pool {
	tok, err := d.dec.Token()
	if err != nil {
		d.syntax(err)
		return nil
	}
	if tok != json.Delim('{') {
		d.failf(d.dec.InputOffset(), "not an object")
		return nil
	}
	p := Pool{}
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			d.syntax(err)
			return nil
		}
		host, _ := tok.(string) // an object's keys are strings
		var raw json.RawMessage
		if err := d.dec.Decode(&raw); err != nil {
			d.syntax(err)
			return nil
		}
		end := d.dec.InputOffset()
		if strings.TrimSpace(host) == "" {
			d.failf(end, "empty host name")
			continue
		}
		if s, ok := d.server(host, raw, end-int64(len(raw))); ok {
			p[host] = s
		}
	}
	if _, err := d.dec.Token(); err != nil {
		d.syntax(err)
	}
	return p
}

// server reads one host's value, which starts at byte off; null is every
// default.
func (d *jsonDoc) server(host string, raw json.RawMessage, off int64) (Server, bool) {
	s := Server{Enabled: true, Weight: 10}
	if string(raw) == "null" {
		return s, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		d.failf(off, "host %s: not an object", host)
		return s, false
	}
	ok := true
	for dec.More() {
		tok, _ := dec.Token() // raw is valid JSON
		k, _ := tok.(string)
		var v json.RawMessage
		_ = dec.Decode(&v)
		at := off + dec.InputOffset() - int64(len(v))
		switch k {
		case "enabled":
			if err := json.Unmarshal(v, &s.Enabled); err != nil || string(v) == "null" {
				d.failf(at, "host %s: \"enabled\" must be true or false, not %s", host, v)
				ok = false
			}
		case "weight":
			w, good := weight(v)
			if !good {
				d.failf(at, "host %s: \"weight\" must be an integer 0-%d, not %s", host, MaxWeight, v)
				ok = false
			}
			s.Weight = w
		}
	}
	return s, ok
}

// weight reads an integer weight written as one (10, not 10.0 or "10").
func weight(v json.RawMessage) (uint32, bool) {
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	err := d.Decode(&n)
	w, err2 := n.Int64()
	if err != nil || err2 != nil || strings.ContainsAny(string(v), ".eE\"") || w < 0 || w > MaxWeight {
		return 0, false
	}
	return uint32(w), true
}
