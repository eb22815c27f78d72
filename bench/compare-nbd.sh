#!/usr/bin/env bash
# Block volumes over NBD, side by side: StorageCloud's all-in-one appliance (a volume of 4 MiB chunks, 3 replicas on
# 4 devices) against qemu-nbd and nbdkit's file plugin serving a raw file, all on the same disk, driven by the same
# fio nbd engine. Each export is filled (1 MiB sequential writes) and read through once (so every server starts with
# its data in the page cache, as a raw file just written is), then measured: 4 KiB random read and random write at
# queue depth 1 and 32, and 1 MiB sequential write. The disk's own sequential write speed (fio, O_DIRECT, on a
# file in the same directory) gives the three-replica limit the appliance's sequential write is held to.
#   bench/compare-nbd.sh [--runtime 20] [--size 1G] [--dir /var/tmp] [--out bench/results/nbd-<date>.md]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$root/deploy/lib.sh"

runtime=20 size=1G dir=/var/tmp out="$root/bench/results/nbd-$(date -u +%Y%m%d-%H%M).md"
while [ $# -gt 0 ]; do
  case $1 in
    --runtime) runtime=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--runtime 20] [--size 1G] [--dir /var/tmp] [--out file.md]" >&2; exit 2 ;;
  esac
done

require_dotnet
ensure_packages "${NATIVE_PACKAGES[@]}" qemu-utils nbdkit fio curl python3

