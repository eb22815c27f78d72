#!/usr/bin/env bash
# How fast replication rebuilds a lost device: the all-in-one appliance is filled with N objects (default 10,000
# of 64 KiB), stopped, one device is wiped, and the appliance is started again with a 1-second replication
# interval; the first pass's figures come from recon (objects pushed, seconds), as objects/s and MiB/s.
#   bench/replication-rebuild.sh [--objects 10000] [--size 64KiB]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$root/deploy/lib.sh"
objects=10000 size=64KiB
while [ $# -gt 0 ]; do
  case $1 in
    --objects) objects=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    *) echo "usage: $0 [--objects N] [--size 64KiB]" >&2; exit 2 ;;
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
port=$(free_port) object_port=$(free_port)
args=(aio --port "$port" --object-port "$object_port" --container-port "$(free_port)" --account-port "$(free_port)"
      --identity-port "$(free_port)" --data-dir "$work/data" --log-level warning)
start() {
  dotnet "$root/src/StorageCloud.Host/bin/Release/net10.0/storagecloud.dll" "${args[@]}" > "$work/aio.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do curl -s -o /dev/null "http://127.0.0.1:$port/healthcheck" && return 0; sleep 0.5; done
  echo "the appliance did not start" >&2; exit 1
}
STORAGECLOUD__Replicator__IntervalSeconds=0 start
echo "Writing $objects objects of $size ..."
dotnet "$root/bench/StorageCloud.LoadGen/bin/Release/net10.0/storagecloud-loadgen.dll" --auth-url "http://127.0.0.1:$port/auth/v1.0" \
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
