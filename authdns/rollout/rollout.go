// Package rollout is authdns-update: it rolls a DNS data directory out to
// every authoritative server or to none, with a two-phase stage/commit
// protocol over each server's control API.
package rollout

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/geotraffic/geotraffic/authdns"
)

// Options is one rollout.
type Options struct {
	Data       string            // the data directory to roll out
	Servers    []string          // control addresses
	Config     string            // optional authdns.yaml for local validation settings
	GeoIPDBDir string            // where relative geoip2_db paths resolve locally (default: Data)
	Token      string            // bearer token for TCP control addresses
	TLS        authdns.ClientTLS // CA file and server name for TLS control addresses; zero = https:// addresses only, system roots
	Yes        bool              // do not ask for confirmation
	DiffOnly   bool              // stop after showing the diff
	LockFile   string
	// Time-outs: a status/diff call, the stage phase (each server loads
	// the whole bundle), and the commit phase.
	Timeout, StageTimeout, CommitTimeout time.Duration

	// Args are the command-line arguments as given (without the program
	// name); the PARTIAL ROLLOUT retry command is rebuilt from them.
	Args []string

	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Log            *slog.Logger
}

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailed  = 1 // nothing changed anywhere
	ExitUsage   = 2
	ExitPartial = 3 // some servers committed, some did not
)

// result is one server's outcome.
type result struct {
	server       string
	before       string
	after        string
	serials      string
	outcome      string
	stageID      string
	staged, done bool
	err          error
}

