package adminstate

import "testing"

func TestOverlayLocalWins(t *testing.T) {
	remote := &State{Digest: "r", Entries: []Entry{
		{Pattern: "site/esams", Down: true, Source: "etcd", Key: "/conftool/v1/sites/esams", Revision: 7},
		{Pattern: "site/eqsin", Down: true, Source: "etcd", Key: "/conftool/v1/sites/eqsin", Revision: 8},
	}}
	local, err := Parse("admin_state", []byte("site/esams => UP\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := Overlay(remote, local)
	if e, ok := st.Lookup("site/esams"); !ok || e.Down || e.Source != "" || e.Origin(st.File) != "admin_state:1" {
		t.Errorf("esams: %+v %v, want the file's UP", e, ok)
	}
	if e, ok := st.Lookup("site/eqsin"); !ok || !e.Down || e.Origin(st.File) != "etcd /conftool/v1/sites/eqsin@8" {
		t.Errorf("eqsin: %+v %v, want etcd's DOWN", e, ok)
	}
	if st.Digest == local.Digest || st.Digest == Overlay(nil, local).Digest {
		t.Errorf("digest %q does not cover the remote entries", st.Digest)
	}
	if Overlay(nil, local) != local {
		t.Error("overlay of nothing should be the local state itself")
	}
	if Overlay(nil, nil).Len() != 0 {
		t.Error("overlay of nil, nil should be empty")
	}
}
