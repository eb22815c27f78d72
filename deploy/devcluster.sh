#!/usr/bin/env bash
# A development cluster on this machine, as Swift's SAIO: 1 proxy and 4 storage-node processes (2 devices each),
# each on its own loopback address (proxy 127.0.1.1:8080, node N 127.0.1.(10+N):6200-6202), sharing rings with
# 3 replicas over 4 zones. With no arguments it makes the cluster (in ./devcluster unless --dir says otherwise)
# when it is not there yet, starts every node and prints where each one's log is.
#   deploy/devcluster.sh                          init (first time) + start + status
#   deploy/devcluster.sh stop node2               stop a node (SIGTERM); also: start, kill (SIGKILL), status
#   deploy/devcluster.sh replicate                one object, container and account replication pass on every node
#   deploy/devcluster.sh once object-auditor node1
#   deploy/devcluster.sh add-node --start         a fifth node in a new zone, rings rebalanced
#   deploy/devcluster.sh recon                    storagecloud recon over the cluster's rings
# Every storagecloud devcluster verb and option works here (storagecloud devcluster --help).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$root/deploy/lib.sh"

build_host
sc=(dotnet "$STORAGECLOUD_DLL")

dir="$PWD/devcluster"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

if [ ${#args[@]} -eq 0 ]; then
  [ -f "$dir/devcluster.json" ] || "${sc[@]}" devcluster --dir "$dir" init
  "${sc[@]}" devcluster --dir "$dir" start
  exec "${sc[@]}" devcluster --dir "$dir" status
fi
if [ "${args[0]}" = recon ]; then
  exec "${sc[@]}" recon --ring-dir "$dir/rings" "${args[@]:1}"
fi
exec "${sc[@]}" devcluster --dir "$dir" "${args[@]}"
