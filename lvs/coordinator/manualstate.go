package coordinator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// ManualState is the manual depools of every service, by service and
// host: what the state file holds, so they survive a restart.
type ManualState map[string]map[string]Manual

// LoadManualState reads the state file; a missing file is no depool.
func LoadManualState(path string) (ManualState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ManualState{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("manual depool state: %w", err)
	}
	return ParseManualState(path, b)
}

// ParseManualState decodes the state file's content (path names it in
// errors).
func ParseManualState(path string, b []byte) (ManualState, error) {
	st := ManualState{}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for svc, hosts := range st {
		for h, m := range hosts {
			if h == "" || m.User == "" {
				return nil, fmt.Errorf("%s: service %q: an entry without a host or a user", path, svc)
			}
		}
		if len(hosts) == 0 {
			delete(st, svc)
		}
	}
	return st, nil
}

// Save writes the state file atomically (a temporary file renamed into
// place), so a crash leaves the old state or the new one.
func (st ManualState) Save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("manual depool state: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+strconv.Itoa(os.Getpid()))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("manual depool state: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("manual depool state %s: %w", path, werr)
	}
	return nil
}
