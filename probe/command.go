package probe

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// OutputLimit is how much of a command's stdout and of its stderr is kept.
const OutputLimit = 64 << 10

// Output is what a command wrote, each stream cut at OutputLimit.
type Output struct{ Stdout, Stderr []byte }

// Command runs argv[0] with the arguments argv[1:] (no shell) in "/", with
// an empty environment, in its own session. When ctx ends first, the
// whole process group is killed and err is the run's error; callers tell
// a timeout by ctx.Err(). An exit status other than 0 is an
// *exec.ExitError. A command that exits 0 succeeded even when its output
// could not be read to the end within a second of its exit (something it
// started holds the pipes, or the machine is too busy to read them): exit
// 0 means up, and a check must not fail on the reading.
func Command(ctx context.Context, argv []string) (Output, error) {
	if len(argv) == 0 {
		return Output{}, errors.New("no command")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{} // empty, not inherited (nil would inherit)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error {
		// Kill the whole session's process group, not just the child.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = time.Second // grandchildren holding the pipes must not block us
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) && ctx.Err() == nil {
		err = nil // exec returns ErrWaitDelay only after an exit status of 0
	}
	return Output{Stdout: stdout.b.Bytes(), Stderr: stderr.b.Bytes()}, err
}

// limitedBuffer keeps the first OutputLimit bytes written. It does not
// embed bytes.Buffer: io.Copy would use the buffer's ReadFrom and bypass
// the limit.
type limitedBuffer struct{ b bytes.Buffer }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := OutputLimit - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
