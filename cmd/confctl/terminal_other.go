//go:build !linux

package main

import "os"

// isTerminal is false where confctl cannot tell: a change of several
// objects then needs --yes.
func isTerminal(*os.File) bool { return false }
