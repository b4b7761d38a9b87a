package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/geotraffic/geotraffic/internal/unixctl"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
)

// The control socket serves lvsd ctl: JSON over HTTP on a Unix socket
// (unixctl: mode 0600, root or lvsd's user only). Errors are
// {"error": "..."} with a 4xx/5xx status.

// CtlRequest is the body of POST /v1/depool and /v1/repool.
type CtlRequest struct {
	Service string `json:"service"`
	Host    string `json:"host"`
	Reason  string `json:"reason,omitempty"`
	Force   bool   `json:"force,omitempty"`
}

// CtlReply is a successful answer: the server's state afterwards.
type CtlReply struct {
	Service string `json:"service"`
	Host    string `json:"host"`
	Status  string `json:"status"` // PyBal's enabled/up/pooled
	Manual  string `json:"manual,omitempty"`
}

// loadManual reads the manual depool state file at start-up.
func (d *Daemon) loadManual() error {
	st, err := coordinator.LoadManualState(d.loaded.Config.Global.ManualStateFile)
	if err != nil {
		return err
	}
	d.manualMu.Lock()
	d.manual = st
	d.manualMu.Unlock()
	for svc, hosts := range st {
		for h, m := range hosts {
			d.log.Warn("Manual depool in force from the state file", "service", svc, "host", h, "by", m.User, "reason", m.Reason, "since", m.Since)
		}
	}
	return nil
}

// manualFor is a service's manual depools, for its new coordinator.
func (d *Daemon) manualFor(service string) map[string]coordinator.Manual {
	d.manualMu.Lock()
	defer d.manualMu.Unlock()
	out := map[string]coordinator.Manual{}
	for h, m := range d.manual[service] {
		out[h] = m
	}
	return out
}

// setManual records (m non-nil) or clears a manual depool and saves the
// state file; on a failed save the record is left as it was.
func (d *Daemon) setManual(service, host string, m *coordinator.Manual) error {
	d.manualMu.Lock()
	defer d.manualMu.Unlock()
	next := coordinator.ManualState{}
	for s, hosts := range d.manual {
		next[s] = map[string]coordinator.Manual{}
		for h, e := range hosts {
			next[s][h] = e
		}
	}
	if m != nil {
		if next[service] == nil {
			next[service] = map[string]coordinator.Manual{}
		}
		next[service][host] = *m
	} else {
		delete(next[service], host)
		if len(next[service]) == 0 {
			delete(next, service)
		}
	}
	if err := next.Save(d.loaded.Config.Global.ManualStateFile); err != nil {
		return err
	}
	d.manual = next
	return nil
}

func (d *Daemon) coordinatorOf(name string) *coordinator.Coordinator {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.services {
		if s.cfg().Name == name {
			return s.coord
		}
	}
	return nil
}

// Depool is lvsd ctl depool: the coordinator takes the server out (or
// refuses, below the threshold without force), then the state file keeps
// it; a state file that cannot be written undoes the depool.
func (d *Daemon) Depool(req CtlRequest, user string) (CtlReply, error) {
	c := d.coordinatorOf(req.Service)
	if c == nil {
		return CtlReply{}, fmt.Errorf("%s: %w", req.Service, errNoService)
	}
	m := coordinator.Manual{User: user, Reason: req.Reason, Force: req.Force, Since: time.Now().UTC().Truncate(time.Second)}
	prev, had := c.Manuals()[req.Host]
	if err := c.Depool(req.Host, m); err != nil {
		return CtlReply{}, err
	}
	if err := d.setManual(req.Service, req.Host, &m); err != nil {
		if had {
			c.Depool(req.Host, prev) // the server is out: no threshold to refuse it
		} else {
			c.Repool(req.Host)
		}
		return CtlReply{}, fmt.Errorf("depool undone: %w", err)
	}
	return d.ctlReply(c, req), nil
}

// Repool is lvsd ctl repool.
func (d *Daemon) Repool(req CtlRequest, user string) (CtlReply, error) {
	c := d.coordinatorOf(req.Service)
	if c == nil {
		return CtlReply{}, fmt.Errorf("%s: %w", req.Service, errNoService)
	}
	prev, ok := c.Manuals()[req.Host]
	if err := c.Repool(req.Host); err != nil {
		return CtlReply{}, err
	}
	if err := d.setManual(req.Service, req.Host, nil); err != nil {
		if ok {
			c.Depool(req.Host, prev)
		}
		return CtlReply{}, fmt.Errorf("repool undone: %w", err)
	}
	d.log.Info("Manual depool ended", "service", req.Service, "host", req.Host, "by", user)
	return d.ctlReply(c, req), nil
}

func (d *Daemon) ctlReply(c *coordinator.Coordinator, req CtlRequest) CtlReply {
	r := CtlReply{Service: req.Service, Host: req.Host}
	if s, ok := c.Server(req.Host); ok {
		r.Status = s.TextStatus()
		if s.Manual != nil {
			r.Manual = s.Manual.String()
		}
	}
	return r
}

var errNoService = errors.New("no such service")

func (d *Daemon) controlHandler() http.Handler {
	mux := http.NewServeMux()
	for path, op := range map[string]func(CtlRequest, string) (CtlReply, error){"POST /v1/depool": d.Depool, "POST /v1/repool": d.Repool} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			var req CtlRequest
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
				writeCtlError(w, http.StatusBadRequest, err)
				return
			}
			if req.Service == "" || req.Host == "" {
				writeCtlError(w, http.StatusBadRequest, errors.New(`"service" and "host" are required`))
				return
			}
			user := unixctl.PeerUser(r.Context())
			if user == "" {
				user = "unknown"
			}
			rep, err := op(req, user)
			if err != nil {
				writeCtlError(w, ctlStatus(err), err)
				return
			}
			writeCtlJSON(w, http.StatusOK, rep)
		})
	}
	return mux
}

func ctlStatus(err error) int {
	var te *coordinator.ThresholdError
	switch {
	case errors.Is(err, errNoService), errors.Is(err, coordinator.ErrNoServer):
		return http.StatusNotFound
	case errors.As(err, &te), errors.Is(err, coordinator.ErrNotDepooled):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func writeCtlJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeCtlError(w http.ResponseWriter, code int, err error) {
	writeCtlJSON(w, code, map[string]string{"error": err.Error()})
}

// startControl opens the control socket. A socket that cannot be opened
// (e.g. /run/lvsd not writable) is logged, not fatal: balancing matters
// more than the emergency interface.
func (d *Daemon) startControl() {
	path := d.loaded.Config.Global.ControlSocket
	ln, err := unixctl.Listen(path, d.log)
	if err != nil {
		d.log.Error("control socket not available: lvsd ctl will not work", "err", err)
		return
	}
	srv := &http.Server{Handler: d.guardHTTP(d.controlHandler()), ConnContext: unixctl.ConnContext, ReadHeaderTimeout: 10 * time.Second}
	d.control, d.controlPath = srv, path
	go srv.Serve(ln)
	d.log.Info("Control socket listening", "path", path)
}

func (d *Daemon) stopControl() {
	if d.control == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	d.control.Shutdown(ctx)
	os.Remove(d.controlPath) // ours: Listen refused to replace a live one
}
