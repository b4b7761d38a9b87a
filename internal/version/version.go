// Package version holds the build version stamped in by the Makefile.
package version

// Version is set with -ldflags "-X .../internal/version.Version=..."; it is
// a build-time constant in spirit, never written at run time.
var Version = "dev"
