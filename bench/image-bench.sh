#!/usr/bin/env bash
# Image service figures against a running appliance: upload and download MB/s of a 1 GiB image through the Glance
# API, and the time to make each of 10 volumes from one image (copy-on-write clones of one converted copy).
#   bench/image-bench.sh DATA_DIR [SIZE_MIB]
set -euo pipefail
data=$(cd "${1:?usage: image-bench.sh DATA_DIR [SIZE_MIB]}" && pwd)
size_mib=${2:-1024}
# shellcheck disable=SC1091
. "$data/openrc"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
token=$(openstack token issue -f value -c id)
project=$(openstack token issue -f value -c project_id)
endpoint() { openstack catalog show "$1" -f json | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"][0]["url"])'; }
glance=$(endpoint image)
cinder=$(endpoint volumev3 | sed "s/%(project_id)s/$project/")
head -c "$((size_mib << 20))" /dev/urandom > "$work/image.raw"
id=$(curl -sf -X POST "$glance/v2/images" -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
  -d '{"name": "bench-image", "disk_format": "raw", "container_format": "bare"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
upload=$(curl -sf -o /dev/null -w '%{time_total}' -X PUT "$glance/v2/images/$id/file" -H "X-Auth-Token: $token" \
  -H 'Content-Type: application/octet-stream' -T "$work/image.raw")
download=$(curl -sf -o /dev/null -w '%{time_total}' "$glance/v2/images/$id/file" -H "X-Auth-Token: $token")
echo "image of $size_mib MiB: upload ${upload}s ($(python3 -c "print(round($size_mib/$upload,1))") MiB/s), download ${download}s ($(python3 -c "print(round($size_mib/$download,1))") MiB/s)"
gib=$(( (size_mib + 1023) / 1024 ))
volumes=()
for i in $(seq 1 10); do
  start=$(date +%s.%N)
  volume=$(curl -sf -X POST "$cinder/volumes" -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
    -d "{\"volume\": {\"size\": $gib, \"imageRef\": \"$id\", \"name\": \"bench-$i\"}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["volume"]["id"])')
  end=$(date +%s.%N)
  volumes+=("$volume")
  echo "volume $i from the image: $(python3 -c "print(round($end-$start,3))")s"
done
for volume in "${volumes[@]}"; do curl -sf -X DELETE "$cinder/volumes/$volume" -H "X-Auth-Token: $token" >/dev/null; done
curl -sf -X DELETE "$glance/v2/images/$id" -H "X-Auth-Token: $token" >/dev/null
