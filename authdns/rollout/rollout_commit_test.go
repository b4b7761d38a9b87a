package rollout

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A server that commits but answers after the client's commit time-out
// is counted as committed (its status shows the target digest), not as a
// partial rollout.
func TestCommitAnswerLostButCommitted(t *testing.T) {
	b := &fakeServer{slowCommitReply: true}
	startFake(t, b)
	var out, errb bytes.Buffer
	code := Run(context.Background(), Options{
		Data: dataDir(t), Servers: []string{b.sock}, Yes: true, LockFile: filepath.Join(t.TempDir(), "lock"),
		Timeout: 5 * time.Second, StageTimeout: 5 * time.Second, CommitTimeout: 3 * time.Second, // the fake answers only after it; room for a loaded machine to deliver the request
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
	})
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if strings.Contains(errb.String(), "PARTIAL") || !strings.Contains(out.String(), "committed (its answer was lost") {
		t.Errorf("output:\n%s%s", out.String(), errb.String())
	}
	if b.committed.Load() != 1 {
		t.Errorf("server b committed %d times", b.committed.Load())
	}
}
