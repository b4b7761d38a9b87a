package daemon

import (
	"context"
	"testing"
	"time"
)

// runDaemon is how every test here starts a Daemon: New with opts (an
// error fails the test), then Run until the test ends. stop cancels Run
// and returns its error; it may be called before the end, and a daemon
// that does not stop within 20 s fails the test.
func runDaemon(t testing.TB, opts Options) (d *Daemon, stop func() error) {
	t.Helper()
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() { runErr = d.Run(ctx); close(done) }()
	stop = func() error {
		cancel()
		select {
		case <-done:
			return runErr
		case <-time.After(20 * time.Second):
			t.Error("daemon did not stop")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	return d, stop
}
