#!/bin/sh
# bench-authdns-reload: the real authdns binary under a dnsperf load while
# `authdns ctl reload` runs every 100 ms; prints dnsperf's lost queries
# (the target is 0) and the time of a reload of a 100k-record zone set
# through the control API. authdns and dnsperf are pinned to different
# CPUs. Prints figures; never fails. RELOAD_BENCH_SECONDS (default 10).
cd "$(dirname "$0")/.." || exit 0
SECS=${RELOAD_BENCH_SECONDS:-10}
ROOT=$(pwd)
AUTHDNS=$ROOT/bin/authdns
[ -x "$AUTHDNS" ] || go build -o "$AUTHDNS" ./cmd/authdns || { echo "bench-authdns-reload: cannot build authdns"; exit 0; }
command -v dnsperf >/dev/null || { echo "bench-authdns-reload: dnsperf not installed (make deps-dnsperf)"; exit 0; }
T=$(mktemp -d /tmp/bench-reload.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 15399)
mkdir -p "$T/data"
cp -r config/zones "$T/data/zones"
cp config/geoip.yaml config/admin_state "$T/data/"
cat > "$T/authdns.yaml" <<YAML
listen: ["127.0.0.1:$PORT"]
data: data
geoip_db_dir: $ROOT/config
control: $T/control.sock
udp_sockets: 1
YAML
CPUS=$(nproc)
PIN_SRV=""; PIN_PERF=""
if [ "$CPUS" -ge 2 ] && command -v taskset >/dev/null; then PIN_SRV="taskset -c 0"; PIN_PERF="taskset -c 1"; fi
$PIN_SRV "$AUTHDNS" --config "$T/authdns.yaml" --log-level warn 2>"$T/log" &
PID=$!
i=0; while [ ! -S "$T/control.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ -S "$T/control.sock" ] || { echo "bench-authdns-reload: authdns did not start"; cat "$T/log"; exit 0; }
printf 'static.example.org A\nwww.example.org A\nnope.example.org A\nexample.org SOA\n' > "$T/queries"

echo "== authdns: lost queries under reload every 100 ms ($CPUS cores, $(uname -r))"
$PIN_PERF dnsperf -s 127.0.0.1 -p "$PORT" -d "$T/queries" -l "$SECS" -Q 20000 -t 2 >"$T/perf" 2>&1 &
PERF=$!
n=0; fail=0
end=$(( $(date +%s) + SECS ))
while [ "$(date +%s)" -lt "$end" ]; do
	sleep 0.1
	if "$AUTHDNS" ctl --control "$T/control.sock" reload >/dev/null 2>&1; then n=$((n+1)); else fail=$((fail+1)); fi
done
wait "$PERF"
echo "reloads: $n ok, $fail failed, during ${SECS}s of dnsperf at 20000 qps"
grep -E 'Queries (sent|completed|lost)' "$T/perf" || cat "$T/perf"

echo "== authdns: reload of a 100k-record zone set through the control API"
awk 'BEGIN { for (z = 0; z < 10; z++) { f = sprintf("'"$T"'/data/zones/zone%d.example", z);
	printf "$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 1800 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n" > f;
	for (i = 0; i < 10000; i++) printf "h%d IN A 10.%d.%d.%d\n", i, int(i/65536)%256, int(i/256)%256, i%256 >> f } }'
for r in 1 2 3; do
	s=$(date +%s%N)
	if "$AUTHDNS" ctl --control "$T/control.sock" reload >/dev/null 2>"$T/err"; then
		e=$(date +%s%N); echo "reload $r: $(( (e - s) / 1000000 )) ms (11 zones, 100k+ records)"
	else
		echo "reload $r failed: $(cat "$T/err")"
	fi
done
exit 0
