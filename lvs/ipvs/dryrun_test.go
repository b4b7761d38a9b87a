package ipvs

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
)

func TestDryRunLogsOpsAndConverges(t *testing.T) {
	var buf bytes.Buffer
	d := NewDryRun(slog.New(slog.NewTextHandler(&buf, nil)))
	defer d.Close()
	want := []Desired{{
		Service: Service{Key: ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 80}, Scheduler: "wlc"},
		Destinations: []Destination{
			{Addr: netip.MustParseAddr("10.64.0.5"), Weight: 10},
			{Addr: netip.MustParseAddr("10.64.0.6"), Weight: 0},
		},
	}}
	ctx := context.Background()
	ops, err := d.Reconcile(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	wantOps := []string{
		"-A -t 10.2.2.1:80 -s wlc",
		"-a -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 10",
		"-a -t 10.2.2.1:80 -r 10.64.0.6:80 -g -w 0",
	}
	if got := opStrings(ops); strings.Join(got, "\n") != strings.Join(wantOps, "\n") {
		t.Fatalf("ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantOps, "\n"))
	}
	for _, o := range wantOps {
		if !strings.Contains(buf.String(), `op="`+o+`"`) {
			t.Errorf("log lacks %q:\n%s", o, buf.String())
		}
	}
	if ops, err := d.Reconcile(ctx, want); err != nil || len(ops) != 0 {
		t.Fatalf("second reconcile: ops %v, err %v; want none", opStrings(ops), err)
	}
	st, err := d.Status(ctx)
	if err != nil || len(st) != 1 || len(st[0].Destinations) != 2 {
		t.Fatalf("status %+v, err %v", st, err)
	}
}

func opStrings(ops []Op) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = o.String()
	}
	return out
}

// TestConcurrentUse drives one Director from several goroutines, as lvsd
// does (resync loop, pool changes, the status API); run with -race.
func TestConcurrentUse(t *testing.T) {
	d := NewDryRun(nil)
	ctx := context.Background()
	cfg := scaleConfig(5, 5)
	done := make(chan error, 3)
	for g := range 3 {
		go func() {
			for i := range 50 {
				var err error
				if g == 2 {
					_, err = d.Status(ctx)
				} else {
					c := scaleConfig(5, 5)
					c[i%5].Destinations = c[i%5].Destinations[:g+i%3]
					_, err = d.Reconcile(ctx, c)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if ops, err := d.Reconcile(ctx, cfg); err != nil {
		t.Fatal(err)
	} else if ops, err = d.Reconcile(ctx, cfg); err != nil || len(ops) != 0 {
		t.Fatalf("not converged: %v %v", opStrings(ops), err)
	}
}
