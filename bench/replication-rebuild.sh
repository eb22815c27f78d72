#!/usr/bin/env bash
# How fast replication rebuilds lost data, as objects/s and MiB/s.
#   --cluster devcluster (default): a development cluster (1 proxy, 4 storage nodes of 2 devices) is filled with N
#     objects (default 10,000 of 64 KiB); node1 is stopped, both its disks are wiped, it is started again, and one
#     object replication pass runs on every node at once; the figures are the objects pushed and the pass's time.
#   --cluster aio: the all-in-one appliance is filled, stopped, device d1 is wiped, and the appliance is started
#     again with a 1-second replication interval; the first pass's figures come from recon.
#   bench/replication-rebuild.sh [--cluster devcluster|aio] [--objects 10000] [--size 64KiB] [--concurrency 4]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$root/deploy/lib.sh"
objects=10000 size=64KiB cluster=devcluster concurrency=4
while [ $# -gt 0 ]; do
  case $1 in
    --objects) objects=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --cluster) cluster=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    *) echo "usage: $0 [--cluster devcluster|aio] [--objects N] [--size 64KiB] [--concurrency N]" >&2; exit 2 ;;
  esac
done
require_dotnet
ensure_packages "${NATIVE_PACKAGES[@]}" python3 curl
work=$(mktemp -d /tmp/sc-rebuild.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
dotnet build "$root/src/StorageCloud.Host" -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build "$root/bench/StorageCloud.LoadGen" -c Release --nologo -v quiet -clp:ErrorsOnly
sc=(dotnet "$root/src/StorageCloud.Host/bin/Release/net10.0/storagecloud.dll")
loadgen=(dotnet "$root/bench/StorageCloud.LoadGen/bin/Release/net10.0/storagecloud-loadgen.dll")
export STORAGECLOUD__Replicator__Concurrency=$concurrency

if [ "$cluster" = devcluster ]; then
  dc=(devcluster --dir "$work/cluster")
  trap '"${sc[@]}" "${dc[@]}" kill > /dev/null 2>&1; rm -rf "$work"' EXIT
  "${sc[@]}" "${dc[@]}" init --ip-prefix "127.0.$((RANDOM % 100 + 100))" --set Replicator:IntervalSeconds=0 \
    --set "Replicator:Concurrency=$concurrency" --set Logging:Level=warning > /dev/null
  "${sc[@]}" "${dc[@]}" start > /dev/null
  proxy=$(python3 -c 'import json,sys; n=[n for n in json.load(open(sys.argv[1]))["Nodes"] if n["IsProxy"]][0]; print(n["Ip"])' "$work/cluster/devcluster.json")
  echo "Writing $objects objects of $size ..."
  "${loadgen[@]}" --auth-url "http://$proxy:8080/auth/v1.0" --user test:tester --key testing --op put --size "$size" \
    --count "$objects" --prefill 0 --concurrency 32 --container rebuild > /dev/null
  "${sc[@]}" "${dc[@]}" stop node1 > /dev/null
  for d in "$work/cluster/node1/data"/d*; do find "$d" -mindepth 1 -maxdepth 1 ! -name .storagecloud-device -exec rm -rf {} +; done
  "${sc[@]}" "${dc[@]}" start node1 > /dev/null
  echo "node1's disks wiped; one object replication pass on every node (concurrency $concurrency) ..."
  started=$(date +%s.%N)
  out=$("${sc[@]}" "${dc[@]}" once object-replicator)
  ended=$(date +%s.%N)
  echo "$out"
  python3 - "$out" "$size" "$started" "$ended" "$(du -sm "$work/cluster/node1/data" | cut -f1)" <<'PY'
import json, sys
out, size, started, ended, held = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
units = {"KiB": 1024, "MiB": 1024 * 1024}
bytes_each = next(int(size[:-3]) * m for u, m in units.items() if size.endswith(u))
stats = [json.loads(line.split(None, 2)[2]) for line in out.splitlines() if line.strip()]
pushed = sum(s["pushed"] for s in stats); failures = sum(s["failures"] for s in stats)
seconds = ended - started
print(f"pass: {sum(s['partitions'] for s in stats)} partitions, {pushed} objects pushed, {failures} failures in {seconds:.1f} s")
print(f"rebuild rate: {pushed / seconds:,.0f} objects/s, {pushed * bytes_each / seconds / 1048576:,.1f} MiB/s; node1 now holds {held} MiB")
PY
  exit 0
fi
port=$(free_port) object_port=$(free_port)
args=(aio --port "$port" --object-port "$object_port" --container-port "$(free_port)" --account-port "$(free_port)"
      --identity-port "$(free_port)" --data-dir "$work/data" --log-level warning)
start() {
  "${sc[@]}" "${args[@]}" > "$work/aio.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do curl -s -o /dev/null "http://127.0.0.1:$port/healthcheck" && return 0; sleep 0.5; done
  echo "the appliance did not start" >&2; exit 1
}
STORAGECLOUD__Replicator__IntervalSeconds=0 start
echo "Writing $objects objects of $size ..."
"${loadgen[@]}" --auth-url "http://127.0.0.1:$port/auth/v1.0" \
  --user test:tester --key testing --op put --size "$size" --count "$objects" --prefill 0 --concurrency 32 --container rebuild > /dev/null
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
# Lose device d1: everything but its mount marker.
find "$work/data/d1" -mindepth 1 -maxdepth 1 ! -name .storagecloud-device -exec rm -rf {} +
before=$(du -sm "$work/data/d1" | cut -f1)
echo "d1 wiped (${before} MiB left); restarting with a 1-second replication interval ..."
export STORAGECLOUD__Replicator__IntervalSeconds=1
start
for _ in $(seq 1 1200); do
  report=$(curl -s "http://127.0.0.1:$object_port/recon/replication")
  if python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r["replication_stats"] and r["replication_stats"]["pushed"] > 0 else 1)' "$report"; then break; fi
  sleep 0.5
done
python3 - "$report" "$size" "$(du -sm "$work/data/d1" | cut -f1)" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); size = sys.argv[2]; after = sys.argv[3]
units = {"KiB": 1024, "MiB": 1024 * 1024}
bytes_each = next(int(size[:-3]) * m for u, m in units.items() if size.endswith(u))
pushed, seconds = r["replication_stats"]["pushed"], r["replication_time"]
print(f"first pass: {r['replication_stats']['attempted']} partitions, {pushed} objects pushed, {r['replication_stats']['failure']} failures in {seconds:.1f} s")
print(f"rebuild rate: {pushed / seconds:,.0f} objects/s, {pushed * bytes_each / seconds / 1048576:,.1f} MiB/s; d1 now holds {after} MiB")
PY
