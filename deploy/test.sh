#!/usr/bin/env bash
# Installs what the tests need and runs the whole test suite. Exit code 0 only if every test passes.
#   deploy/test.sh [extra dotnet test arguments]   e.g. deploy/test.sh --filter 'FullyQualifiedName~Ring'
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$root/deploy/lib.sh"
cd "$root"

require_dotnet
# Native libraries, plus the real clients and reference tools the tests drive.
# swift + python3-swift: the ring tests compare placement with OpenStack Swift's own builder and Ring class.
# python3-swiftclient (the `swift` CLI), python3-openstackclient (`openstack`), python3-cinderclient (`cinder`, for
# quotas while no compute service runs), awscli (`aws`), python3-boto3,
# s3cmd, rclone and curl: the
# compatibility tests drive the appliance with them. postgresql: the identity store's suite also runs on PostgreSQL
# (the tests start their own server on loopback). qemu-utils (qemu-img, qemu-io), libnbd-bin (nbdinfo, nbdcopy)
# and fio: the block service's NBD exports are driven by them. qemu-system-x86: the compute service's qemu driver
# boots real guests on instance disks. prometheus: its promtool checks every role's /metrics. chromium and nodejs:
# the dashboard's browser tests (Playwright's driver runs on Debian's node).
TEST_PACKAGES=("${NATIVE_PACKAGES[@]}" swift python3-swift python3-swiftclient python3-openstackclient python3-cinderclient awscli python3-boto3 s3cmd rclone curl postgresql
  qemu-utils qemu-system-x86 libnbd-bin fio prometheus chromium nodejs)
ensure_packages "${TEST_PACKAGES[@]}"

results="$root/TestResults"
rm -rf "$results"
echo "Building (Release) ..."
dotnet build StorageCloud.sln -c Release --nologo -v quiet -clp:ErrorsOnly

echo "Testing ..."
status=0
dotnet test StorageCloud.sln -c Release --no-build --nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 10m "$@" || status=$?

# One closing line over every test project: "N passed, N failed".
passed=0 failed=0 skipped=0 files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ "$files" -eq 0 ] || [ "$passed" -eq 0 ]; then
  echo "No test results were produced." >&2
  status=1
fi
[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
