#!/bin/bash
# bench-health: the CPU cost of authdns's health monitor (package health)
# against gdnsd 3.8.1's monitors under the same load: 2,000 loopback
# addresses (127.0.1.1-127.0.8.250) x 2 service types (http_status GET /
# and tcp_connect) every 2 s, gdnsd's least interval, i.e. 2,000 checks/s,
# against the same loopback servers (the health test binary's bench
# server mode, in a process of its own). Then ours alone at the issue's
# load (1 s interval, 4,000 checks/s) and with tcp_connect only (the
# floor a connect sets). The figure is each monitor's CPU time
# (utime+stime from /proc/PID/stat, or getrusage for the Go benchmark)
# over a fixed window, in cores and in microseconds per check. On
# loopback the kernel runs part of the server's half of each handshake in
# the connecting process, the same for both monitors.
# Prints figures; exits 0 unless something is truly broken. Loopback only;
# every run is bounded; every process started is stopped.
#
# Environment: HEALTH_BENCH_SECONDS (measured window, default 20),
# HEALTH_BENCH_GDNSD=0 to skip gdnsd (else installed via scripts/apt-install).
set -u
cd "$(dirname "$0")/.." || exit 0
ROOT=$PWD
SECS=${HEALTH_BENCH_SECONDS:-20}
WITH_GDNSD=${HEALTH_BENCH_GDNSD:-1}
HZ=$(getconf CLK_TCK)

say() { echo "bench-health: $*"; }

command -v go >/dev/null 2>&1 || { say "go not found; nothing measured"; exit 0; }
if ! ip -4 addr show dev lo 2>/dev/null | grep -q '127.0.0.1/8'; then
	say "lo does not hold 127.0.0.0/8; nothing measured"; exit 0
fi

