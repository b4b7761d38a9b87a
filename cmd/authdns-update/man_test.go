package main

import (
	"testing"

	"github.com/geotraffic/geotraffic/internal/cli/clitest"
)

// man/authdns-update.1 is the rendering of the page --help prints.
func TestManPage(t *testing.T) { clitest.ManPage(t, page(), "../../man/authdns-update.1") }
