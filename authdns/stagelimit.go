package authdns

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxStageBytes bounds a stage request's body: enough for a data
// set of a million records (zone lines of up to about 190 bytes, base64 in
// JSON), small enough that a mistaken --data fails fast. Decoding holds
// the body and the decoded files at once, so a stage costs up to about
// twice this much memory; only one stage is received at a time.
const DefaultMaxStageBytes = 256 << 20

// minStageBytes keeps max_stage_bytes from refusing every real bundle.
const minStageBytes = 64 << 10

// parseStageBytes reads a size in bytes, with an optional KiB, MiB or GiB
// (or K, M, G) suffix, powers of 1024.
func parseStageBytes(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffixes []string
		mult     int64
	}{{[]string{"GiB", "G"}, 1 << 30}, {[]string{"MiB", "M"}, 1 << 20}, {[]string{"KiB", "K"}, 1 << 10}} {
		for _, suf := range u.suffixes {
			if n, ok := strings.CutSuffix(num, suf); ok {
				num, mult = strings.TrimSpace(n), u.mult
				break
			}
		}
		if mult != 1 {
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("want a size such as 256MiB (or bytes), not %q", s)
	}
	if n*mult < minStageBytes {
		return 0, fmt.Errorf("%q is below the minimum of 64KiB", s)
	}
	return n * mult, nil
}

// serveStage is POST /v1/stage. The body is read only by the one stage
// this server receives at a time, and only up to max_stage_bytes: every
// refusal that can be made without the body (too large, another stage being
// received, a bundle already staged) is made before reading it, so
// concurrent stages cannot multiply the memory one takes.
func (d *Daemon) serveStage(w http.ResponseWriter, r *http.Request) {
	limit := d.state.Load().Config.MaxStageBytes
	if r.ContentLength > limit {
		refuseUnread(w, http.StatusRequestEntityTooLarge, tooLarge(limit))
		return
	}
	select {
	case d.stageGate <- struct{}{}:
		defer func() { <-d.stageGate }()
	default:
		refuseUnread(w, http.StatusConflict, errors.New("another stage is being received by this server; nothing was staged: let it finish (or abort its id) and try again"))
		return
	}
	if err := d.stagedConflict(); err != nil {
		refuseUnread(w, http.StatusConflict, err)
		return
	}
	var req StageRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(&req); err != nil {
		var big *http.MaxBytesError
		if errors.As(err, &big) {
			writeError(w, http.StatusRequestEntityTooLarge, tooLarge(limit))
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Errorf("stage body: %w", err))
		return
	}
	// Over the API both are required: the id so the client can abort a
	// stage whose answer it never got, before so a stale diff is refused.
	if err := checkStageID(req.ID); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if req.Before == "" {
		writeError(w, http.StatusBadRequest, errors.New(`stage needs "before": the data digest the change was computed against`))
		return
	}
	res, err := d.StageRequest(&req)
	var conflict *ConflictError
	switch {
	case errors.As(err, &conflict):
		writeError(w, http.StatusConflict, err)
	case err != nil:
		writeError(w, http.StatusUnprocessableEntity, err)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// refuseUnread answers without reading the request body, and closes the
// connection: otherwise net/http reads up to 256 KiB of the unread body
// before answering, so as to reuse the connection.
func refuseUnread(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Connection", "close")
	writeError(w, code, err)
}

func tooLarge(limit int64) error {
	return fmt.Errorf("the stage body is larger than this server's max_stage_bytes (%d bytes); nothing was staged: raise max_stage_bytes in authdns.yaml (and reload) if the data set really is this large", limit)
}

// stagedConflict refuses a stage while another bundle waits for its
// commit.
func (d *Daemon) stagedConflict() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expireLocked()
	return d.pendingConflictLocked()
}

func (d *Daemon) pendingConflictLocked() error {
	if d.staging {
		return &ConflictError{"another bundle is being staged on this server; nothing was staged: let it finish (or abort its id) and try again"}
	}
	if p := d.pending; p != nil {
		age := d.clock().Sub(p.created).Round(time.Second)
		return &ConflictError{fmt.Sprintf("bundle %s (staged %s ago) is waiting for commit or abort", p.id, age)}
	}
	return nil
}
