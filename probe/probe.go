// Package probe runs one-shot checks of a server: an HTTP GET sent to its
// address whatever the URL's host, a TCP connect, and a command run with
// an empty environment in its own session. Each check is bounded by its
// context; the callers (lvsd's monitors, authdns's health monitor) decide
// what a result means and how often to check.
package probe

import "errors"

// ErrTimedOut is a check's error when its context's deadline passed.
var ErrTimedOut = errors.New("timed out")
