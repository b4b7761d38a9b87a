package authdns

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/internal/version"
)

// The control API: JSON over HTTP on the control socket. Every call is
// under /v1/; errors are {"error": "..."} with a 4xx/5xx status.

// ZoneInfo is one served zone.
type ZoneInfo struct {
	Name   string `json:"name"`
	Serial uint32 `json:"serial"`
}

// Status is GET /v1/status.
type Status struct {
	Version           string      `json:"version"`
	Started           time.Time   `json:"started"`
	UptimeSeconds     float64     `json:"uptime_seconds"`
	ConfigFile        string      `json:"config_file"`
	ConfigDigest      string      `json:"config_digest"`
	ZonesDigest       string      `json:"zones_digest"`
	Data              string      `json:"data,omitempty"`
	DataDigest        string      `json:"data_digest,omitempty"`
	AdminStateDigest  string      `json:"admin_state_digest"`  // of the admin_state file
	AdminStateEntries int         `json:"admin_state_entries"` // of the file; etcd's are in Etcd
	Zones             []ZoneInfo  `json:"zones"`
	Reloads           Reloads     `json:"reloads"`
	Staged            *StagedInfo `json:"staged,omitempty"`
	Etcd              *EtcdStatus `json:"etcd,omitempty"` // without `etcd:`, absent

	// AdminStateWatch is "watching", or "retrying" while the file's
	// directory cannot be watched (it is re-read every second meanwhile).
	AdminStateWatch string `json:"admin_state_watch,omitempty"`
	// AdminStateUnmatched lists the admin_state entries (file and etcd)
	// that match nothing the geoip configuration knows, "ORIGIN: PATTERN".
	AdminStateUnmatched []string `json:"admin_state_unmatched,omitempty"`
	// StageReceiving is true while a stage request's body is being read.
	StageReceiving bool `json:"stage_receiving,omitempty"`
}

