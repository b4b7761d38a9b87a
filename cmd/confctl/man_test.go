package main

import (
	"testing"

	"github.com/geotraffic/geotraffic/internal/cli/clitest"
)

// man/confctl.1 is the rendering of the page --help prints.
func TestManPage(t *testing.T) { clitest.ManPage(t, page(), "../../man/confctl.1") }
