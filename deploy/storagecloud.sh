#!/usr/bin/env bash
# Runs the storagecloud executable (building it first when it is not built yet) with the given arguments, e.g.
#   . data/openrc && deploy/storagecloud.sh volume create --size 1GiB --name disk1
#   deploy/storagecloud.sh recon --ring-dir devcluster/rings
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$root/deploy/lib.sh"

STORAGECLOUD_DLL="$root/src/StorageCloud.Host/bin/Release/net10.0/storagecloud.dll"
[ -f "$STORAGECLOUD_DLL" ] || build_host
exec dotnet "$STORAGECLOUD_DLL" "$@"