// Reloads counts reloads and commits.
type Reloads struct {
	OK         uint64     `json:"ok"`
	Failed     uint64     `json:"failed"`
	LastOK     *time.Time `json:"last_ok,omitempty"`
	LastFailed *time.Time `json:"last_failed,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
}

// StagedInfo describes a bundle waiting for commit.
type StagedInfo struct {
	ID      string    `json:"id"`
	Digest  string    `json:"digest"`
	Created time.Time `json:"created"`
}

// DataInfo is GET /v1/data: what the server serves now, for rollout diffs.
type DataInfo struct {
	Data       string     `json:"data"`
	Digest     string     `json:"digest"`
	Files      []FileInfo `json:"files"`
	Zones      []ZoneInfo `json:"zones"`
	AdminState []string   `json:"admin_state"` // forced entries in force, as lines
}

// StatsInfo is GET /v1/stats (gdnsd's shape, plus breakdowns).
type StatsInfo struct {
	UptimeSeconds float64                 `json:"uptime_seconds"`
	Stats         dnsserver.StatsSnapshot `json:"stats"`
	TCPConns      int                     `json:"tcp_conns"`
	Queries       map[string]uint64       `json:"queries"`     // "udp A NOERROR"
	DynAnswers    map[string]uint64       `json:"dyn_answers"` // "geoip esams"
}

// Commit/abort request body; the id is required.
type idRequest struct {
	ID string `json:"id"`
}

// Status reports what the daemon serves.
func (d *Daemon) Status() *Status {
	st := d.state.Load()
	_, dataDigest, _ := liveData(st)
	s := &Status{
		Version: version.Version, Started: d.started, UptimeSeconds: d.Uptime().Seconds(),
		ConfigFile: d.path, ConfigDigest: st.Config.Digest, ZonesDigest: st.Zones.Digest,
		Data: st.Config.Data, DataDigest: dataDigest,
		AdminStateDigest: st.AdminFile.Digest, AdminStateEntries: st.AdminFile.Len(), Zones: zoneInfos(st),
		Reloads: Reloads{OK: d.reloadOK.Load(), Failed: d.reloadFail.Load()},
		Etcd:    d.etcdStatus(st),

		AdminStateUnmatched: st.AdminUnmatched,
	}
	if t := d.lastReloadOK.Load(); t != 0 {
		tt := time.Unix(0, t)
		s.Reloads.LastOK = &tt
	}
	if t := d.lastReloadFail.Load(); t != 0 {
		tt := time.Unix(0, t)
		s.Reloads.LastFailed = &tt
	}
	if e := d.lastErr.Load(); e != nil {
		s.Reloads.LastError = *e
	}
	s.StageReceiving = len(d.stageGate) > 0
	if w := d.adminLive.Load(); w != nil {
		s.AdminStateWatch = "retrying"
		if w.Watching() {
			s.AdminStateWatch = "watching"
		}
	}
	d.mu.Lock()
	d.expireLocked()
	if p := d.pending; p != nil {
		s.Staged = &StagedInfo{ID: p.id, Digest: p.state.DataDigest, Created: p.created}
	}
	d.mu.Unlock()
	return s
}

// DataInfo reports the data directory as served.
func (d *Daemon) DataInfo() *DataInfo {
	st := d.state.Load()
	files, digest, _ := liveData(st)
	info := &DataInfo{Data: st.Config.Data, Digest: digest, Files: files, Zones: zoneInfos(st),
		AdminState: []string{}}
	// The file's lines only: rollouts compare them with a bundle's file,
	// and etcd's entries are no part of the data directory.
	if st.AdminFile != nil {
		for _, e := range st.AdminFile.Entries {
			info.AdminState = append(info.AdminState, e.Pattern+" => "+e.StateString())
		}
	}
	return info
}

// StatsInfo reports the query counters.
func (d *Daemon) StatsInfo() *StatsInfo {
	t := d.srv.Stats()
	out := &StatsInfo{UptimeSeconds: d.Uptime().Seconds(), Stats: t, TCPConns: d.srv.TCPConns(),
		Queries: map[string]uint64{}, DynAnswers: map[string]uint64{}}
	for p := range dnsserver.NumProtos {
		for q := range dnsserver.NumQtypes {
			for r := range dnsserver.NumRcodes {
				if n := t.QueryCount(p, q, r); n > 0 {
					out.Queries[dnsserver.ProtoNames[p]+" "+dnsserver.QtypeNames[q]+" "+dnsserver.RcodeNames[r]] = n
				}
			}
		}
	}
	for r := range dnsserver.NumDynReasons {
		for slot := range dnsserver.MaxDCSlots {
			if n := t.DynCount(r, slot); n > 0 {
				out.DynAnswers[reasonName(r)+" "+d.slots.Name(slot)] = n
			}
		}
	}
	return out
}

func zoneInfos(st *State) []ZoneInfo {
	out := []ZoneInfo{}
	for _, z := range st.Zones.Zones() {
		out = append(out, ZoneInfo{z.Name, z.Serial})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func newControlHandler(d *Daemon) http.Handler {
	mux := http.NewServeMux()
	mountJSONViews(mux, d)
	mux.HandleFunc("GET /v1/data", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, d.DataInfo())
	})
	mux.HandleFunc("POST /v1/reload", func(w http.ResponseWriter, r *http.Request) {
		if err := d.Reload(); err != nil {
			writeError(w, http.StatusUnprocessableEntity, err)
			return
		}
		writeJSON(w, http.StatusOK, d.Status())
	})
	mux.HandleFunc("POST /v1/stage", d.serveStage)
	for _, op := range []struct {
		path string
		fn   func(string) error
	}{{"POST /v1/commit", d.Commit}, {"POST /v1/abort", d.Abort}} {
		mux.HandleFunc(op.path, func(w http.ResponseWriter, r *http.Request) {
			var req idRequest
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
				writeError(w, http.StatusBadRequest, err)
				return
			}
			if req.ID == "" {
				writeError(w, http.StatusBadRequest, errors.New(`"id" of the staged bundle is required`))
				return
			}
			if err := op.fn(req.ID); err != nil {
				code := http.StatusInternalServerError
				var conflict *ConflictError
				switch {
				case errors.Is(err, ErrNotStaged):
					code = http.StatusNotFound
				case errors.As(err, &conflict):
					code = http.StatusConflict
				}
				writeError(w, code, err)
				return
			}
			writeJSON(w, http.StatusOK, d.Status())
		})
	}
	return mux
}

// mountJSONViews serves the read-only views both the control API and the
// metrics listener (as the status page's JSON twins) offer.
func mountJSONViews(mux *http.ServeMux, d *Daemon) {
	for path, view := range map[string]func() any{
		"/v1/status":  func() any { return d.Status() },
		"/v1/states":  func() any { return d.State().States() },
		"/v1/stats":   func() any { return d.StatsInfo() },
		"/v1/answers": func() any { return d.AnswerHistory() },
	} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, view())
		})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}
