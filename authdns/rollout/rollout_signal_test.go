package rollout

import (
	"context"
	"strings"
	"testing"
)

// A signal (a cancelled context) while a server holds the stage call: the
// aborts still go out, by our id, and the message says whether every
// server dropped the bundle or which ones may still hold it.
func TestInterruptedStageAbortsEverywhere(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failAbort bool
	}{{"aborts succeed", false}, {"an abort fails", true}} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := &fakeServer{}, &fakeServer{holdStage: true, failAbort: tc.failAbort}
			startFake(t, a)
			startFake(t, b)
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-b.stageArrived; cancel() }()
			code, out, errOut := runCtx(t, ctx, a, b)
			if code != ExitFailed {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(errOut, "interrupted") {
				t.Errorf("stderr does not say interrupted:\n%s", errOut)
			}
			if _, pending := a.state(); pending != "" {
				t.Errorf("server a still holds %s", pending)
			}
			_, pending := b.state()
			if !tc.failAbort {
				if pending != "" || !strings.Contains(errOut, "aborted everywhere, nothing was changed") {
					t.Errorf("server b holds %q; stderr:\n%s", pending, errOut)
				}
				return
			}
			if strings.Contains(errOut, "aborted everywhere") || !strings.Contains(errOut, "may still hold bundle "+pending+": "+b.sock) {
				t.Errorf("the server still holding the bundle is not named:\n%s", errOut)
			}
		})
	}
}
