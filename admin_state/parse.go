package adminstate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// MaxTTL is gdnsd's largest admin_state TTL (2^28-1).
const MaxTTL = 268435455

// Entry is one `KEY => STATE[/TTL]` line.
type Entry struct {
	Pattern string `json:"pattern"`
	Down    bool   `json:"down"`
	TTL     uint32 `json:"ttl,omitempty"` // meaningful only when HasTTL
	HasTTL  bool   `json:"has_ttl"`
	Line    int    `json:"line"`
	// Source is where the entry came from: "" for the admin_state file
	// (File and Line say where), "etcd" for an etcd object (Key and
	// Revision say which), so operators can find what forced a state.
	Source   string `json:"source,omitempty"`
	Key      string `json:"key,omitempty"`
	Revision int64  `json:"revision,omitempty"`
}

// Origin names where the entry was set, for logs and status output:
// "etcd /conftool/v1/sites/esams@42" or "admin_state:3".
func (e Entry) Origin(file string) string {
	if e.Source != "" {
		return e.Source + " " + e.Key + "@" + strconv.FormatInt(e.Revision, 10)
	}
	if file == "" {
		file = "admin_state"
	}
	return file + ":" + strconv.Itoa(e.Line)
}

// StateString renders the value as written in the file, e.g. "DOWN/120".
func (e Entry) StateString() string {
	s := "UP"
	if e.Down {
		s = "DOWN"
	}
	if e.HasTTL {
		s += "/" + strconv.FormatUint(uint64(e.TTL), 10)
	}
	return s
}

// State is an immutable parsed admin_state file. The zero value and nil both
// mean "nothing forced".
type State struct {
	File    string  `json:"file"`
	Entries []Entry `json:"entries"`
	Digest  string  `json:"digest"` // sha256 of the file bytes; "" when absent
}

// Empty is the state of a missing file.
func Empty(file string) *State { return &State{File: file} }

// Lookup returns the entry that forces key, if any. The last matching line
// wins, as in gdnsd.
func (s *State) Lookup(key string) (Entry, bool) {
	i := s.Find(key)
	if i < 0 {
		return Entry{}, false
	}
	return s.Entries[i], true
}

// Find is Lookup's index into Entries, or -1: callers that precompute
// decisions keep the index to say later which entry forced a state.
func (s *State) Find(key string) int {
	if s == nil {
		return -1
	}
	for i := len(s.Entries) - 1; i >= 0; i-- {
		if Match(s.Entries[i].Pattern, key) {
			return i
		}
	}
	return -1
}

// Len is the number of entries.
func (s *State) Len() int {
	if s == nil {
		return 0
	}
	return len(s.Entries)
}

// Load reads and parses path. A missing file is an empty state, as in gdnsd.
func Load(path string) (*State, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// readFile reads path; a missing file reads as empty (nothing forced).
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("admin_state: %w", err)
	}
	return data, nil
}

// digest identifies file content: sha256 hex, "" for an empty or missing file.
func digest(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Parse parses the bytes of an admin_state file named file. Any error rejects
// the whole file; every bad line is reported, as conf.Errors
// (`file:line: reason`, in line order).
func Parse(file string, data []byte) (*State, error) {
	st := &State{File: file, Digest: digest(data)}
	var errs conf.List
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 1
	for ; sc.Scan(); n++ {
		e, ok, err := parseLine(sc.Text())
		if err != nil {
			errs.Add(&conf.Error{Pos: conf.At(file, n), Reason: err.Error(), Err: err})
			continue
		}
		if ok {
			e.Line = n
			st.Entries = append(st.Entries, e)
		}
	}
	errs.Append(conf.At(file, n), sc.Err()) // a line too long
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return st, nil
}

func parseLine(line string) (Entry, bool, error) {
	line = strings.TrimSpace(stripComment(line))
	if line == "" {
		return Entry{}, false, nil
	}
	key, val, ok := strings.Cut(line, "=>")
	if !ok {
		key, val, ok = strings.Cut(line, "=")
	}
	if !ok {
		return Entry{}, false, fmt.Errorf("expected `KEY => UP|DOWN[/TTL]`, got %q", line)
	}
	key, err := unquote(strings.TrimSpace(key))
	if err != nil {
		return Entry{}, false, fmt.Errorf("key: %w", err)
	}
	if key == "" {
		return Entry{}, false, errors.New("empty key")
	}
	if err := validGlob(key); err != nil {
		return Entry{}, false, fmt.Errorf("key %q: %w", key, err)
	}
	val, err = unquote(strings.TrimSpace(val))
	if err != nil {
		return Entry{}, false, fmt.Errorf("value: %w", err)
	}
	e, err := ParseValue(key, val)
	return e, err == nil, err
}

// ParseValue reads the state given to key, `UP|DOWN[/TTL]` in any case,
// as an Entry without a line. extfiles share it.
func ParseValue(key, val string) (Entry, error) {
	e := Entry{Pattern: key}
	state, ttl, hasTTL := strings.Cut(val, "/")
	switch strings.ToUpper(strings.TrimSpace(state)) {
	case "UP":
	case "DOWN":
		e.Down = true
	default:
		return Entry{}, fmt.Errorf("key %q: state %q is not UP or DOWN", key, state)
	}
	if hasTTL {
		n, err := strconv.ParseUint(strings.TrimSpace(ttl), 10, 32)
		if err != nil || n > MaxTTL {
			return Entry{}, fmt.Errorf("key %q: TTL %q is not a number from 0 to %d", key, ttl, MaxTTL)
		}
		e.TTL, e.HasTTL = uint32(n), true
	}
	return e, nil
}

// stripComment cuts a `#` or `;` comment that is not inside double quotes.
func stripComment(s string) string {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case '#', ';':
			if !inQuote {
				return s[:i]
			}
		}
	}
	return s
}

func unquote(s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		if strings.ContainsAny(s, "\" \t") {
			return "", fmt.Errorf("%q: quote values that contain spaces or quotes", s)
		}
		return s, nil
	}
	u, err := strconv.Unquote(s)
	if err != nil {
		return "", fmt.Errorf("bad quoted string %s", s)
	}
	return u, nil
}
