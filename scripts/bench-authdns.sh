#!/bin/bash
# bench-authdns: dnsperf against the real authdns binary and against gdnsd
# 3.8.1 serving the same zone (bench/authdns/zones) and an equivalent geoip
# config (config/geoip.yaml vs bench/authdns/gdnsd/config.in), then the time
# from an admin_state rename to changed answers. Each server gets one UDP
# socket/thread pinned to one CPU, dnsperf the other; the figure to compare
# is the server's CPU time per answered query (/proc/PID/stat utime+stime),
# because dnsperf saturates its own core first. Prints figures; exits 0
# unless something is truly broken (no exit status at all on noise).
# Loopback and high ports only; every run is bounded; servers are stopped.
#
# Environment: AUTHDNS_BENCH_SECONDS (per query set, default 10),
# AUTHDNS_BENCH_ECS_SECONDS (per ECS subnet, default 5),
# AUTHDNS_BENCH_SAMPLES (admin_state samples, default 5),
# AUTHDNS_BENCH_RATE (q/s of the equal-load runs, default 50000),
# AUTHDNS_BENCH_PORT (first port tried, default 15301),
# AUTHDNS_BIN (a prebuilt authdns; default: go build into a temp dir),
# AUTHDNS_BENCH_GDNSD=0 to skip gdnsd.
set -u
cd "$(dirname "$0")/.." || exit 0
ROOT=$PWD
BENCH=$ROOT/bench/authdns
SECS=${AUTHDNS_BENCH_SECONDS:-10}
ECS_SECS=${AUTHDNS_BENCH_ECS_SECONDS:-5}
SAMPLES=${AUTHDNS_BENCH_SAMPLES:-5}
PORT0=${AUTHDNS_BENCH_PORT:-15301}
RATE=${AUTHDNS_BENCH_RATE:-50000}
WITH_GDNSD=${AUTHDNS_BENCH_GDNSD:-1}
CLIENTS=4      # dnsperf sockets
OUTSTANDING=100 # dnsperf queries in flight (more only adds socket-buffer losses)
HZ=$(getconf CLK_TCK)

say() { echo "bench-authdns: $*"; }

for cmd in dnsperf taskset go; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		say "$cmd not found (make bench installs dnsperf via BENCH_DEPS); nothing measured"
		exit 0
	fi
done

TMP=$(mktemp -d /tmp/bench-authdns.XXXXXX) || exit 1
APID="" GPID=""
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
	stop "$APID"
	stop "$GPID"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# port_free PORT: nothing bound to it, UDP or TCP, v4 or v6.
port_free() {
	local hex
	hex=$(printf ':%04X ' "$1")
	! grep -qi -- "$hex" /proc/net/udp /proc/net/tcp /proc/net/udp6 /proc/net/tcp6 2>/dev/null
}
pick_port() { # pick_port FROM: first free port at or above FROM
	local p=$1
	while [ "$p" -lt $(($1 + 500)) ]; do
		if port_free "$p"; then echo "$p"; return 0; fi
		p=$((p + 1))
	done
	return 1
}

