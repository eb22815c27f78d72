#!/usr/bin/env bash
# Volume backup figures against a running appliance, side by side with restic (Debian's package) writing the same
# volume into the appliance's S3 API:
#   - full backup of a SIZE_GIB volume holding random data in its first half (MiB/s of the volume and of its data);
#   - incremental backup after 1% of the volume's 1 MiB blocks changed (time, bytes stored);
#   - restore into a new volume (MiB/s of the volume);
#   - deduplication of two volumes cloned from one image (bytes backed up / bytes stored).
#   bench/backup-bench.sh DATA_DIR [SIZE_GIB]
set -euo pipefail
data=$(cd "${1:?usage: backup-bench.sh DATA_DIR [SIZE_GIB]}" && pwd)
size_gib=${2:-2}
command -v restic >/dev/null || sudo apt-get install -y restic >/dev/null || apt-get install -y restic >/dev/null
# shellcheck disable=SC1091
. "$data/openrc"
export OS_VOLUME_API_VERSION=3.60
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
token=$(openstack token issue -f value -c id)
project=$(openstack token issue -f value -c project_id)
cinder=$(openstack catalog show volumev3 -f json | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"][0]["url"])' | sed "s/%(project_id)s/$project/")
swift_url=$(openstack catalog show object-store -f json | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"][0]["url"])' | sed "s/%(project_id)s/$project/")
proxy=${swift_url%%/v1/*}
nbd=${NBD:-nbd://127.0.0.1:10809}
now() { date +%s.%N; }
rate() { python3 -c "print(round($1 / ($3 - $2), 1))"; }
secs() { python3 -c "print(round($2 - $1, 2))"; }
progress() { curl -sf "$cinder/backups/$1/progress" -H "X-Auth-Token: $token" -H 'OpenStack-API-Version: volume 3.60'; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['progress']['$1'])"; }
wait_backup() {
  while :; do
    status=$(progress "$1" | field status)
    [ "$status" = available ] && return 0
    [ "$status" = error ] && { echo "backup $1 failed: $(progress "$1" | field fail_reason)" >&2; exit 1; }
    sleep 0.1
  done
}
wait_volume() { while [ "$(openstack volume show "$1" -f value -c status)" != available ]; do sleep 0.2; done; }

# Changes 1% of the volume's 1 MiB blocks, at random places, with random (incompressible) data.
change() {
  /usr/bin/python3 - "$nbd/$1" "$changes" "$volume_mib" <<'PY'
import nbd, os, random, sys
h = nbd.NBD(); h.connect_uri(sys.argv[1])
for _ in range(int(sys.argv[2])): h.pwrite(os.urandom(1 << 20), random.randrange(int(sys.argv[3])) << 20)
h.flush(); h.shutdown()
PY
}
# Backups are made with curl, so the figures are the service's and not the CLI's start-up.
backup() {
  curl -sf -X POST "$cinder/backups" -H "X-Auth-Token: $token" -H 'Content-Type: application/json' -H 'OpenStack-API-Version: volume 3.60' \
    -d "{\"backup\": {\"volume_id\": \"$1\", \"name\": \"$2\", \"incremental\": $3}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["backup"]["id"])'
}
volume=$(openstack volume create --size "$size_gib" bench-backup -f value -c id)
half_mib=$((size_gib * 512))
head -c "$((half_mib << 20))" /dev/urandom > "$work/half.raw"
qemu-img convert -n -f raw -O raw "$work/half.raw" "$nbd/$volume"
rm -f "$work/half.raw"
volume_mib=$((size_gib * 1024))
changes=$((volume_mib / 100))

start=$(now); full=$(backup "$volume" bench-full false); wait_backup "$full"; end=$(now)
full_secs=$(secs "$start" "$end"); full_stored=$(progress "$full" | field stored_bytes)
echo "full backup of $volume_mib MiB ($half_mib MiB data): ${full_secs}s, $(rate $volume_mib "$start" "$end") MiB/s of volume, $(rate $half_mib "$start" "$end") MiB/s of data, $full_stored bytes stored"

change "$volume"
start=$(now); inc=$(backup "$volume" bench-inc true); wait_backup "$inc"; end=$(now)
inc_secs=$(secs "$start" "$end"); inc_stored=$(progress "$inc" | field stored_bytes)
echo "incremental after $changes changed MiB: ${inc_secs}s ($(python3 -c "print(round(100*$inc_secs/$full_secs,1))")% of the full), $inc_stored bytes stored ($(python3 -c "print(round(100*$inc_stored/($volume_mib<<20),2))")% of the volume)"

start=$(now); restored=$(curl -sf -X POST "$cinder/backups/$inc/restore" -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
  -d '{"restore": {"name": "bench-restored"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["restore"]["volume_id"])')
wait_volume "$restored"; end=$(now)
echo "restore of the incremental into a new volume: $(secs "$start" "$end")s, $(rate $volume_mib "$start" "$end") MiB/s of volume"
qemu-img compare -q -f raw -F raw "$nbd/$volume" "$nbd/$restored" && echo "restored volume equals the source (qemu-img compare)"

# Deduplication: two volumes cloned from one image, each changed a little, backed up in full.
head -c "$((512 << 20))" /dev/urandom > "$work/image.raw"
image=$(openstack image create --file "$work/image.raw" --disk-format raw --container-format bare bench-dedup -f value -c id)
rm -f "$work/image.raw"
stored=0; listed=0
for i in 1 2; do
  clone=$(openstack volume create --size 1 --image "$image" "bench-clone-$i" -f value -c id)
  wait_volume "$clone"
  qemu-io -f raw -c "write -P $i $((600 + i))M 1M" "$nbd/$clone" >/dev/null
  backup=$(backup "$clone" "bench-clone-$i" false); wait_backup "$backup"
  stored=$((stored + $(progress "$backup" | field stored_bytes)))
  blocks=$(curl -sf "$swift_url/volumebackups/manifests/$backup" -H "X-Auth-Token: $token" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["blocks"]))')
  listed=$((listed + (blocks << 20)))
done
echo "two clones of a 512 MiB image: $listed bytes backed up, $stored stored: dedup ratio $(python3 -c "print(round($listed/$stored,2))")"

# restic, into the appliance's S3 API, reading the same volume through NBD.
read -r access secret < <(openstack ec2 credentials create -f json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["access"], d["secret"])')
export AWS_ACCESS_KEY_ID=$access AWS_SECRET_ACCESS_KEY=$secret RESTIC_PASSWORD=bench RESTIC_REPOSITORY="s3:$proxy/restic-bench-$$"
restic init >/dev/null
start=$(now); nbdcopy "$nbd/$volume" - | restic backup -q --stdin --stdin-filename volume.raw; end=$(now)
echo "restic full backup: $(secs "$start" "$end")s, $(rate $volume_mib "$start" "$end") MiB/s of volume, $(swift stat "restic-bench-$$" | awk '/Bytes:/ {print $2}') bytes stored"
before=$(swift stat "restic-bench-$$" | awk '/Bytes:/ {print $2}')
# Another 1% change, backed up by both.
change "$volume"
start=$(now); nbdcopy "$nbd/$volume" - | restic backup -q --stdin --stdin-filename volume.raw; end=$(now)
echo "restic incremental after another 1% change: $(secs "$start" "$end")s, $(( $(swift stat "restic-bench-$$" | awk '/Bytes:/ {print $2}') - before )) bytes stored"
start=$(now); inc2=$(backup "$volume" bench-inc2 true); wait_backup "$inc2"; end=$(now)
echo "storagecloud incremental after that same change: $(secs "$start" "$end")s, $(progress "$inc2" | field stored_bytes) bytes stored"
start=$(now); restic restore -q latest --target "$work/restic"; end=$(now)
echo "restic restore to a file: $(secs "$start" "$end")s, $(rate $volume_mib "$start" "$end") MiB/s of volume"
