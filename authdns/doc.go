// Package authdns assembles the authoritative DNS daemon from its parts: it
// reads authdns.yaml (every error as file:line: key: reason), builds a
// complete serving state (zones, GeoIP, admin_state) and validates it before
// anything is swapped in, and runs the reload and admin_state watch loops.
// It lives apart from cmd/authdns so that authdns-update and trafficctl can
// load and check the same configuration the daemon serves.
package authdns
