package vscf

import (
	"math"
	"strconv"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// Uint reads a Scalar as C's strtoul(s, &end, 0) must consume it whole,
// as gdnsd does: leading whitespace and a sign are allowed, 0x means hex
// and a leading 0 octal (so 010 is 8), and a minus negates modulo 2^64.
func (n *Node) Uint() (uint64, error) {
	if err := n.scalar("an unsigned integer"); err != nil {
		return 0, err
	}
	v, ok := strtoul(n.Value)
	if !ok {
		return 0, n.Pos.Errorf("", "expected an unsigned integer (decimal, 0x hex or 0 octal), got %s", strconv.QuoteToASCII(n.Value))
	}
	return v, nil
}

// Bool reads a Scalar that is true or false, in any case.
func (n *Node) Bool() (bool, error) {
	if err := n.scalar("true or false"); err != nil {
		return false, err
	}
	switch {
	case strings.EqualFold(n.Value, "true"):
		return true, nil
	case strings.EqualFold(n.Value, "false"):
		return false, nil
	}
	return false, n.Pos.Errorf("", "expected true or false, got %s", strconv.QuoteToASCII(n.Value))
}

// Float reads a Scalar as C's strtod must consume it whole: leading
// whitespace, decimal or hex digits, inf and nan; out of range is an error.
func (n *Node) Float() (float64, error) {
	if err := n.scalar("a number"); err != nil {
		return 0, err
	}
	v, ok := strtod(n.Value)
	if !ok {
		return 0, n.Pos.Errorf("", "expected a number, got %s", strconv.QuoteToASCII(n.Value))
	}
	return v, nil
}

func (n *Node) scalar(want string) error {
	if n == nil {
		return &conf.Error{Reason: "expected " + want + ", got nothing"}
	}
	if n.Kind != Scalar {
		return n.Pos.Errorf("", "expected %s, got %s", want, n.Kind)
	}
	return nil
}

// cSpace is C's isspace in the C locale.
func cSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func trimCSpace(s string) string {
	for len(s) > 0 && cSpace(s[0]) {
		s = s[1:]
	}
	return s
}

func strtoul(s string) (uint64, bool) {
	s = trimCSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" || s[0] == '_' || strings.Contains(s, "_") {
		return 0, false
	}
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func strtod(s string) (float64, bool) {
	s = trimCSpace(s)
	if s == "" || strings.Contains(s, "_") {
		return 0, false
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && !strings.ContainsAny(body, "pP") {
		s += "p0" // C allows a hex float without an exponent, Go does not
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || (math.IsInf(v, 0) && !isInfWord(body)) {
		return 0, false
	}
	return v, true
}

func isInfWord(s string) bool {
	return strings.EqualFold(s, "inf") || strings.EqualFold(s, "infinity")
}
