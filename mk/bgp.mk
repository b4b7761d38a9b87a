# lvs/bgp: BIRD 2 is the real router the tests in test/bgp announce to.
# The tests start their own bird per test (bird -f -c CONF -s SOCKET in a
# temporary directory); the Debian package's system service is not used.
TEST_DEPS  += deps-bird
BENCH_DEPS += deps-bird

.PHONY: deps-bird test-bgp bench-bgp
deps-bird:
	@scripts/apt-install bird bird2

# test-bgp runs only the BGP unit and BIRD tests.
test-bgp: deps-bird
	$(GO) test -count=1 ./lvs/bgp/... ./test/bgp/...

bench-bgp: deps-bird
	scripts/bench-bgp.sh
