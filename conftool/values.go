package conftool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
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

// decodeStrict decodes one JSON object into v, refusing unknown fields,
// trailing data and any of required missing.
func decodeStrict(data []byte, v any, required ...string) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	for _, f := range required {
		if _, ok := fields[f]; !ok {
			return fmt.Errorf("missing field %q", f)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// ParseNode parses and checks a node value.
func ParseNode(data []byte) (NodeValue, error) {
	var v NodeValue
	if err := decodeStrict(data, &v, "weight", "pooled"); err != nil {
		return v, err
	}
	if v.Weight < 0 || v.Weight > MaxWeight {
		return v, fmt.Errorf("weight %d is not from 0 to %d", v.Weight, MaxWeight)
	}
	switch v.Pooled {
	case "yes", "no", "inactive":
	default:
		return v, fmt.Errorf("pooled %q is not yes, no or inactive", v.Pooled)
	}
	return v, nil
}

// ParseSite parses and checks a site value; the state is returned lower case.
func ParseSite(data []byte) (SiteValue, error) {
	var v SiteValue
	if err := decodeStrict(data, &v, "state"); err != nil {
		return v, err
	}
	v.State = strings.ToLower(v.State)
	if v.State != "up" && v.State != "down" {
		return v, fmt.Errorf("state %q is not up or down", v.State)
	}
	return v, nil
}

// ParseAdminState parses and checks an admin-state value; the state is
// returned upper case, as admin_state files write it.
func ParseAdminState(data []byte) (AdminStateValue, error) {
	var v AdminStateValue
	if err := decodeStrict(data, &v, "state"); err != nil {
		return v, err
	}
	v.State = strings.ToUpper(v.State)
	if v.State != "UP" && v.State != "DOWN" {
		return v, fmt.Errorf("state %q is not UP or DOWN", v.State)
	}
	if v.TTL != nil && *v.TTL > maxAdminTTL {
		return v, fmt.Errorf("ttl %d is more than %d", *v.TTL, maxAdminTTL)
	}
	return v, nil
}

// maxAdminTTL is gdnsd's largest admin_state TTL.
const maxAdminTTL = 268435455