TMP=$(mktemp -d /tmp/bench-health.XXXXXX) || exit 1
SPID="" GPID=""
stop() { # stop PID: TERM, then KILL after 5 s
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
cleanup() {
	stop "$GPID"
	[ -n "$SPID" ] && exec 3>&- # the servers stop when their stdin closes
	stop "$SPID"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# cpu PID: "utime stime" of the whole process so far, in clock ticks.
cpu() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "-1 -1"; return; }
	s=${s##*) } # drop "pid (comm) ", comm may hold spaces
	# shellcheck disable=SC2086
	set -- $s
	echo "${12} ${13}"
}

# wait_log FILE PATTERN PID: up to 30 s for PATTERN in FILE while PID lives.
wait_log() {
	local i
	for i in $(seq 300); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

if ! go test -c -o "$TMP/health.test" ./health 2>"$TMP/build.log"; then
	say "go test -c ./health failed:"; cat "$TMP/build.log"; exit 1
fi

echo "== health monitor: authdns (package health) vs gdnsd, CPU per check"
echo "   machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows up as noise)"

# ours RUN-LABEL INTERVAL TYPES: one run of the Go benchmark, which starts
# its own servers; prints its figures in the common format.
ours() {
	local label=$1 out
	out=$(HEALTH_BENCH_INTERVAL=$2 HEALTH_BENCH_TYPES=$3 HEALTH_BENCH_RUN=${SECS}s \
		timeout $((SECS + 120)) "$TMP/health.test" -test.run '^$' -test.bench 'Monitor2000x2$' -test.benchtime 1x 2>&1)
	echo "$out" | awk -v l="$label" '/^BenchmarkMonitor2000x2/ {
		for (i = 3; i < NF; i += 2) v[$(i + 1)] = $i
		printf "  %-34s %6.0f checks/s  %.3f cores (user %.3f, sys %.3f)  user %5.1f us + sys %5.1f us per check, %d down\n",
			l, v["checks/s"], v["cores"], v["user-cores"], v["sys-cores"], v["user-µs/check"], v["sys-µs/check"], v["down"]
		found = 1 }
		END { if (!found) exit 1 }' || printf '  %-34s no result: %s\n' "$label" "$(echo "$out" | tail -3 | tr '\n' ' ')"
}

# --- gdnsd -----------------------------------------------------------------
gdnsd_line=""
if [ "$WITH_GDNSD" = 0 ]; then
	gdnsd_line="skipped (HEALTH_BENCH_GDNSD=0)"
else
	scripts/apt-install gdnsd gdnsd >/dev/null 2>&1 || true
	if ! GDNSD=$(command -v gdnsd || ls /usr/sbin/gdnsd 2>/dev/null); then
		gdnsd_line="gdnsd not installed and scripts/apt-install could not install it"
	fi
fi
if [ -z "$gdnsd_line" ]; then
	# The servers, on their own: "HTTPPORT TCPPORT" on stdout; they stop
	# when stdin (fd 3 here) closes.
	mkfifo "$TMP/servers.in"
	HEALTH_BENCH_SERVERS=1 "$TMP/health.test" -test.run '^$' <"$TMP/servers.in" >"$TMP/servers.out" 2>&1 &
	SPID=$!
	exec 3>"$TMP/servers.in"
	for i in $(seq 100); do [ -s "$TMP/servers.out" ] && break; sleep 0.1; done
	read -r HP TP <"$TMP/servers.out"
	if [ -z "${TP:-}" ]; then
		gdnsd_line="bench servers did not start: $(head -3 "$TMP/servers.out" | tr '\n' ' ')"
	fi
fi
if [ -z "$gdnsd_line" ]; then
	mkdir -p "$TMP/gdnsd/zones" "$TMP/gdnsd-run" "$TMP/gdnsd-state"
	{
		echo "options => { listen => [ 127.0.0.1:0 ], run_dir => $TMP/gdnsd-run, state_dir => $TMP/gdnsd-state }"
		echo "service_types => {"
		echo "  http => { plugin => http_status, port => $HP, url_path => /, interval => 2, timeout => 1 }"
		echo "  tcp => { plugin => tcp_connect, port => $TP, interval => 2, timeout => 1 }"
		echo "}"
		echo "plugins => { multifo => { service_types => [ http, tcp ]"
		for x in $(seq 8); do
			printf '  r%d => [' "$x"
			for y in $(seq 250); do printf ' 127.0.%d.%d' "$x" "$y"; done
			echo ' ]'
		done
		echo "} }"
	} >"$TMP/gdnsd/config"
	"$GDNSD" -c "$TMP/gdnsd" start >"$TMP/gdnsd.log" 2>&1 &
	GPID=$!
	if ! wait_log "$TMP/gdnsd.log" 'DNS listeners started' "$GPID"; then
		gdnsd_line="gdnsd did not start: $(tail -3 "$TMP/gdnsd.log" | tr '\n' ' ')"
		stop "$GPID"; GPID=""
	fi
fi
echo "-- 2,000 addresses x (http_status, tcp_connect) every 2 s = 2,000 checks/s, ${SECS} s window"
if [ -n "$GPID" ]; then
	echo "   $("$GDNSD" -c "$TMP/gdnsd" checkconf 2>&1 | grep -m1 'gdnsd version' | sed 's/^info: //; s/ @.*//')"
	sleep 4 # past the initial round and the first spread-out round
	read -r u0 s0 < <(cpu "$GPID")
	t0=$(date +%s.%N)
	sleep "$SECS"
	read -r u1 s1 < <(cpu "$GPID")
	t1=$(date +%s.%N)
	down=$(grep -c 'DOWN' "$TMP/gdnsd.log")
	if [ "$u0" -ge 0 ] && [ "$u1" -ge 0 ] && kill -0 "$GPID" 2>/dev/null; then
		awk -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v w="$(echo "$t1 - $t0" | bc -l)" -v hz="$HZ" -v d="$down" 'BEGIN {
			n = 2000 * w
			printf "  %-34s %6.0f checks/s  %.3f cores (user %.3f, sys %.3f)  user %5.1f us + sys %5.1f us per check, %d DOWN log lines\n",
				"gdnsd 3.8.1", 2000, (u + s) / hz / w, u / hz / w, s / hz / w, u / hz * 1e6 / n, s / hz * 1e6 / n, d }'
	else
		say "gdnsd exited during the run:"; tail -5 "$TMP/gdnsd.log"
	fi
	stop "$GPID"; GPID=""
else
	echo "  gdnsd: $gdnsd_line"
fi
exec 3>&-
stop "$SPID"; SPID=""
ours "authdns health" 2s http,tcp

echo "-- authdns health at the issue's load: 1 s interval (target: under 0.2 core)"
ours "authdns health, 4,000 checks/s" 1s http,tcp
ours "authdns health, tcp_connect only" 1s tcp
ours "authdns health, http_status only" 1s http
exit 0
