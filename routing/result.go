package routing

// Reasons for a decision. Every hop of a path and every app choice carries
// one of them.
const (
	// ReasonConfigured: the configured first choice (or configured direct).
	ReasonConfigured = "configured"
	// ReasonFallback: a later choice of an ordered list, earlier ones being
	// DOWN or unable to reach direct.
	ReasonFallback = "fallback"
	// ReasonNearest: every configured choice was unusable; the nearest up
	// site (or DC) by great-circle distance was used.
	ReasonNearest = "nearest"
	// ReasonPromoted: an up site that is a DC of some app's route, whose
	// upstreams are all unusable, talks to the applications itself.
	ReasonPromoted = "promoted-to-direct"
	// ReasonShutdown: the entry site is in traffic_shutdown; its frontends
	// refuse all traffic of the cluster.
	ReasonShutdown = "shutdown"
	// ReasonUnreachable: nothing valid remains; no route is guessed.
	ReasonUnreachable = "unreachable"
)

// Status of a resolved route.
const (
	StatusOK          = "ok"          // the path ends at a direct site and every app has a DC
	StatusDegraded    = "degraded"    // the path ends at a direct site, but some app has no valid DC
	StatusShutdown    = "shutdown"    // the entry site refuses all traffic
	StatusUnreachable = "unreachable" // no valid path remains
)

// Statuses lists every status, for metrics that show zeros too.
var Statuses = []string{StatusOK, StatusDegraded, StatusShutdown, StatusUnreachable}

// Result is the resolved route of one cluster for users entering at one
// site. Path always starts with the entry site; it ends with the site that
// talks to the applications only when Status is "ok" or "degraded".
type Result struct {
	Cluster string `json:"cluster"`
	Site    string `json:"site"`
	Status  string `json:"status"`
	// EntryDown: admin_state marks the entry site DOWN; its route is still
	// resolved for clients with stale DNS.
	EntryDown bool                `json:"entry_down"`
	Path      []string            `json:"path"`
	Reasons   []Reason            `json:"reasons"`
	Apps      map[string]AppRoute `json:"apps"`
}

// Reason explains one hop: why Site forwards to Next ("direct" when Site
// talks to the applications itself, "" when it has nowhere to go).
type Reason struct {
	Site   string `json:"site"`
	Next   string `json:"next"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// AppRoute is where one app's requests go from the path's direct site. DC
// and Backend are empty when Reason is "unreachable" or "shutdown".
type AppRoute struct {
	DC      string `json:"dc"`
	Backend string `json:"backend"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail"`
}
