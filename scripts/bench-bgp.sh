#!/bin/sh
# bench-bgp: time from a withdraw decision to the route disappearing from a
# real BIRD 2 router on loopback, measured against BIRD's own log (1 ms
# resolution, so figures are upper bounds):
#   SetRoutesWithdrawToBird  Announcer.SetRoutes without the VIP
#   StopWithdrawToBird       Announcer.Stop (also: when Stop returns)
#   LvsdHealthDownToBird     lvsd binary: monitor logs the backend down -> gone (bgp-withdraw-on-down)
#   LvsdSigtermToBird        lvsd binary: SIGTERM -> gone
# Prints figures; never fails. BGP_BENCH_N rounds (default 20; lvsd ones 10).
cd "$(dirname "$0")/.." || exit 0
N=${BGP_BENCH_N:-20}
export BGP_BENCH=1 # the benchmarks skip without it (so the generic go test -bench skips them)
M=$(( (N + 1) / 2 ))
echo "== bgp: withdraw latency to BIRD ($("$(command -v bird || echo /usr/sbin/bird)" --version 2>&1 | head -1), $(nproc) cores, $(uname -r))"
{
	go test -count=1 -run '^$' -bench '^Benchmark(SetRoutes|Stop)WithdrawToBird$' -benchtime "${N}x" ./test/bgp/ 2>&1
	go test -count=1 -run '^$' -bench '^BenchmarkLvsd' -benchtime "${M}x" ./test/bgp/ 2>&1
} | grep -E '^Benchmark|FAIL|bird not installed' || echo "bench-bgp: benchmarks did not run (make deps-bird)"
exit 0
