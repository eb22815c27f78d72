#!/usr/bin/env bash
# Runs OpenStack Swift's own functional tests (openstack/swift tag 2.30.1, test/functional) against a running
# StorageCloud proxy and prints pytest's counts. Usage: tests/conformance/swift-functional.sh [PROXY_URL [TEST ...]]
#   PROXY_URL  the proxy (default http://127.0.0.1:8080); its tempauth users are the functional-test users
#              (test:tester, test2:tester2, test:tester3 and the others, as docs/proxy.md lists)
#   TEST       test files or pytest node ids under test/functional (default: the suites issue 18 measures)
#   SWIFT_SRC  a checkout of openstack/swift at 2.30.1; without it the script clones it once (git and network to
#              opendev.org needed) into ~/.cache/storagecloud/swift-2.30.1
# Needs Debian's python3-swift (the tests import swift.common) and python3-pytest; run with /usr/bin/python3.
set -euo pipefail
proxy=${1:-http://127.0.0.1:8080}
shift || true
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(test/functional/tests.py test/functional/test_account.py test/functional/test_container.py test/functional/test_object.py
         test/functional/test_tempurl.py test/functional/test_slo.py test/functional/test_dlo.py test/functional/test_object_versioning.py
         test/functional/test_versioned_writes.py test/functional/test_symlink.py test/functional/test_staticweb.py)
fi
src=${SWIFT_SRC:-$HOME/.cache/storagecloud/swift-2.30.1}
if [ ! -d "$src/test/functional" ]; then
  mkdir -p "$(dirname "$src")"
  git clone --quiet --depth 1 --branch 2.30.1 https://opendev.org/openstack/swift "$src"
fi
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
cat > "$conf" <<CONF
[func_test]
auth_uri = $proxy/auth/v1.0
account = test
username = tester
password = testing
account2 = test2
username2 = tester2
password2 = testing2
username3 = tester3
password3 = testing3
collate = C
in_process = false
# domain_remap's storage domain (the appliance's Proxy:StorageDomains default, as Swift's)
storage_domain = example.com

[unit_test]
fake_syslog = False
CONF
cd "$src"
SWIFT_TEST_CONFIG_FILE="$conf" /usr/bin/python3 -m pytest -q -p no:cacheprovider -o addopts="" "${tests[@]}" 2>&1 | tail -n "${TAIL:-40}"
