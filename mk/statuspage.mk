# Status pages (internal/statuspage) are tested in Debian's chromium,
# driven by test/internal/browser; `make test` installs it.
# `make screenshots` regenerates docs/img/*.png, the README's pictures:
# it runs the page tests (named TestStatusPage...) with SCREENSHOT_DIR set,
# and each saves its screenshot there under the page's name.
TEST_DEPS += deps-chromium

SCREENSHOT_PKGS ?= ./test/authdns ./test/routing ./test/lvsd

.PHONY: deps-chromium screenshots
deps-chromium:
	@scripts/apt-install chromium chromium

screenshots: deps-chromium
	@mkdir -p docs/img
	SCREENSHOT_DIR=$(CURDIR)/docs/img $(GO) test -count=1 -run '^TestStatusPage' $(SCREENSHOT_PKGS)
