package pool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/internal/filewatch"
)

// Watch is WatchWith without refusal reports.
func Watch(ctx context.Context, src Source, jsonFormat bool, interval time.Duration, log *slog.Logger, onChange func(Pool)) {
	WatchWith(ctx, src, WatchOptions{JSON: jsonFormat, Interval: interval, Log: log, OnChange: onChange})
}

// WatchOptions configure WatchWith.
type WatchOptions struct {
	JSON     bool // the document is JSON (IsJSON), else PyBal's line format
	Interval time.Duration
	Log      *slog.Logger
	// OnChange hears each new pool: the first good one, then real changes.
	OnChange func(Pool)
	// OnRefused, if set, hears each refused document ("pool source S
	// refused, keeping ...: why") and "" once a document is accepted again.
	OnRefused func(msg string)
	// Files, if set, is the inotify instance file:// sources share (one
	// per service would exhaust the user's few); nil gives each its own.
	Files *filewatch.Hub
}

// WatchWith polls src every o.Interval and calls o.OnChange with each new
// pool. A failed fetch keeps the last good pool (logged once per failure
// streak). A document that is empty, not valid JSON, or has any bad line
// is refused whole (see Refusal) and the last good pool stays: one bad
// line may be the first sign of a truncated or foreign document (an error
// page), and applying the rest could empty the service. A document
// byte-identical to the last one fetched is not parsed again, so a
// refusal is logged and reported once per distinct document. A file://
// source is also watched (internal/filewatch), so an edit applies without
// waiting for the next poll. It returns when ctx ends.
func WatchWith(ctx context.Context, src Source, o WatchOptions) {
	w := &watch{src: src, o: o, log: o.Log}
	w.poll(ctx)
	if f, ok := src.(*fileSource); ok {
		poll := func() { w.poll(ctx) }
		_ = filewatch.New(filewatch.Options{Files: []string{f.path}, Poll: o.Interval, Retry: o.Interval, Hub: o.Files,
			Log: o.Log, Name: "Pool source " + src.String(), Changed: poll, Check: poll}).Run(ctx)
		return
	}
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll(ctx)
		}
	}
}

// watch is the state of one WatchWith loop.
type watch struct {
	src Source
	o   WatchOptions
	log *slog.Logger

	last             Pool // the last good pool, nil before the first
	failing, refused bool
	// The last fetched document: HTTP sources always report "changed",
	// and an identical body must neither be parsed again nor have its
	// problems logged every poll.
	lastData []byte
	haveData bool
}

func (w *watch) poll(ctx context.Context) {
	fctx, cancel := context.WithTimeout(ctx, w.o.Interval*5+5*time.Second)
	defer cancel()
	data, changed, err := w.src.Fetch(fctx)
	if err != nil {
		if ctx.Err() == nil && !w.failing {
			w.log.Error(fmt.Sprintf("Pool source %s failed, keeping the last good pool (%d servers): %v", w.src, len(w.last), err))
		}
		w.failing = true
		return
	}
	if w.failing {
		w.log.Info(fmt.Sprintf("Pool source %s is readable again", w.src))
		w.failing = false
	}
	if !changed || (w.haveData && bytes.Equal(data, w.lastData)) {
		return
	}
	w.lastData, w.haveData = data, true
	p, reason := w.parse(data)
	if reason != "" {
		w.refuse(reason)
		return
	}
	if w.refused {
		w.refused = false
		w.log.Info(fmt.Sprintf("Pool source %s: document accepted again", w.src))
		if w.o.OnRefused != nil {
			w.o.OnRefused("")
		}
	}
	if w.last != nil && w.last.Equal(p) {
		return
	}
	w.last = p
	w.o.OnChange(p)
}

// parse parses a document, logging each bad line with its position;
// reason is why the document is refused ("" when it is good).
func (w *watch) parse(data []byte) (Pool, string) {
	if w.o.JSON {
		p, err := ParseJSON(fileName(w.src), data)
		return p, Refusal(p, nil, err)
	}
	p, bad := ParseLegacy(fileName(w.src), data)
	for _, b := range bad {
		w.log.Error("Bad configuration line", "err", b)
	}
	return p, Refusal(p, bad, nil)
}

func (w *watch) refuse(reason string) {
	kept := fmt.Sprintf("keeping the last good pool (%d servers)", len(w.last))
	if w.last == nil {
		kept = "no pool from it yet"
	}
	msg := fmt.Sprintf("pool source %s refused, %s: %s", w.src, kept, reason)
	w.refused = true
	w.log.Error("P" + msg[1:])
	if w.o.OnRefused != nil {
		w.o.OnRefused(msg)
	}
}

// Refusal says why a parsed document must not be applied, "" when it may:
// a parse error (JSON), any bad line, or no server at all. A pool source
// that answers an error page, or a file read while it is truncated or
// half-written, yields such documents; a real pool lists its servers.
// The reason is one line: the first problem, and how many more.
func Refusal(p Pool, bad conf.Errors, err error) string {
	var es conf.Errors
	switch {
	case errors.As(err, &es) && len(es) > 1:
		return fmt.Sprintf("%v (and %d more)", es[0], len(es)-1)
	case err != nil:
		return err.Error()
	case len(bad) > 0:
		return fmt.Sprintf("%d bad line(s), the first at %v", len(bad), bad[0])
	case len(p) == 0:
		return "no server in it (an empty document, or only blank and comment lines)"
	}
	return ""
}
