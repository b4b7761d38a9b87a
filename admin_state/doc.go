// Package adminstate parses and watches gdnsd-style admin_state files: lines
// of `KEY => UP|DOWN[/TTL]` with `#` and `;` comments, where KEY is an fnmatch
// glob whose `*` also crosses `/`. It knows nothing of maps, resources or
// routing; consumers ask it whether a key is forced and decide precedence.
package adminstate
