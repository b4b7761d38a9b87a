package routing

import (
	"fmt"
	"slices"
	"strings"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// Broken is one route that a change breaks.
type Broken struct {
	Cluster string   `json:"cluster"`
	Site    string   `json:"site"`
	Status  string   `json:"status"` // after the change: unreachable or degraded
	Before  string   `json:"before"` // status before the change; "" for an entry site the change adds
	Path    []string `json:"path"`   // after the change
	// Apps lists the apps that lose their DC (every app when unreachable).
	Apps   []string `json:"apps"`
	Detail string   `json:"detail"` // why, from the resolution
}

func (b Broken) String() string {
	before := b.Before
	if before == "" {
		before = "no route"
	}
	// Detail names the apps of a degraded route; an unreachable one loses them all.
	return fmt.Sprintf("%s/%s: %s (was %s), path %s: %s", b.Cluster, b.Site, b.Status, before, strings.Join(b.Path, " > "), b.Detail)
}

// UnsafeError refuses a change that would break routes.
type UnsafeError struct{ Broken []Broken }

func (e *UnsafeError) Error() string {
	lines := make([]string, len(e.Broken))
	for i, b := range e.Broken {
		lines[i] = "  " + b.String()
	}
	return fmt.Sprintf("refused: the change would break %d route(s):\n%s", len(e.Broken), strings.Join(lines, "\n"))
}

// CheckChange resolves every cluster before the change (cfg under st) and
// after it (next under nextSt), for a site about to be marked DOWN or a
// route about to be overridden, and returns an *UnsafeError listing what
// NewlyBroken finds, or nil.
func CheckChange(cfg *Config, st *adminstate.State, next *Config, nextSt *adminstate.State) error {
	if broken := NewlyBroken(Resolve(cfg, st), Resolve(next, nextSt)); len(broken) > 0 {
		return &UnsafeError{Broken: broken}
	}
	return nil
}

// NewlyBroken lists, in the order of after, the routes of entry sites that
// are up after the change and that the change breaks:
//   - unreachable, and not unreachable before: users entering there would
//     get errors;
//   - degraded with an app that had a DC before and has none after: taking
//     a DC's last app route away is refused too, so an operator moves the
//     app first (an app-route override) and marks the DC DOWN only then,
//     as DNS is moved before traffic_shutdown. In a real outage the caller
//     must offer an explicit override of this check.
//
// A route already broken before is not refused again: an outage in
// progress must not block unrelated changes or its own fix. DOWN entry
// sites are left out (users are not sent there), and so is shutdown,
// which is configured on purpose.
func NewlyBroken(before, after []Result) []Broken {
	prev := map[[2]string]Result{}
	for _, r := range before {
		prev[[2]string{r.Cluster, r.Site}] = r
	}
	var out []Broken
	for _, r := range after {
		if r.EntryDown {
			continue
		}
		b, ok := prev[[2]string{r.Cluster, r.Site}]
		if br, broken := breakage(b, ok, r); broken {
			out = append(out, br)
		}
	}
	return out
}

// breakage compares one route before (known: it existed) and after.
func breakage(before Result, known bool, after Result) (Broken, bool) {
	br := Broken{Cluster: after.Cluster, Site: after.Site, Status: after.Status, Path: after.Path}
	if known {
		br.Before = before.Status
	}
	switch after.Status {
	case StatusUnreachable:
		if br.Before == StatusUnreachable {
			return br, false
		}
		br.Apps = sortedKeys(after.Apps)
		if n := len(after.Reasons); n > 0 {
			br.Detail = after.Reasons[n-1].Detail
		}
		return br, true
	case StatusDegraded:
		var was []string
		if known {
			was = UnreachableApps(before)
			if before.Status == StatusUnreachable || before.Status == StatusShutdown {
				return br, false // it gets better, or was refusing traffic anyway
			}
		}
		var details []string
		for _, a := range UnreachableApps(after) {
			if !slices.Contains(was, a) {
				br.Apps = append(br.Apps, a)
				details = append(details, a+": "+after.Apps[a].Detail)
			}
		}
		br.Detail = strings.Join(details, "; ")
		return br, len(br.Apps) > 0
	}
	return br, false
}