// Run performs the rollout and returns the exit status.
func Run(ctx context.Context, o Options) int {
	if o.Data == "" || len(o.Servers) == 0 {
		fmt.Fprintln(o.Stderr, "authdns-update: --data and --servers (or --servers-file) are required")
		return ExitUsage
	}
	copts, err := clientOptions(o)
	if err != nil {
		fmt.Fprintf(o.Stderr, "authdns-update: %v; nothing was changed\n", err)
		return ExitUsage
	}
	unlock, err := lock(o.LockFile)
	if err != nil {
		fmt.Fprintln(o.Stderr, "authdns-update:", err)
		return ExitFailed
	}
	defer unlock()

	// 1. Local validation, and a clean work tree.
	data, err := filepath.Abs(o.Data)
	if err != nil {
		fmt.Fprintln(o.Stderr, "authdns-update:", err)
		return ExitUsage
	}
	// Validate exactly what will be sent: the bundle written out afresh,
	// not DIR (which may hold what the bundle leaves out).
	if links, err := authdns.SymlinkedDirs(data); err != nil || len(links) > 0 {
		if err == nil {
			err = fmt.Errorf("%s: %s: a symlink to a directory; a bundle carries regular files (and symlinks to files) only, so its content would not reach the servers: replace it with a real directory",
				data, strings.Join(links, ", "))
		}
		fmt.Fprintf(o.Stderr, "authdns-update: %v; nothing was changed\n", err)
		return ExitFailed
	}
	bundle, err := authdns.ReadBundle(data)
	if err != nil {
		fmt.Fprintln(o.Stderr, "authdns-update:", err)
		return ExitFailed
	}
	st, err := validateBundle(o, data, bundle)
	if err != nil {
		fmt.Fprintf(o.Stderr, "authdns-update: %s does not validate; nothing was changed:\n%v\n", data, err)
		return ExitFailed
	}
	if err := cleanTree(data); err != nil {
		fmt.Fprintf(o.Stderr, "authdns-update: %v; nothing was changed\n", err)
		return ExitFailed
	}
	digest := bundle.Digest()
	files := bundle.Manifest()
	zones := make([]authdns.ZoneInfo, 0)
	for _, z := range st.Zones.Zones() {
		zones = append(zones, authdns.ZoneInfo{Name: z.Name, Serial: z.Serial})
	}
	var admin []string
	for _, e := range st.Admin.Entries {
		admin = append(admin, e.Pattern+" => "+e.StateString())
	}
	fmt.Fprintf(o.Stdout, "%s validates: %d files, %d zones, data digest %s\n", data, len(files), len(zones), short(digest))

	// 2. What each server serves now, and the diff.
	results := make([]*result, len(o.Servers))
	clients := make([]*authdns.Client, len(o.Servers))
	infos := make([]*authdns.DataInfo, len(o.Servers))
	for i, s := range o.Servers {
		results[i] = &result{server: s}
		clients[i] = authdns.NewClient(s, o.Token, max(o.Timeout, o.StageTimeout, o.CommitTimeout), copts...)
	}
	parallel(len(o.Servers), func(i int) {
		c, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		infos[i], results[i].err = clients[i].Data(c)
	})
	unreachable := false
	for i, r := range results {
		if r.err != nil {
			unreachable = true
			r.outcome = "unreachable: " + r.err.Error()
			continue
		}
		r.before = infos[i].Digest
		r.after = r.before
		r.serials = serialList(infos[i].Zones)
		if infos[i].Data == "" {
			r.err = errors.New("the server has no data directory (`data:` in authdns.yaml)")
			r.outcome = "refused: " + r.err.Error()
			unreachable = true
		}
	}
	if unreachable {
		fmt.Fprintln(o.Stderr, "authdns-update: not every server can take this rollout; nothing was changed")
		table(o.Stdout, results)
		return ExitFailed
	}
	changes := 0
	for i, r := range results {
		d := computeDiff(infos[i], files, zones, admin)
		d.print(o.Stdout, r.server, r.before, digest)
		if r.before != digest {
			changes++
		}
	}
	if o.DiffOnly {
		return ExitOK
	}
	if changes == 0 {
		fmt.Fprintln(o.Stdout, "every server already serves this data; nothing to do")
		return ExitOK
	}
	if !o.Yes && !confirm(o, len(o.Servers)) {
		fmt.Fprintln(o.Stderr, "authdns-update: not confirmed; nothing was changed")
		return ExitFailed
	}

	// 3. Phase one: stage everywhere, under one id we choose, against the
	// digest each server's diff was computed from.
	id := authdns.NewStageID("upd-")
	parallel(len(results), func(i int) {
		c, cancel := context.WithTimeout(ctx, o.StageTimeout)
		defer cancel()
		res, err := clients[i].Stage(c, &authdns.StageRequest{ID: id, Before: results[i].before, Bundle: *bundle})
		if err != nil {
			results[i].err = err
			return
		}
		results[i].stageID, results[i].staged = res.ID, true
	})
	failed := 0
	for _, r := range results {
		if !r.staged {
			failed++
		}
	}
	if failed == 0 && ctx.Err() != nil {
		for _, r := range results {
			r.err = context.Cause(ctx)
		}
	}
	if failed > 0 || ctx.Err() != nil {
		return abortAll(ctx, o, clients, results, id, failed)
	}

	// 4. Phase two: commit everywhere. Every server has staged, so a
	// signal now must not split them: the commits (each quick) finish.
	cctx := context.WithoutCancel(ctx)
	parallel(len(results), func(i int) {
		r := results[i]
		c, cancel := context.WithTimeout(cctx, o.CommitTimeout)
		defer cancel()
		s, err := clients[i].Commit(c, r.stageID)
		if err != nil {
			// The commit may have happened with only its answer lost (a
			// time-out): what the server serves now decides.
			c2, cancel2 := context.WithTimeout(cctx, o.Timeout)
			defer cancel2()
			s2, err2 := clients[i].Status(c2)
			switch {
			case err2 == nil && s2.DataDigest == digest:
				r.done, r.after, r.outcome = true, s2.DataDigest, "committed (its answer was lost: "+oneLine(err)+"; status shows the new data)"
				r.serials = serialList(s2.Zones)
			case err2 == nil:
				r.err, r.after, r.outcome = err, s2.DataDigest, "COMMIT FAILED: "+oneLine(err)
			default:
				r.err, r.after, r.outcome = err, "unknown", "COMMIT FAILED: "+oneLine(err)+" (status: "+oneLine(err2)+")"
			}
			return
		}
		r.done, r.after, r.outcome = true, s.DataDigest, "committed"
		r.serials = serialList(s.Zones)
	})
	var bad, good []string
	for _, r := range results {
		if r.done {
			good = append(good, r.server)
		} else {
			bad = append(bad, r.server)
		}
	}
	table(o.Stdout, results)
	if len(bad) == 0 {
		fmt.Fprintf(o.Stdout, "rolled out %s to %d servers\n", short(digest), len(good))
		return ExitOK
	}
	fmt.Fprintf(o.Stderr, "\n!!! PARTIAL ROLLOUT: %d of %d servers committed %s, %d did NOT !!!\n", len(good), len(results), short(digest), len(bad))
	fmt.Fprintf(o.Stderr, "!!! committed: %s\n!!! not committed: %s\n", strings.Join(good, ", "), strings.Join(bad, ", "))
	args := o.Args
	if args == nil {
		args = []string{"--data", data}
	}
	fmt.Fprintf(o.Stderr, "!!! the servers now disagree. Retry the failed ones (from the same directory) with:\n    %s\n", retryCommand(args, bad))
	return ExitPartial
}

