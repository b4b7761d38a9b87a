#!/bin/sh
# bench-bgp: time from a withdraw decision in lvsd (SetRoutes without the
# VIP, or Stop on SIGTERM) to the route disappearing from a real BIRD 2
# router on loopback. Prints figures; never fails.
cd "$(dirname "$0")/.." || exit 0
N=${BGP_BENCH_N:-20}
echo "== bgp: withdraw latency to BIRD ($(bird --version 2>&1 | head -1), $(nproc) cores, $(uname -r))"
go test -count=1 -run '^$' -bench 'WithdrawToBird' -benchtime "${N}x" ./test/bgp/ 2>&1 |
	grep -E '^#|^Benchmark|ms-' || echo "bench-bgp: benchmark did not run (is bird2 installed? make deps-bird)"
exit 0