# ticks PID: utime+stime of every thread so far, in clock ticks.
ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -1; return; }
	s=${s##*) } # drop "pid (comm) ", comm may hold spaces
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

# wait_log FILE PATTERN PID: up to 15 s for PATTERN in FILE while PID lives.
wait_log() {
	local i
	for i in $(seq 150); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

NCPU=$(nproc)
if [ "$NCPU" -ge 2 ]; then
	SERVER_CPU=${AUTHDNS_BENCH_SERVER_CPU:-1}
	CLIENT_CPU=${AUTHDNS_BENCH_CLIENT_CPU:-0}
	PIN_SERVER="taskset -c $SERVER_CPU"
	PIN_CLIENT="taskset -c $CLIENT_CPU"
	pinning="server on CPU $SERVER_CPU, dnsperf on CPU $CLIENT_CPU"
else
	PIN_SERVER="" PIN_CLIENT=""
	pinning="one CPU: server and dnsperf share it (figures are not comparable to 2-core runs)"
fi

echo "== authdns vs gdnsd: dnsperf, server CPU per query, admin_state latency"
echo "   machine: $NCPU CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows up as noise)"
echo "   $pinning; one UDP socket/thread per server; dnsperf -c $CLIENTS -q $OUTSTANDING"
echo "   $(dnsperf -h 2>&1 | grep -m1 '^Version' | sed 's/^/dnsperf /')"

# --- authdns ---------------------------------------------------------------
AUTHDNS=${AUTHDNS_BIN:-}
if [ -z "$AUTHDNS" ]; then
	AUTHDNS=$TMP/authdns
	if ! go build -ldflags "-X github.com/geotraffic/geotraffic/internal/version.Version=$(git describe --always --dirty 2>/dev/null || echo dev)" \
		-o "$AUTHDNS" ./cmd/authdns 2>"$TMP/build.log"; then
		say "go build ./cmd/authdns failed:"; cat "$TMP/build.log"; exit 1
	fi
fi
if ! go build -o "$TMP/adminlat" ./bench/authdns/adminlat 2>"$TMP/build.log"; then
	say "go build ./bench/authdns/adminlat failed:"; cat "$TMP/build.log"; exit 1
fi
echo "   $("$AUTHDNS" --version 2>&1 | head -1)"

APORT=$(pick_port "$PORT0") || { say "no free port from $PORT0"; exit 1; }
mkdir -p "$TMP/authdns-state"
cat >"$TMP/authdns.yaml" <<EOF
listen: [127.0.0.1:$APORT]
zones: $BENCH/zones
udp_sockets: 1
max_udp_size: 1232
geoip: $ROOT/config/geoip.yaml
admin_state: $TMP/authdns-state/admin_state
EOF
$PIN_SERVER "$AUTHDNS" --config "$TMP/authdns.yaml" >"$TMP/authdns.log" 2>&1 &
APID=$!
if ! wait_log "$TMP/authdns.log" 'msg=listening' "$APID"; then
	say "authdns did not start:"; cat "$TMP/authdns.log"; exit 1
fi

# --- gdnsd -----------------------------------------------------------------
GPORT=""
gdnsd_why=""
if [ "$WITH_GDNSD" = 0 ]; then
	gdnsd_why="skipped (AUTHDNS_BENCH_GDNSD=0)"
elif ! GDNSD=$(command -v gdnsd || ls /usr/sbin/gdnsd 2>/dev/null); then
	gdnsd_why="gdnsd not installed (make deps-gdnsd)"
else
	GPORT=$(pick_port $((APORT + 1))) || { say "no free port above $APORT"; exit 1; }
	mkdir -p "$TMP/gdnsd/zones" "$TMP/gdnsd-run" "$TMP/gdnsd-state"
	cp "$BENCH/zones/example.org" "$TMP/gdnsd/zones/"
	sed -e "s|@LISTEN@|127.0.0.1:$GPORT|" -e "s|@RUN_DIR@|$TMP/gdnsd-run|" \
		-e "s|@STATE_DIR@|$TMP/gdnsd-state|" -e "s|@GEOIP_DB@|$ROOT/config/geoip/default-city.mmdb|" \
		"$BENCH/gdnsd/config.in" >"$TMP/gdnsd/config"
	echo "   $("$GDNSD" -c "$TMP/gdnsd" checkconf 2>&1 | grep -m1 'gdnsd version' | sed 's/^info: //; s/ @.*//')"
	$PIN_SERVER "$GDNSD" -c "$TMP/gdnsd" start >"$TMP/gdnsd.log" 2>&1 &
	GPID=$!
	if ! wait_log "$TMP/gdnsd.log" 'DNS listeners started' "$GPID"; then
		gdnsd_why="gdnsd did not start: $(tail -3 "$TMP/gdnsd.log" | tr '\n' ' ')"
		stop "$GPID"; GPID="" GPORT=""
	fi
fi
[ -n "$gdnsd_why" ] && say "$gdnsd_why; measuring authdns only"

# --- dnsperf runs ----------------------------------------------------------
declare -A US QPS
SETS=() # query set names in run order, for the comparison
# perf SERVER PID PORT SET FILE SECONDS [dnsperf args]: one bounded run.
# A failed run prints why and records nothing; it never stops the script.
perf() {
	local server=$1 pid=$2 port=$3 set=$4 file=$5 secs=$6 t0 t1 out completed qps lost rcodes us
	shift 6
	t0=$(ticks "$pid")
	out=$(timeout $((secs + 30)) $PIN_CLIENT dnsperf -s 127.0.0.1 -p "$port" -d "$file" \
		-l "$secs" -c "$CLIENTS" -q "$OUTSTANDING" -t 2 "$@" 2>&1)
	t1=$(ticks "$pid")
	completed=$(echo "$out" | awk '/Queries completed:/ {print $3; exit}')
	qps=$(echo "$out" | awk '/Queries per second:/ {printf "%.0f", $4; exit}')
	lost=$(echo "$out" | awk '/Queries lost:/ {print $3 " " $4; exit}')
	rcodes=$(echo "$out" | sed -n 's/^ *Response codes: *//p' | head -1)
	if [ -z "$completed" ] || [ "$completed" = 0 ] || [ "$t0" -lt 0 ] || [ "$t1" -lt 0 ]; then
		printf '  %-7s %-24s no result: %s\n' "$server" "$set" "$(echo "$out" | tail -2 | tr '\n' ' ')"
		return
	fi
	us=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$completed" 'BEGIN {printf "%.2f", d / hz * 1e6 / n}')
	US[$server/$set]=$us
	[ "$server" = authdns ] && SETS+=("$set")
	QPS[$server/$set]=$qps
	printf '  %-7s %-24s %7s q/s  %6s us server CPU/query  lost %-10s %s\n' \
		"$server" "$set" "$qps" "$us" "$lost" "$rcodes"
}

# ECS option values for dnsperf -E 8:HEX: family, source prefix, scope 0,
# address bytes. Continents from config/geoip/default-city.csv.
ECS_SETS=(
	"EU:192.0.2.0/24 00011800c00002"
	"NA:198.51.100.0/24 00011800c63364"
	"AS:203.0.113.0/24 00011800cb0071"
	"EU:2001:db8:100::/40 0002280020010db801"
)

# both SET FILE SECONDS [dnsperf args]: the set against authdns, then at
# once against gdnsd, so both see the same background load on the machine.
both() {
	perf authdns "$APID" "$APORT" "$@"
	[ -z "$GPID" ] || perf gdnsd "$GPID" "$GPORT" "$@"
}

echo "-- dnsperf (${SECS}s per set, ${ECS_SECS}s per ECS subnet; server CPU from /proc/PID/stat, ${HZ} ticks/s)"
both "static-A" "$BENCH/static.txt" "$SECS"
both "nxdomain-nodata" "$BENCH/nx.txt" "$SECS"
both "dyna-source" "$BENCH/dyna.txt" "$SECS"
for e in "${ECS_SETS[@]}"; do
	both "ecs-${e%% *}" "$BENCH/dyna.txt" "$ECS_SECS" -E "8:${e##* }"
done
# The same offered load for both servers: CPU per query also depends on
# how busy a server is (batching, wake-ups), so also compare at one rate.
both "static-A@${RATE}q/s" "$BENCH/static.txt" "$SECS" -Q "$RATE"
both "ecs-EU@${RATE}q/s" "$BENCH/dyna.txt" "$SECS" -Q "$RATE" -E "8:${ECS_SETS[0]##* }"

if [ -n "$GPID" ]; then
	echo "-- server CPU per answered query, authdns vs gdnsd (lower is better; target: authdns below gdnsd)"
	for set in "${SETS[@]}"; do
		a=${US[authdns/$set]:-} g=${US[gdnsd/$set]:-}
		[ -n "$a" ] && [ -n "$g" ] || continue
		awk -v s="$set" -v a="$a" -v g="$g" -v qa="${QPS[authdns/$set]}" -v qg="${QPS[gdnsd/$set]}" 'BEGIN {
			printf "  %-24s authdns %5.2f us  gdnsd %5.2f us  ratio %.2f  %-15s (%s vs %s q/s)\n",
				s, a, g, a / g, (a < g ? "below gdnsd" : "NOT below gdnsd"), qa, qg }'
	done
fi

# --- response rate limiting: its cost with no client limited ---------------
# A second authdns, identical but for an rrl: block whose rates no client
# reaches, so every UDP reply is accounted and none is limited.
RPORT=$(pick_port $((APORT + 2))) || RPORT=""
if [ -n "$RPORT" ]; then
	sed "s|127.0.0.1:$APORT|127.0.0.1:$RPORT|" "$TMP/authdns.yaml" >"$TMP/authdns-rrl.yaml"
	sed -i "s|^admin_state: .*|admin_state: $TMP/authdns-state/admin_state-rrl|" "$TMP/authdns-rrl.yaml"
	printf 'control: %s\n' "$TMP/control-rrl.sock" >>"$TMP/authdns-rrl.yaml"
	printf 'rrl: {responses_per_second: 1000000, nxdomains_per_second: 1000000, errors_per_second: 1000000}\n' >>"$TMP/authdns-rrl.yaml"
	$PIN_SERVER "$AUTHDNS" --config "$TMP/authdns-rrl.yaml" >"$TMP/authdns-rrl.log" 2>&1 &
	RPID=$!
	if wait_log "$TMP/authdns-rrl.log" 'msg=listening' "$RPID"; then
		echo "-- rrl: server CPU per answered query without and with rrl (no client limited; target: at most 10% more)"
		for set in static-A:static.txt nxdomain-nodata:nx.txt dyna-source:dyna.txt; do
			perf authdns "$APID" "$APORT" "${set%%:*}" "$BENCH/${set##*:}" "$SECS"
			perf rrl "$RPID" "$RPORT" "${set%%:*}" "$BENCH/${set##*:}" "$SECS"
			a=${US[authdns/${set%%:*}]:-} r=${US[rrl/${set%%:*}]:-}
			[ -n "$a" ] && [ -n "$r" ] && awk -v s="${set%%:*}" -v a="$a" -v r="$r" 'BEGIN {
				printf "  %-24s without %5.2f us  with rrl %5.2f us  %+.1f%%\n", s, a, r, (r / a - 1) * 100 }'
		done
	else
		say "authdns with rrl did not start:"; tail -5 "$TMP/authdns-rrl.log"
	fi
	stop "$RPID"
fi

# --- admin_state latency ---------------------------------------------------
echo "-- admin_state: rename of the file -> first changed answer (www.example.org A, ECS 192.0.2.0/24: esams <-> next DC)"
"$TMP/adminlat" -server "127.0.0.1:$APORT" -file "$TMP/authdns-state/admin_state" -label authdns \
	-n "$SAMPLES" -timeout 10s || say "authdns admin_state measurement failed (see above)"
echo "   target for authdns: under 100 ms"
if [ -n "$GPID" ]; then
	"$TMP/adminlat" -server "127.0.0.1:$GPORT" -file "$TMP/gdnsd-state/admin_state" -label gdnsd \
		-n "$SAMPLES" -timeout 15s || say "gdnsd admin_state measurement failed (see above)"
fi

# A server that died during the runs is a real failure, not noise.
status=0
if ! kill -0 "$APID" 2>/dev/null; then
	say "authdns exited during the benchmark:"; tail -20 "$TMP/authdns.log"; status=1
fi
if [ -n "$GPID" ] && ! kill -0 "$GPID" 2>/dev/null; then
	say "gdnsd exited during the benchmark:"; tail -20 "$TMP/gdnsd.log"
fi
exit $status
