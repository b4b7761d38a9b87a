package bgp

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
)

// slogAdapter feeds gobgp's own log lines into our slog logger. gobgp is
// chatty at Info (every FSM step), so its Info becomes Debug: the lines an
// operator needs (announce, withdraw, session up/down) are logged by Server.
type slogAdapter struct {
	log   *slog.Logger
	level atomic.Uint32
}

var _ gobgplog.Logger = (*slogAdapter)(nil)

func newSlogAdapter(l *slog.Logger) *slogAdapter {
	a := &slogAdapter{log: l.With("component", "gobgp")}
	// Tell gobgp the lowest level that reaches the handler, so it does not
	// build fields for lines that would be dropped.
	lv := gobgplog.WarnLevel
	switch ctx := context.Background(); {
	case l.Enabled(ctx, slog.LevelDebug-4):
		lv = gobgplog.DebugLevel
	case l.Enabled(ctx, slog.LevelDebug):
		lv = gobgplog.InfoLevel
	}
	a.level.Store(uint32(lv))
	return a
}

func (a *slogAdapter) emit(lv slog.Level, msg string, fields gobgplog.Fields) {
	if !a.log.Enabled(context.Background(), lv) {
		return
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, k, fields[k])
	}
	a.log.Log(context.Background(), lv, msg, args...)
}

// Panic and Fatal mark states gobgp considers impossible; a library must not
// exit the process, so both log and panic.
func (a *slogAdapter) Panic(msg string, f gobgplog.Fields) {
	a.emit(slog.LevelError, msg, f)
	panic(fmt.Sprintf("gobgp: %s %v", msg, f))
}
func (a *slogAdapter) Fatal(msg string, f gobgplog.Fields) { a.Panic(msg, f) }
func (a *slogAdapter) Error(msg string, f gobgplog.Fields) { a.emit(slog.LevelError, msg, f) }
func (a *slogAdapter) Warn(msg string, f gobgplog.Fields) {
	// The listener asks for TTL 255 (for TTL-security peers, which we do
	// not configure); loopback and some sockets refuse. Not worth a warning.
	if msg == "cannot set TTL (255) for TCPListener" {
		a.emit(slog.LevelDebug, msg, f)
		return
	}
	a.emit(slog.LevelWarn, msg, f)
}
func (a *slogAdapter) Info(msg string, f gobgplog.Fields)  { a.emit(slog.LevelDebug, msg, f) }
func (a *slogAdapter) Debug(msg string, f gobgplog.Fields) { a.emit(slog.LevelDebug-4, msg, f) }
func (a *slogAdapter) SetLevel(l gobgplog.LogLevel)        { a.level.Store(uint32(l)) }
func (a *slogAdapter) GetLevel() gobgplog.LogLevel         { return gobgplog.LogLevel(a.level.Load()) }
