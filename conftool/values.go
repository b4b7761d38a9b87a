package conftool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// MaxWeight is the largest weight IPVS takes.
const MaxWeight = 65535

// NodeValue is a node's value, conftool's shape.
type NodeValue struct {
	Weight int    `json:"weight"`
	Pooled string `json:"pooled"` // yes | no | inactive
}

// SiteValue is a site's value: a site that is down is `site/NAME => DOWN`.
type SiteValue struct {
	State string `json:"state"` // up | down
}

// AdminStateValue is an admin_state line kept in etcd.
type AdminStateValue struct {
	State string  `json:"state"` // UP | DOWN
	TTL   *uint32 `json:"ttl,omitempty"`
}

// decodeStrict decodes one JSON object into v, refusing fields not in
// fields, trailing data and any of required missing. A problem with a
// field is a *conf.Error with the field as Key; AtKey adds the etcd key.
func decodeStrict(data []byte, v any, fields []string, required ...string) error {
	var got map[string]json.RawMessage
	if err := json.Unmarshal(data, &got); err != nil {
		return &conf.Error{Reason: "not a JSON object: " + err.Error(), Err: err}
	}
	for _, f := range required {
		if _, ok := got[f]; !ok {
			return &conf.Error{Key: f, Reason: "missing"}
		}
	}
	for _, f := range slices.Sorted(maps.Keys(got)) {
		if !slices.Contains(fields, f) {
			return &conf.Error{Key: f, Reason: "unknown field (expected " + strings.Join(fields, ", ") + ")"}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &conf.Error{Key: te.Field, Reason: fmt.Sprintf("cannot unmarshal %s into %s", te.Value, te.Type), Err: err}
		}
		return &conf.Error{Reason: err.Error(), Err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &conf.Error{Reason: "trailing data after the JSON object"}
	}
	return nil
}

// fieldErrorf is a problem with one field of a value.
func fieldErrorf(field, format string, args ...any) error {
	return conf.Pos{}.Errorf(field, format, args...)
}

// AtKey locates a problem with the value of etcd key key: a *conf.Error
// (or each of a conf.Errors) keeps its field and reason and is placed at
// the key, as `key: field: reason`; any other error becomes the reason.
func AtKey(key string, err error) error {
	switch e := err.(type) {
	case nil:
		return nil
	case *conf.Error:
		c := *e
		c.Pos = conf.Pos{File: key}
		return &c
	case conf.Errors:
		var l conf.List
		for _, one := range e {
			l.Append(conf.Pos{}, AtKey(key, one))
		}
		return l.Err()
	}
	return &conf.Error{Pos: conf.Pos{File: key}, Reason: err.Error(), Err: err}
}

// ParseNode parses and checks a node value.
func ParseNode(data []byte) (NodeValue, error) {
	var v NodeValue
	if err := decodeStrict(data, &v, []string{"weight", "pooled"}, "weight", "pooled"); err != nil {
		return v, err
	}
	if v.Weight < 0 || v.Weight > MaxWeight {
		return v, fieldErrorf("weight", "%d is not from 0 to %d", v.Weight, MaxWeight)
	}
	switch v.Pooled {
	case "yes", "no", "inactive":
	default:
		return v, fieldErrorf("pooled", "%q is not yes, no or inactive", v.Pooled)
	}
	return v, nil
}

// ParseSite parses and checks a site value; the state is returned lower case.
func ParseSite(data []byte) (SiteValue, error) {
	var v SiteValue
	if err := decodeStrict(data, &v, []string{"state"}, "state"); err != nil {
		return v, err
	}
	v.State = strings.ToLower(v.State)
	if v.State != "up" && v.State != "down" {
		return v, fieldErrorf("state", "%q is not up or down", v.State)
	}
	return v, nil
}

// ParseAdminState parses and checks an admin-state value; the state is
// returned upper case, as admin_state files write it.
func ParseAdminState(data []byte) (AdminStateValue, error) {
	var v AdminStateValue
	if err := decodeStrict(data, &v, []string{"state", "ttl"}, "state"); err != nil {
		return v, err
	}
	v.State = strings.ToUpper(v.State)
	if v.State != "UP" && v.State != "DOWN" {
		return v, fieldErrorf("state", "%q is not UP or DOWN", v.State)
	}
	if v.TTL != nil && *v.TTL > maxAdminTTL {
		return v, fieldErrorf("ttl", "%d is more than %d", *v.TTL, maxAdminTTL)
	}
	return v, nil
}

// maxAdminTTL is gdnsd's largest admin_state TTL.
const maxAdminTTL = 268435455
