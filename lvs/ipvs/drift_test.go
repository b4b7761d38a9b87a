package ipvs

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// A destination removed by hand (ipvsadm -d) is put back at the next
// reconciliation, logged at WARN with the exact op undone and the op that
// restored it, and counted; a removal lvsd wants anyway is not drift.
func TestDriftRepairLogged(t *testing.T) {
	var buf bytes.Buffer
	m := newMemKernel()
	r := newReconciler(m, slog.New(slog.NewTextHandler(&buf, nil)), false)
	ctx := context.Background()
	want := svcA("wlc", rs("10.64.0.5", 80, 10, DirectRoute), rs("10.64.0.6", 80, 10, DirectRoute))
	if _, err := r.Reconcile(ctx, []Desired{want}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, []Desired{want}); err != nil { // steady state: no drift
		t.Fatal(err)
	}
	if n := len(r.Drift().Recent); n != 0 {
		t.Fatalf("drift without a change: %v", r.Drift())
	}
	// By hand: ipvsadm -d -t 10.2.2.1:80 -r 10.64.0.6:80 and -e ... -w 0.
	if err := m.apply(Op{Kind: DeleteDest, Service: want.Service, Destination: want.Destinations[1]}); err != nil {
		t.Fatal(err)
	}
	if err := m.apply(Op{Kind: EditDest, Service: want.Service, Destination: rs("10.64.0.5", 80, 0, DirectRoute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, []Desired{want}); err != nil {
		t.Fatal(err)
	}
	log := buf.String()
	for _, line := range []string{
		`level=WARN msg="ipvs drift repaired: a change made outside lvsd was undone (use lvsd ctl depool, not ipvsadm)" undone="-d -t 10.2.2.1:80 -r 10.64.0.6:80" restored="-a -t 10.2.2.1:80 -r 10.64.0.6:80 -g -w 10"`,
		`undone="-e -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 0" restored="-e -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 10"`,
	} {
		if !strings.Contains(log, line) {
			t.Errorf("log lacks %s\n%s", line, log)
		}
	}
	d := r.Drift()
	if d.Total[DeleteDest] != 1 || d.Total[EditDest] != 1 || len(d.Recent) != 2 {
		t.Errorf("drift report %+v", d)
	}
	// Removed by hand and by lvsd: nothing was undone.
	if err := m.apply(Op{Kind: DeleteDest, Service: want.Service, Destination: want.Destinations[1]}); err != nil {
		t.Fatal(err)
	}
	fewer := svcA("wlc", want.Destinations[0])
	if _, err := r.Reconcile(ctx, []Desired{fewer}); err != nil {
		t.Fatal(err)
	}
	if n := len(r.Drift().Recent); n != 2 {
		t.Errorf("a removal lvsd wanted too counted as drift: %+v", r.Drift())
	}
	// The whole service deleted by hand (ipvsadm -D) comes back.
	if err := m.apply(Op{Kind: DeleteService, Service: fewer.Service}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, []Desired{fewer}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `undone="-D -t 10.2.2.1:80" restored="-A -t 10.2.2.1:80 -s wlc"`) || r.Drift().Total[DeleteService] != 1 {
		t.Errorf("service deletion not reported\n%s", buf.String())
	}
}