// abortAll aborts bundle id on every server. A server whose stage failed
// is asked too: a stage that timed out on our side may have succeeded
// there, and the id (ours alone) makes that abort safe for anyone else's
// staged bundle. The aborts run even when ctx was cancelled (a signal),
// each bounded by o.Timeout.
func abortAll(ctx context.Context, o Options, clients []*authdns.Client, results []*result, id string, failed int) int {
	actx := context.WithoutCancel(ctx)
	var holding []string
	var mu sync.Mutex
	parallel(len(results), func(i int) {
		r := results[i]
		if neverSent(r.err) {
			r.outcome = "stage failed: " + oneLine(r.err)
			return // the server never got the bundle: nothing to abort
		}
		c, cancel := context.WithTimeout(actx, o.Timeout)
		defer cancel()
		aerr := clients[i].Abort(c, id)
		var api *authdns.APIError
		notStaged := errors.As(aerr, &api) && api.Status == http.StatusNotFound
		switch {
		case aerr != nil && !notStaged:
			mu.Lock()
			holding = append(holding, r.server)
			mu.Unlock()
			r.outcome = "MAY STILL HOLD BUNDLE " + id + " (abort failed: " + oneLine(aerr) + ")"
		case r.staged:
			r.outcome = "aborted"
		case r.err != nil:
			r.outcome = "stage failed: " + oneLine(r.err)
		default:
			r.outcome = "not staged"
		}
	})
	why := fmt.Sprintf("%d of %d servers could not stage the bundle", failed, len(results))
	if ctx.Err() != nil {
		why = "interrupted (" + context.Cause(ctx).Error() + ")"
	}
	if len(holding) == 0 {
		fmt.Fprintf(o.Stderr, "authdns-update: %s; aborted everywhere, nothing was changed\n", why)
	} else {
		slices.Sort(holding)
		fmt.Fprintf(o.Stderr, "authdns-update: %s; nothing was committed, but the abort failed on %d server(s), which may still hold bundle %s: %s\n",
			why, len(holding), id, strings.Join(holding, ", "))
		fmt.Fprintf(o.Stderr, "authdns-update: it expires there on its own; to drop it now: authdns ctl --control SERVER abort %s\n", id)
	}
	for _, r := range results {
		if r.err != nil && ctx.Err() == nil {
			fmt.Fprintf(o.Stderr, "%s:\n%s\n", r.server, indent(r.err.Error()))
		}
	}
	table(o.Stdout, results)
	return ExitFailed
}

// clientOptions are the TLS options of o, once every server was checked:
// none may get the token in clear over a network.
func clientOptions(o Options) ([]authdns.ClientOption, error) {
	var copts []authdns.ClientOption
	if o.TLS != (authdns.ClientTLS{}) {
		opt, err := authdns.WithTLS(o.TLS)
		if err != nil {
			return nil, err
		}
		copts = append(copts, opt)
	}
	for _, s := range o.Servers {
		if err := authdns.TokenInClear(s, o.Token, copts...); err != nil {
			return nil, err
		}
		if authdns.IsTCPAddr(s) || strings.HasPrefix(s, authdns.TLSScheme) {
			if o.Token == "" && o.TLS.CertFile == "" {
				return nil, fmt.Errorf("%s is a TCP control address: give --token-file, or a client certificate (--cert-file and --key-file)", s)
			}
		}
	}
	return copts, nil
}