work=$(mktemp -d "$dir/sc-nbd.XXXXXX")
pids=()
cleanup() {
  status=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "compare-nbd: logs kept in $work" >&2; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {
  for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.5; done
  echo "compare-nbd: port $1 did not open (logs in $work)" >&2; exit 1
}
bytes=$(numfmt --from=iec "${size%B}")

echo "Building StorageCloud (Release) ..."
dotnet build "$root/src/StorageCloud.Host" -c Release --nologo -v quiet -clp:ErrorsOnly
storagecloud=(dotnet "$root/src/StorageCloud.Host/bin/Release/net10.0/storagecloud.dll")

echo "Measuring the disk under $work ..."
fio --name=disk --filename="$work/disk-test" --rw=write --bs=1M --size=4G --direct=1 --ioengine=libaio --iodepth=8 \
  --output-format=json > "$work/disk.json"
rm -f "$work/disk-test"

# --- the appliance, with a volume
sc_port=$(free_port) nbd_port=$(free_port) volume_port=$(free_port) identity_port=$(free_port)
"${storagecloud[@]}" aio --port "$sc_port" --object-port "$(free_port)" --container-port "$(free_port)" \
  --account-port "$(free_port)" --identity-port "$identity_port" --volume-port "$volume_port" --nbd-port "$nbd_port" \
  --data-dir "$work/sc-data" --log-level warning > "$work/storagecloud.log" 2>&1 & pids+=($!)
wait_port "$volume_port"; wait_port "$identity_port"; wait_port "$nbd_port"
volume=$(OS_AUTH_URL="http://127.0.0.1:$identity_port/v3" OS_USERNAME=admin OS_PROJECT_NAME=admin \
  OS_PASSWORD=$(cat "$work/sc-data/identity/admin-password") \
  "${storagecloud[@]}" volume create --size "$bytes" --name bench --url "http://127.0.0.1:$volume_port" --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["volume"]["id"])')

# --- the reference servers, each on a raw file on the same disk (qemu-nbd with its default writeback cache)
qemu_port=$(free_port) nbdkit_port=$(free_port)
truncate -s "$bytes" "$work/qemu.raw" "$work/nbdkit.raw"
qemu-nbd -f raw -b 127.0.0.1 -p "$qemu_port" -x bench -e 16 -t "$work/qemu.raw" > "$work/qemu-nbd.log" 2>&1 & pids+=($!)
nbdkit -f -i 127.0.0.1 -p "$nbdkit_port" -e bench file "$work/nbdkit.raw" > "$work/nbdkit.log" 2>&1 & pids+=($!)
wait_port "$qemu_port"; wait_port "$nbdkit_port"

declare -A uri=([storagecloud]="nbd://127.0.0.1:$nbd_port/$volume" [qemu-nbd]="nbd://127.0.0.1:$qemu_port/bench"
  [nbdkit]="nbd://127.0.0.1:$nbdkit_port/bench")
servers=(storagecloud qemu-nbd nbdkit)
workloads=("randread-4k-qd1 randread 4k 1" "randread-4k-qd32 randread 4k 32" "randwrite-4k-qd1 randwrite 4k 1"
  "randwrite-4k-qd32 randwrite 4k 32" "write-1m-qd8 write 1M 8")

run_fio() { # server name rw bs depth [timed]
  local extra=()
  [ "${6:-}" = timed ] && extra=(--time_based --runtime="$runtime" --ramp_time=3)
  fio --name="$2" --ioengine=nbd --uri="${uri[$1]}" --rw="$3" --bs="$4" --iodepth="$5" --size="$bytes" \
    --randrepeat=0 "${extra[@]}" --output-format=json 2>/dev/null | sed -n '/^{/,$p' > "$work/$1-$2.json"
}
for s in "${servers[@]}"; do
  echo "Filling and reading through $s ..."
  run_fio "$s" fill write 1M 8
  run_fio "$s" warm read 1M 8
done
for w in "${workloads[@]}"; do
  read -r name rw bs depth <<< "$w"
  for s in "${servers[@]}"; do
    echo "$name on $s ..."
    run_fio "$s" "$name" "$rw" "$bs" "$depth" timed
  done
done

mkdir -p "$(dirname "$out")"
python3 - "$work" "$runtime" "$size" > "$out" <<'EOF'
import json, os, platform, sys
work, runtime, size = sys.argv[1:4]
def job(server, name):
    with open(os.path.join(work, f"{server}-{name}.json")) as f:
        j = json.load(f)["jobs"][0]
    side = j["read"] if j["read"]["io_bytes"] else j["write"]
    return side["iops"], side["bw"] / 1024, side["clat_ns"]["percentile"]["99.000000"] / 1e6
disk = json.load(open(os.path.join(work, "disk.json")))["jobs"][0]["write"]["bw"] / 1024
limit = disk / 3
targets = {"randread-4k-qd1": ("iops", 0.8), "randread-4k-qd32": ("iops", 0.8), "randwrite-4k-qd1": ("iops", 0.5),
           "randwrite-4k-qd32": ("iops", 0.5), "write-1m-qd8": ("limit", 0.9)}
print(f"fio nbd engine, {runtime} s per run (3 s ramp), {size} exports filled and read through first; machine: "
      f"{os.cpu_count()} cores, {platform.platform()}. Disk: {disk:,.0f} MiB/s sequential write (O_DIRECT, 1 MiB, "
      f"depth 8), so three replicas' limit is {limit:,.0f} MiB/s.\n")
print("| workload | StorageCloud | qemu-nbd | nbdkit file | p99 ms (SC / qemu-nbd / nbdkit) | StorageCloud vs qemu-nbd | target | met |")
print("|---|---:|---:|---:|---|---:|---:|---|")
for name, (kind, factor) in targets.items():
    sc, qemu, kit = (job(s, name) for s in ("storagecloud", "qemu-nbd", "nbdkit"))
    p99 = " / ".join(f"{r[2]:.2f}" for r in (sc, qemu, kit))
    if kind == "iops":
        cells = [f"{r[0]:,.0f} IOPS" for r in (sc, qemu, kit)]
        ratio, target, met = sc[0] / qemu[0], f">= {factor}x qemu-nbd", sc[0] >= factor * qemu[0]
        shown = f"{ratio:.2f}x"
    else:
        cells = [f"{r[1]:,.0f} MiB/s" for r in (sc, qemu, kit)]
        shown = f"{sc[1] / qemu[1]:.2f}x ({sc[1] / limit:.0%} of the limit)"
        target, met = f">= {factor:.0%} of {limit:,.0f} MiB/s", sc[1] >= factor * limit
    print(f"| {name} | {' | '.join(cells)} | {p99} | {shown} | {target} | {'yes' if met else 'no'} |")
EOF
cat "$out"
echo "Table written to $out"
