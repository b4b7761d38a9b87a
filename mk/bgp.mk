# lvs/bgp: BIRD 2 is the real router the tests in test/bgp announce to.
# The tests start their own bird per test (bird -f -c CONF -s SOCKET in a
# temporary directory); the Debian package's system service is not used.
TEST_DEPS  += deps-bird
BENCH_DEPS += deps-bird

.PHONY: deps-bird test-bgp bench-bgp
# deps-bird needs BIRD 2: a BIRD 1.x `bird` (Debian package bird) does not
# count, so bird2 is installed over it (the packages conflict; apt replaces
# it). There is no `bird2` command, so apt-install always installs here.
BIRD_VERSION = { bird --version || /usr/sbin/bird --version; } 2>&1 | head -1
deps-bird:
	@case "$$($(BIRD_VERSION))" in *"version 2."*) exit 0;; esac; \
	echo "deps-bird: BIRD 2 needed, found: $$($(BIRD_VERSION))"; \
	scripts/apt-install bird2 bird2 && \
	case "$$($(BIRD_VERSION))" in *"version 2."*) ;; *) echo "deps-bird: still no BIRD 2: $$($(BIRD_VERSION))"; exit 1;; esac

# test-bgp runs only the BGP unit and BIRD tests.
test-bgp: deps-bird
	$(GO) test -count=1 ./lvs/bgp/... ./test/bgp/...

bench-bgp: deps-bird
	scripts/bench-bgp.sh
