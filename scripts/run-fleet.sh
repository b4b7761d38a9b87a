#!/usr/bin/env bash
# run-fleet: one etcd, two authdns, `trafficctl serve` and lvsd (--dry-run)
# on loopback, from the default configuration, seeded by `confctl sync`, so
# confctl can be tried by hand. Everything it writes is under bin/fleet;
# Ctrl-C stops it all. Ports: etcd 23790 (not 2379, which a Debian etcd
# service may hold), authdns 5301 and 5302, trafficctl 9105, lvsd 9091.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
dir=$bin/fleet
etcd_url=http://127.0.0.1:23790
mkdir -p "$dir"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

etcd --name fleet --data-dir "$dir/etcd" \
	--listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
	--listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
	--initial-cluster fleet=http://127.0.0.1:23800 >"$dir/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	"$bin/confctl" --etcd "$etcd_url" --timeout 1s log -n 1 >/dev/null 2>&1 && break
	sleep 0.1
done

export CONFCTL_ETCD=$etcd_url CONFCTL_ROUTING=$root/config/routing.yaml
"$bin/confctl" sync --pools "$root/config/conftool/pools.yaml" --routing "$root/config/routing.yaml" >"$dir/sync.log" 2>&1

for i in 1 2; do
	d=$dir/authdns$i
	mkdir -p "$d"
	[ -e "$d/admin_state" ] || : >"$d/admin_state"
	cat >"$d/authdns.yaml" <<YAML
listen: ["127.0.0.1:530$i"]
zones: $root/config/zones
geoip: $root/config/geoip.yaml
admin_state: admin_state     # local emergency override; wins over etcd
control: control.sock
metrics: 127.0.0.1:930$i
etcd:
  endpoints: ["$etcd_url"]
YAML
	"$bin/authdns" --config "$d/authdns.yaml" 2>"$d/log" &
	pids+=($!)
done

: >"$dir/traffic-admin_state"
"$bin/trafficctl" serve --routing "$root/config/routing.yaml" --admin-state "$dir/traffic-admin_state" \
	--etcd "$etcd_url" --listen 127.0.0.1:9105 2>"$dir/trafficctl.log" &
pids+=($!)

sed "s|127.0.0.1:2379|127.0.0.1:23790|" "$root/config/pybal/pybal-etcd.conf" >"$dir/pybal.conf"
# lvsd resolves pool host names; the default pools' names (*.wmnet) resolve
# nowhere, so as root lvsd runs in a mount namespace whose /etc/hosts maps
# them to 127.0.1.N (the machine's /etc/hosts is not touched). Otherwise
# its servers stay "partial/not pooled".
lvsd=("$bin/lvsd" --config "$dir/pybal.conf" --dry-run --no-bgp)
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	{ echo "127.0.0.1 localhost"; grep -oE '[a-z0-9]+\.[a-z0-9]+\.wmnet' "$root/config/conftool/pools.yaml" |
		sort -u | awk '{ print "127.0.1." NR, $1 }'; } >"$dir/hosts"
	lvsd=(unshare --mount --propagation private sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh "$dir/hosts" "${lvsd[@]}")
fi
"${lvsd[@]}" >"$dir/lvsd.log" 2>&1 &
pids+=($!)

cat <<TXT
fleet running (logs in $dir). In another terminal:
  export CONFCTL_ETCD=$etcd_url CONFCTL_ROUTING=config/routing.yaml
  dig @127.0.0.1 -p 5301 www.example.org A +subnet=192.0.2.0/24 +short    # esams
  bin/confctl --object-type site select name=esams set/state=down
  dig @127.0.0.1 -p 5302 www.example.org A +subnet=192.0.2.0/24 +short    # drmrs, on both servers
  curl -s 127.0.0.1:9105/routes/text/drmrs                                 # esams avoided
  bin/confctl --object-type route select cluster=text,site=codfw set/route=ulsfo   # a loop: refused
  bin/confctl --yes select dc=eqiad,cluster=appserver,service=apache2 set/pooled=yes:weight=10
  curl -s 127.0.0.1:9091/pools/apache2_80                                  # lvsd; then depool one:
  bin/confctl select 'dc=eqiad,cluster=appserver,service=apache2,name=mw1001.*' set/pooled=no
  bin/confctl log
Ctrl-C stops everything.
TXT
wait -n "${pids[@]}" || true
echo "run-fleet: a process exited; see $dir/*.log" >&2