// valueFlags are authdns-update's flags that take a value (as the next
// argument unless written --flag=value).
var valueFlags = map[string]bool{"data": true, "servers": true, "servers-file": true, "config": true,
	"geoip-db-dir": true, "token-file": true, "lock": true, "timeout": true, "stage-timeout": true, "commit-timeout": true,
	"ca-file": true, "tls-server-name": true, "cert-file": true, "key-file": true}

// retryCommand is the original command line with --servers/--servers-file
// replaced by the servers that did not commit, and --yes added: every
// other flag (config, GeoIP directory, token, lock, time-outs) is kept.
func retryCommand(args, bad []string) string {
	out := []string{"authdns-update"}
	yes := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			out = append(out, args[i:]...)
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takesNext := valueFlags[name] && !hasValue && i+1 < len(args)
		if name == "servers" || name == "servers-file" {
			if takesNext {
				i++
			}
			continue
		}
		if name == "yes" {
			yes = true
		}
		out = append(out, a)
		if takesNext {
			i++
			out = append(out, args[i])
		}
	}
	out = append(out, "--servers", strings.Join(bad, ","))
	if !yes {
		out = append(out, "--yes")
	}
	for i := range out {
		out[i] = shellQuote(out[i])
	}
	return strings.Join(out, " ")
}

// validateBundle writes b to a temporary directory and validates that as
// checkconf would; errors name files under data, as the operator knows them.
// neverSent tells an error from a call that never reached the server (the
// connection could not be made), so the server cannot hold what it carried.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func validateBundle(o Options, data string, b *authdns.Bundle) (*authdns.State, error) {
	tmp, err := os.MkdirTemp("", "authdns-update-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	sent := filepath.Join(tmp, filepath.Base(data))
	if err := b.WriteDir(sent); err != nil {
		return nil, fmt.Errorf("writing the bundle out for validation: %w", err)
	}
	st, err := validate(o, data, sent)
	if err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), sent, data))
	}
	return st, nil
}

// validate checks the data directory sent; relative GeoIP database paths
// resolve as they would in data (unless --config or --geoip-db-dir say
// otherwise).
func validate(o Options, data, sent string) (*authdns.State, error) {
	var base *authdns.Config
	if o.Config != "" {
		c, err := authdns.LoadConfig(o.Config)
		if err != nil {
			return nil, err
		}
		base = c
		base.ControlTCP, base.ControlTokenFile = "", "" // server-local, not ours to check
		base.Etcd = nil                                 // server-local too (its password file may be the daemon's alone)
	} else {
		base = &authdns.Config{File: filepath.Join(data, "(authdns-update)"), GeoIPDBDir: data}
	}
	if o.GeoIPDBDir != "" {
		base.GeoIPDBDir = o.GeoIPDBDir
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return authdns.Check(base.WithData(sent), log)
}

// cleanTree refuses a git work tree with uncommitted or untracked changes
// under dir: what is rolled out must be what is committed.
func cleanTree(dir string) error {
	if _, err := exec.LookPath("git"); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, ".git")); serr == nil {
			return errors.New("git is not installed, so the work tree cannot be checked")
		}
		return nil
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--is-inside-work-tree").Output()
	if err != nil || strings.TrimSpace(string(out)) != "true" {
		return nil // not a git work tree
	}
	// Porcelain paths are relative to the repository root; the dotfile
	// rule applies to paths inside dir, so strip dir's own prefix (dir may
	// itself sit under a dot-directory, repo/.dns/zones).
	prefix, err := exec.Command("git", "-C", dir, "rev-parse", "--show-prefix").Output()
	if err != nil {
		return fmt.Errorf("git rev-parse in %s: %w", dir, err)
	}
	// --ignored too: an ignored file would still be rolled out. -z: paths
	// unquoted, one NUL-terminated entry each.
	out, err = exec.Command("git", "-C", dir, "status", "--porcelain", "-z", "--untracked-files=all", "--ignored", "--", ".").Output()
	if err != nil {
		return fmt.Errorf("git status in %s: %w", dir, err)
	}
	var dirty []string
	entries := strings.Split(string(out), "\x00")
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		if len(e) < 4 {
			continue
		}
		if e[0] == 'R' || e[0] == 'C' {
			i++ // the source path of a rename or copy follows
		}
		rel := strings.TrimPrefix(e[3:], strings.TrimSpace(string(prefix)))
		if hasDotComponent(rel) {
			continue // dotfiles are never part of the bundle
		}
		dirty = append(dirty, e)
	}
	if len(dirty) > 0 {
		return fmt.Errorf("%s has uncommitted, untracked or ignored files that would be rolled out; commit or remove them first:\n%s", dir, strings.Join(dirty, "\n"))
	}
	return nil
}

