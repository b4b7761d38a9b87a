package realserver

import (
	"fmt"
	"io"
	"net/netip"
)

// Host is what Apply and Check need of the system; *System implements it
// and the planner's tests fake it.
type Host interface {
	Read() (State, error)
	Apply(Op) error
}

// Apply brings h to serving vips, printing to w each note and each
// operation as it is done, or "no change". It stops at the first failing
// operation (sysctls come first, so a VIP is never added while ARP would
// still answer for it) and returns the operations done.
func Apply(h Host, vips []netip.Addr, w io.Writer) ([]Op, error) {
	st, err := h.Read()
	if err != nil {
		return nil, err
	}
	ops, notes := Plan(vips, st)
	for _, n := range notes {
		fmt.Fprintln(w, "note:", n)
	}
	if len(ops) == 0 {
		fmt.Fprintln(w, "no change")
		return nil, nil
	}
	for i, op := range ops {
		if err := h.Apply(op); err != nil {
			return ops[:i], err
		}
		fmt.Fprintln(w, op)
	}
	return ops, nil
}

// Check reads h and diagnoses it against vips.
func Check(h Host, vips []VIP) (Report, error) {
	st, err := h.Read()
	if err != nil {
		return Report{}, err
	}
	return Diagnose(vips, st), nil
}
