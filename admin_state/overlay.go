package adminstate

import (
	"crypto/sha256"
	"encoding/hex"
)

// Overlay combines a state from a remote source (etcd) with the local file:
// local entries come last, so for the same key the local file wins (the
// last matching entry wins in Lookup). That keeps the file an emergency
// override that works while the remote source is unreachable. Either may be
// nil. The result's File is the local file's, and its Digest covers both.
func Overlay(remote, local *State) *State {
	if remote.Len() == 0 {
		if local == nil {
			return Empty("")
		}
		return local
	}
	out := &State{Entries: make([]Entry, 0, remote.Len()+local.Len())}
	out.Entries = append(out.Entries, remote.Entries...)
	if local != nil {
		out.File = local.File
		out.Entries = append(out.Entries, local.Entries...)
	}
	h := sha256.New()
	h.Write([]byte(remote.Digest))
	h.Write([]byte{0})
	if local != nil {
		h.Write([]byte(local.Digest))
	}
	out.Digest = hex.EncodeToString(h.Sum(nil))
	return out
}
