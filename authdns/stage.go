package authdns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/admin_state"
)

// StageRequest validates a data bundle completely, exactly as a reload
// would load it, and keeps it aside for Commit. One bundle may be staged at
// a time. A non-empty req.Before must equal the data digest served now:
// otherwise the operator's diff is stale (another rollout, possibly from
// another host, got there first) and committing would silently revert it.
//
// Writing and building the set (seconds for a large one) happen without
// the state lock, so admin_state and etcd changes and reloads go on
// meanwhile; a second stage is refused until this one ends.
func (d *Daemon) StageRequest(req *StageRequest) (*StageResult, error) {
	if err := checkStageID(req.ID); err != nil {
		return nil, err
	}
	plan, err := d.beginStage(req)
	if err != nil {
		return nil, err
	}
	built := false
	defer func() {
		if !built { // buildStage panicked (recovered by the HTTP guard): let the next stage in
			d.mu.Lock()
			d.staging = false
			d.mu.Unlock()
		}
	}()
	p, st, err := d.buildStage(plan, req)
	built = true
	d.mu.Lock()
	defer d.mu.Unlock()
	d.staging = false
	if err != nil {
		return nil, err
	}
	if _, ok := d.aborted[req.ID]; ok {
		os.RemoveAll(p.dir)
		return nil, &ConflictError{fmt.Sprintf("bundle %s was aborted while it was being staged; nothing was staged", req.ID)}
	}
	// Clean up on time even if nobody calls again; the checks in
	// Stage/Commit/Status do not depend on this timer having run.
	p.timer = time.AfterFunc(d.StageTimeout, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.expireLocked()
	})
	d.pending = p
	d.log.Info("stage complete", "id", p.id, "digest", short(st.DataDigest), "serials", serials(st))
	return &StageResult{ID: p.id, Digest: st.DataDigest, Zones: zoneInfos(st)}, nil
}

// stagePlan is what a stage checked under the lock and builds on.
type stagePlan struct {
	cfg        *Config
	admin      adminSnap // admin_state on disk when the stage began
	liveDigest string
	created    time.Time
}

// beginStage makes the checks that need no bundle content and reserves
// the stage: on success d.staging is set, and StageRequest clears it.
func (d *Daemon) beginStage(req *StageRequest) (*stagePlan, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur := d.state.Load()
	cfg := cur.Config
	if cfg.Data == "" {
		return nil, errors.New("this server has no `data:` directory in its configuration; rollouts need one")
	}
	d.expireLocked()
	if _, ok := d.aborted[req.ID]; ok {
		return nil, &ConflictError{fmt.Sprintf("bundle %s was aborted before its stage arrived; nothing was staged", req.ID)}
	}
	if err := d.pendingConflictLocked(); err != nil {
		return nil, err
	}
	// What the server holds now, its admin_state as on disk: the commit
	// refuses to go ahead if that file changes after this point.
	admin, err := readAdminSnap(cfg.AdminState)
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	liveDigest := DigestOf(admin.withAdmin(cur.DataFiles))
	if req.Before != "" && req.Before != liveDigest {
		return nil, &ConflictError{fmt.Sprintf("this server's data changed since the diff was computed: it serves %s, the diff was against %s (another rollout got there first, or its admin_state file was edited here?); nothing was staged: look at the new diff and roll out again",
			short(liveDigest), short(req.Before))}
	}
	if err := req.Bundle.Validate(); err != nil {
		return nil, err
	}
	cleanSets(cfg.Data, "", d.log) // nothing is staged: what is there was left by a crash
	d.staging = true
	return &stagePlan{cfg: cfg, admin: admin, liveDigest: liveDigest, created: d.clock()}, nil
}

// buildStage writes the bundle to a new set beside the data directory and
// builds the state a commit would serve from it, without the lock.
func (d *Daemon) buildStage(plan *stagePlan, req *StageRequest) (*staged, *State, error) {
	b, cfg := &req.Bundle, plan.cfg
	dir := newSetDir(cfg.Data, time.Now())
	if err := writeSet(b, dir, d.step); err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("stage: %w", err)
	}
	d.step("stage-synced")
	scfg := cfg.WithData(dir)
	st, err := func() (*State, error) {
		admin, err := adminstate.Load(scfg.AdminState)
		if err != nil {
			return nil, err
		}
		return Build(scfg, admin, d.log)
	}()
	if err != nil {
		os.RemoveAll(dir)
		// Name files as the operator knows them: relative to DIR.
		err = errors.New(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
		d.log.Error("stage refused", "id", req.ID, "digest", short(b.Digest()), "err", err)
		return nil, nil, err
	}
	live := *st
	live.Config = cfg // serve with the live paths once committed
	lst := &live
	if st.AdminFile != nil {
		a := *st.AdminFile
		a.File = cfg.AdminState
		lst = lst.WithAdmin(&a)
	}
	p := &staged{id: req.ID, dir: dir, bundle: b, state: lst, before: plan.liveDigest, admin: plan.admin, created: plan.created}
	return p, st, nil
}