func hasDotComponent(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

func confirm(o Options, n int) bool {
	fmt.Fprintf(o.Stdout, "Roll this out to %d servers? Type yes to continue: ", n)
	line, _ := bufio.NewReader(o.Stdin).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// DefaultLockFile is /run/lock/authdns-update.lock when /run/lock is a
// writable directory, else authdns-update.lock in $TMPDIR: a place every
// operator of the host can reach, so their rollouts exclude each other.
// The lock is per host; across hosts the servers' before-digest check is
// what refuses a rollout computed against data that changed.
func DefaultLockFile() string {
	if fi, err := os.Stat("/run/lock"); err == nil && fi.IsDir() && syscall.Access("/run/lock", 2 /* W_OK */) == nil {
		return "/run/lock/authdns-update.lock"
	}
	return filepath.Join(os.TempDir(), "authdns-update.lock")
}

// lock takes an exclusive, non-blocking flock on path; the kernel drops it
// if the process dies, so a crashed rollout never leaves a stale lock. The
// file is created mode 0644: other operators lock it through a read-only
// open, which flock allows, and cannot write it. It is never opened through
// a symlink: in a shared directory such as /tmp another user could plant
// one to make us create or truncate a file of their choosing.
func lock(path string) (func(), error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		data, _ := os.ReadFile(path)
		f.Close()
		holder := strings.TrimSpace(string(data))
		if holder == "" {
			holder = "unknown"
		}
		return nil, fmt.Errorf("another rollout is running on this host (lock %s held by pid %s)", path, holder)
	}
	// The pid is a courtesy for the message above; a read-only open
	// cannot record it.
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Truncate(0); f.Close() }, nil
}

// openLockFile opens or creates path as a regular file, never following a
// symlink (O_NOFOLLOW; O_EXCL for the creation) and never blocking on a
// FIFO.
func openLockFile(path string) (*os.File, error) {
	const flags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|flags, 0o644)
	switch {
	case err == nil:
		f.Chmod(0o644) // past the umask: every operator must be able to open it
	case errors.Is(err, os.ErrExist):
		if f, err = os.OpenFile(path, os.O_RDWR|flags, 0); errors.Is(err, os.ErrPermission) {
			f, err = os.OpenFile(path, os.O_RDONLY|flags, 0)
		}
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, errors.New("it is a symlink; refusing to follow it (remove it, or give --lock another path)")
	}
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, errors.New("not a regular file (remove it, or give --lock another path)")
	}
	return f, nil
}

func parallel(n int, fn func(int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); fn(i) }()
	}
	wg.Wait()
}

func table(w io.Writer, rs []*result) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tBEFORE\tAFTER\tZONE SERIALS\tRESULT")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.server, short(r.before), short(r.after), r.serials, r.outcome)
	}
	tw.Flush()
}

func serialList(zs []authdns.ZoneInfo) string {
	var out []string
	for _, z := range zs {
		out = append(out, fmt.Sprintf("%s=%d", strings.TrimSuffix(z.Name, "."), z.Serial))
	}
	return strings.Join(out, ",")
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (…)"
	}
	return s
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.ContainsAny(s, " '\"$`\\;&|<>()*?[]{}!#~") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
