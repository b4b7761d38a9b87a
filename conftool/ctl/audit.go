package ctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/geotraffic/geotraffic/conftool/etcdstore"
)

// who is the person behind the command: the sudo caller, else the user.
func who(getenv func(string) string) string {
	for _, v := range []string{"SUDO_USER", "USER"} {
		if u := getenv(v); u != "" {
			return u
		}
	}
	return "unknown"
}

// record is the audit record of a command; Commit fills in the changes.
func record(env Env, cmd Command) etcdstore.AuditRecord {
	return etcdstore.AuditRecord{Who: who(env.Getenv), When: env.Now().UTC(), Command: cmd.Line, Selector: cmd.Selector}
}

// logChanges writes each written object, old and new value, to the log.
func logChanges(log *slog.Logger, rec etcdstore.AuditRecord, rev int64, changes []change) {
	for _, c := range changes {
		log.Info(describe(c), "who", rec.Who, "revision", rev, "command", rec.Command)
	}
}

// formatRecord is one audit record on one line, for `confctl log`.
func formatRecord(r etcdstore.AuditRecord) string {
	parts := make([]string, len(r.Changes))
	for i, c := range r.Changes {
		parts[i] = fmt.Sprintf("%s: %s -> %s", c.Key, nullAsNone(c.Old), nullAsNone(c.New))
	}
	return fmt.Sprintf("%s rev %d %s: %s: %s", r.When.UTC().Format(time.RFC3339), r.Revision, r.Who, r.Command, strings.Join(parts, "; "))
}

func nullAsNone(v []byte) string {
	if len(v) == 0 || string(v) == "null" {
		return "(none)"
	}
	return string(v)
}

// newLogger logs for people reading a terminal: "TIME LEVEL MSG k=v ...",
// values unquoted (the audit record in etcd is the machine-readable copy).
func newLogger(w io.Writer) *slog.Logger { return slog.New(&plainHandler{w: w, mu: &sync.Mutex{}}) }

type plainHandler struct {
	w     io.Writer
	mu    *sync.Mutex
	attrs []slog.Attr
}

func (h *plainHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *plainHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Time.UTC().Format(time.RFC3339))
	b.WriteString(" " + r.Level.String() + " " + r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve())
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *plainHandler) WithAttrs(as []slog.Attr) slog.Handler {
	cp := *h
	cp.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &cp
}

// WithGroup is not used by confctl; attributes stay flat.
func (h *plainHandler) WithGroup(string) slog.Handler { return h }

// jsonLine is a record as stored, on one line, for `confctl log --json`.
func jsonLine(r etcdstore.AuditRecord) (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("audit record at revision %d: %w", r.Revision, err)
	}
	return string(b), nil
}
