// Package routing parses and validates routing.yaml (which cache site each
// entry site forwards to, and which application DC each cluster's apps use),
// and resolves it against the shared admin_state into explained routes:
// for every cluster and entry site, the path of cache sites to a `direct`
// site and the backend of every app, with the reason for every decision.
//
// Resolution is a pure function of (config, admin state); the CLI, the HTTP
// service and the tests all share it.
package routing
