package ctl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// confirm asks before a change of several objects, or one the routing
// check refused and --force pushes through, unless --yes was given. With
// no terminal to ask on it refuses rather than guess.
func confirm(env Env, opts Options, changes []change, forced bool) error {
	if opts.Yes || (len(changes) <= 1 && !forced) {
		return nil
	}
	what := fmt.Sprintf("%d objects", len(changes))
	if len(changes) == 1 {
		what = "1 object"
	}
	if !env.Terminal {
		return fmt.Errorf("refused: this changes %s and there is no terminal to confirm on; pass --yes", what)
	}
	for _, c := range changes {
		fmt.Fprintf(env.Stderr, "  %s\n", describe(c))
	}
	fmt.Fprintf(env.Stderr, "Change these %s? [y/N] ", what)
	if !yes(env.Stdin) {
		return errors.New("aborted: nothing was written")
	}
	return nil
}

// yes reads one answer line: y or yes, in any case, agrees.
func yes(r io.Reader) bool {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		return false
	}
	a := strings.ToLower(strings.TrimSpace(sc.Text()))
	return a == "y" || a == "yes"
}

// describe is one change for people: "set KEY: OLD -> NEW".
func describe(c change) string {
	old, nw := "(none)", "(none)"
	if c.Old != nil {
		old = string(c.Old.Value)
	}
	if c.New != nil {
		nw = string(c.New)
	}
	return fmt.Sprintf("%s %s: %s -> %s", c.verb(), c.Key, old, nw)
}
