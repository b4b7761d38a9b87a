package rollout

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/authdns"
)

// Diff is what a rollout changes on one server.
type Diff struct {
	Added, Removed, Changed  []string
	Serials                  []SerialChange
	AdminRemoved, AdminAdded []string
	// Warnings are changes an operator probably did not mean, such as a
	// zone file changed without a serial increase.
	Warnings []string
}

// SerialChange is one zone whose serial (or presence) changes.
type SerialChange struct {
	Zone     string
	Old, New uint32
	HadOld   bool
	HasNew   bool
}

// Empty reports whether nothing changes.
func (d *Diff) Empty() bool {
	return len(d.Added)+len(d.Removed)+len(d.Changed)+len(d.AdminRemoved)+len(d.AdminAdded) == 0
}

// computeDiff compares what a server serves with the local bundle.
func computeDiff(cur *authdns.DataInfo, files []authdns.FileInfo, zones []authdns.ZoneInfo, admin []string) *Diff {
	d := &Diff{}
	old := map[string]string{}
	for _, f := range cur.Files {
		old[f.Path] = f.SHA256
	}
	nw := map[string]bool{}
	for _, f := range files {
		nw[f.Path] = true
		h, ok := old[f.Path]
		switch {
		case !ok:
			d.Added = append(d.Added, f.Path)
		case h != f.SHA256:
			d.Changed = append(d.Changed, f.Path)
		}
	}
	for _, f := range cur.Files {
		if !nw[f.Path] {
			d.Removed = append(d.Removed, f.Path)
		}
	}
	oldSerial := map[string]uint32{}
	for _, z := range cur.Zones {
		oldSerial[z.Name] = z.Serial
	}
	newSerial := map[string]bool{}
	for _, z := range zones {
		newSerial[z.Name] = true
		o, had := oldSerial[z.Name]
		if !had || o != z.Serial {
			d.Serials = append(d.Serials, SerialChange{Zone: z.Name, Old: o, New: z.Serial, HadOld: had, HasNew: true})
		}
		file := "zones/" + strings.TrimSuffix(z.Name, ".")
		if had && slices.Contains(d.Changed, file) && int32(z.Serial-o) <= 0 {
			d.Warnings = append(d.Warnings, fmt.Sprintf("zone %s changed but its serial did not increase (%d → %d): secondaries will not notice", z.Name, o, z.Serial))
		}
	}
	for _, z := range cur.Zones {
		if !newSerial[z.Name] {
			d.Serials = append(d.Serials, SerialChange{Zone: z.Name, Old: z.Serial, HadOld: true})
		}
	}
	d.AdminRemoved, d.AdminAdded = lineDiff(cur.AdminState, admin)
	return d
}

// lineDiff returns the lines only in a and only in b (multiset).
func lineDiff(a, b []string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for _, l := range a {
		count[l]++
	}
	for _, l := range b {
		if count[l] > 0 {
			count[l]--
		} else {
			onlyB = append(onlyB, l)
		}
	}
	for _, l := range a {
		if count[l] > 0 {
			count[l]--
			onlyA = append(onlyA, l)
		}
	}
	return onlyA, onlyB
}

func (d *Diff) print(w io.Writer, server string, oldDigest, newDigest string) {
	if d.Empty() {
		fmt.Fprintf(w, "%s: already serving %s; no change\n", server, short(newDigest))
		return
	}
	fmt.Fprintf(w, "%s: data %s → %s\n", server, short(oldDigest), short(newDigest))
	for _, p := range d.Added {
		fmt.Fprintf(w, "  + %s\n", p)
	}
	for _, p := range d.Removed {
		fmt.Fprintf(w, "  - %s\n", p)
	}
	for _, p := range d.Changed {
		fmt.Fprintf(w, "  ~ %s\n", p)
	}
	for _, s := range d.Serials {
		switch {
		case !s.HadOld:
			fmt.Fprintf(w, "  zone %s: new, serial %d\n", s.Zone, s.New)
		case !s.HasNew:
			fmt.Fprintf(w, "  zone %s: removed (was serial %d)\n", s.Zone, s.Old)
		default:
			fmt.Fprintf(w, "  zone %s: serial %d → %d\n", s.Zone, s.Old, s.New)
		}
	}
	for _, l := range d.AdminRemoved {
		fmt.Fprintf(w, "  admin_state - %s\n", l)
	}
	for _, l := range d.AdminAdded {
		fmt.Fprintf(w, "  admin_state + %s\n", l)
	}
	if len(d.AdminRemoved) > 0 {
		// Most often a drain written on that server alone: say so
		// before the operator confirms.
		fmt.Fprintf(w, "  NOTE: %s forces states this rollout removes (a local drain?); to keep them, add them to DIR/admin_state\n", server)
	}
	for _, m := range d.Warnings {
		fmt.Fprintf(w, "  WARNING: %s\n", m)
	}
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	if d == "" {
		return "(none)"
	}
	return d
}
