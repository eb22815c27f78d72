#!/usr/bin/env bash
# Builds and runs the all-in-one StorageCloud appliance in the foreground.
#   deploy/aio.sh [storagecloud aio options]      e.g. deploy/aio.sh --port 8080 --data-dir /srv/storagecloud
# Data goes to ./data unless --data-dir (or STORAGECLOUD_DATA_DIR) says otherwise; running it again reuses it.
# Ctrl-C stops it cleanly.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$root/deploy/lib.sh"

build_host

args=("$@")
case " $* " in
  *" --data-dir "*|*" --data-dir="*|*" --config "*) ;;
  *) args+=(--data-dir "${STORAGECLOUD_DATA_DIR:-$PWD/data}") ;;
esac
# exec, so Ctrl-C and SIGTERM reach the appliance itself and it shuts down cleanly.
exec dotnet "$STORAGECLOUD_DLL" aio "${args[@]}"
