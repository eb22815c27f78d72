#!/usr/bin/env bash
# Side-by-side load runs: StorageCloud's all-in-one appliance against OpenStack Swift 2.30 (Debian's packages) on
# this machine, same client (storagecloud-loadgen), same concurrency and duration, 3 replicas and fsync on both.
# Each workload runs A B A B A B (StorageCloud, Swift) and the table shows the median of the 3 runs and the ratio.
#   bench/compare-swift.sh [--duration 10s] [--runs 3] [--out bench/results/compare-<date>.md] [--only put-4k,...] [--warmup 5s]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$root/deploy/lib.sh"

duration=10s runs=3 only="" warmup=5s out="$root/bench/results/compare-$(date -u +%Y%m%d-%H%M).md"
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    *) echo "usage: $0 [--duration 10s] [--runs 3] [--out file.md] [--only workload,...] [--warmup 5s]" >&2; exit 2 ;;
  esac
done

require_dotnet
ensure_packages "${NATIVE_PACKAGES[@]}" swift swift-proxy swift-object swift-container swift-account memcached python3

work=$(mktemp -d /tmp/sc-compare.XXXXXX)
pids=()
cleanup() {
  status=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # On failure the servers' logs stay for a look.
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "compare-swift: logs kept in $work" >&2; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() {
  for _ in $(seq 1 120); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done
  echo "compare-swift: $1 did not come up (logs in $work)" >&2; exit 1
}

echo "Building StorageCloud and the load generator (Release) ..."
dotnet build "$root/src/StorageCloud.Host" -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build "$root/bench/StorageCloud.LoadGen" -c Release --nologo -v quiet -clp:ErrorsOnly
loadgen=(dotnet "$root/bench/StorageCloud.LoadGen/bin/Release/net10.0/storagecloud-loadgen.dll")

# --- OpenStack Swift: one proxy (tempauth, memcache) and object/container/account servers over 4 devices,
#     a SAIO-style all-in-one; rings with 3 replicas in 4 zones. Swift's object server fsyncs every PUT.
swift_port=$(free_port) memcache_port=$(free_port)
etc=$work/swift srv=$work/swift-srv
mkdir -p "$etc" "$srv"/d{1,2,3,4} "$work/swift-cache"
cat > "$etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_prefix = compare
swift_hash_path_suffix = compare
[storage-policy:0]
name = Policy-0
default = yes
EOF
declare -A ports=([object]=$(free_port) [container]=$(free_port) [account]=$(free_port))
for t in object container account; do
  swift-ring-builder "$etc/$t.builder" create 10 3 1 > /dev/null
  for d in 1 2 3 4; do swift-ring-builder "$etc/$t.builder" add "r1z$d-127.0.0.1:${ports[$t]}/d$d" 100 > /dev/null; done
  swift-ring-builder "$etc/$t.builder" rebalance > /dev/null 2>&1 || true
  cat > "$etc/$t-server.conf" <<EOF
[DEFAULT]
devices = $srv
mount_check = false
disable_fallocate = true
bind_ip = 127.0.0.1
bind_port = ${ports[$t]}
workers = $([ "$t" = object ] && echo 2 || echo 1)
swift_dir = $etc
user = $(id -un)
log_level = WARNING
recon_cache_path = $work/swift-cache
[pipeline:main]
pipeline = $t-server
[app:$t-server]
use = egg:swift#$t
EOF
done
cat > "$etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $swift_port
workers = 2
swift_dir = $etc
user = $(id -un)
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck cache listing_formats tempauth copy slo dlo proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcache_port
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOF
memcached -u "$(id -un)" -l 127.0.0.1 -p "$memcache_port" -m 64 > "$work/memcached.log" 2>&1 & pids+=($!)
for t in object container account; do
  "swift-$t-server" "$etc/$t-server.conf" > "$work/swift-$t.log" 2>&1 & pids+=($!)
done
swift-proxy-server "$etc/proxy-server.conf" > "$work/swift-proxy.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$swift_port/healthcheck"

# --- StorageCloud: the all-in-one appliance, 4 devices, 3 replicas (every write fsynced before it is acknowledged).
sc_port=$(free_port)
dotnet "$root/src/StorageCloud.Host/bin/Release/net10.0/storagecloud.dll" aio --port "$sc_port" --object-port "$(free_port)" \
  --container-port "$(free_port)" --account-port "$(free_port)" --identity-port "$(free_port)" --data-dir "$work/sc-data" \
  --log-level warning > "$work/storagecloud.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$sc_port/healthcheck"

auth() { echo "--auth-url http://127.0.0.1:$1/auth/v1.0 --user test:tester --key testing"; }
declare -A target=([sc]=$sc_port [swift]=$swift_port)

# name | loadgen arguments | the figure the target is about
workloads=(
  "put-4k|--op put --size 4KiB --prefill 0|ops"
  "get-4k|--op get --size 4KiB --prefill 1000|ops"
  "head|--op head --size 4KiB --prefill 1000|ops"
  "put-1m|--op put --size 1MiB --prefill 0|mib"
  "get-1m|--op get --size 1MiB --prefill 100|mib"
  "list-1000-of-10000|--op list --list-limit 1000 --prefill 0 --container list10k|ops"
  "mixed-70-20-10|--op mixed --mix get=70,put=20,delete=10 --size 64KiB --prefill 500|ops"
)

if [ -z "$only" ] || [[ ",$only," == *",list-1000-of-10000,"* ]]; then
echo "Filling a 10,000-object container on each side for the listing workload ..."
for side in sc swift; do
  # shellcheck disable=SC2046
  "${loadgen[@]}" $(auth "${target[$side]}") --op put --size 1KiB --count 10000 --prefill 0 --container list10k \
    --concurrency 32 --json "$work/fill-$side.json" > /dev/null
done
fi

mkdir -p "$work/runs"
for w in "${workloads[@]}"; do
  IFS='|' read -r name args figure <<< "$w"
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  # An unrecorded warm-up on each side first: JIT tiering on ours, caches and connections on both.
  if [ "$warmup" != 0 ] && [ "$warmup" != 0s ]; then
    for side in sc swift; do
      # shellcheck disable=SC2046,SC2086
      "${loadgen[@]}" $(auth "${target[$side]}") $args --concurrency 16 --duration "$warmup" > /dev/null 2>&1 || true
    done
  fi
  for i in $(seq 1 "$runs"); do
    for side in sc swift; do
      echo "  $name run $i: $side"
      # shellcheck disable=SC2046,SC2086
      "${loadgen[@]}" $(auth "${target[$side]}") $args --concurrency 16 --duration "$duration" \
        --json "$work/runs/$name-$side-$i.json" > "$work/runs/$name-$side-$i.txt"
    done
  done
done

mkdir -p "$(dirname "$out")"
python3 - "$work/runs" "$out" "$duration" "$runs" <<'PY'
import glob, json, os, statistics, sys, platform, subprocess
runs_dir, out, duration, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
targets = {"put-4k": (10, "ops"), "get-4k": (5, "ops"), "head": (5, "ops"), "put-1m": (3, "mib"),
           "get-1m": (3, "mib"), "list-1000-of-10000": (5, "ops"), "mixed-70-20-10": (5, "ops")}
def load(name, side):
    files = sorted(glob.glob(os.path.join(runs_dir, f"{name}-{side}-*.json")))
    results = [json.load(open(f)) for f in files]
    ops, mib, p99 = [], [], []
    for r in results:
        ops.append(sum(o["OpsPerSecond"] for o in r["Ops"]))
        mib.append(sum(o["MiBPerSecond"] for o in r["Ops"]))
        p99.append(max(o["P99Ms"] for o in r["Ops"]))
    return statistics.median(ops), statistics.median(mib), statistics.median(p99)
cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
mem = open("/proc/meminfo").readline().split()[1]
lines = [f"Median of {runs} alternating runs (StorageCloud, Swift, ...), {duration} each, 16 connections; "
         f"machine: {cpu} cores, {int(mem)//1024//1024} GiB, {platform.platform()}.", "",
         "| workload | StorageCloud ops/s | Swift ops/s | StorageCloud MiB/s | Swift MiB/s | p99 ms (SC / Swift) | ratio SC/Swift | target | met |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
for name in targets:
    if not glob.glob(os.path.join(runs_dir, f"{name}-sc-*.json")): continue
    so, sm, sp = load(name, "sc"); wo, wm, wp = load(name, "swift")
    goal, figure = targets[name]
    ratio = (sm / wm) if figure == "mib" else (so / wo)
    met = ratio >= goal
    if name == "get-4k": met = met and sp <= wp / 5
    lines.append(f"| {name} | {so:,.0f} | {wo:,.0f} | {sm:,.1f} | {wm:,.1f} | {sp:.1f} / {wp:.1f} | {ratio:.2f}x | >= {goal}x | {'yes' if met else 'no'} |")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "Table written to $out (raw runs were in $work)."
