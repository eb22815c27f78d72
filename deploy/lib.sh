# Shared by deploy/aio.sh and deploy/test.sh: checks for the .NET SDK and installs missing Debian packages.
# shellcheck shell=bash

# Exits with a message when the .NET 10 SDK is not on PATH.
require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "storagecloud: the .NET 10 SDK is needed (dotnet was not found on PATH)." >&2
    exit 1
  fi
  local major
  major=$(dotnet --version 2>/dev/null | cut -d. -f1)
  if [ "${major:-0}" -lt 10 ]; then
    echo "storagecloud: the .NET 10 SDK is needed (found $(dotnet --version 2>/dev/null))." >&2
    exit 1
  fi
}

# ensure_packages PKG...: installs the Debian packages that are missing. As root it runs apt-get;
# otherwise it prints the exact command to run and exits 1, changing nothing.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "storagecloud: missing Debian packages: ${missing[*]}" >&2
    echo "Install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing ${missing[*]} ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || true
  # Packages' own daemons (postgresql, prometheus) are not started: what needs one starts its own on loopback.
  local policy=/usr/sbin/policy-rc.d placed=""
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && placed=1; fi
  local rc=0
  apt-get install -y -qq "${missing[@]}" >&2 || rc=$?
  [ -n "$placed" ] && rm -f "$policy"
  return $rc
}

# The native libraries the appliance loads at run time.
# qemu-utils: the volume service converts qcow2, vmdk, vhd, vhdx and vdi images to raw with qemu-img (always told -f).
NATIVE_PACKAGES=(librocksdb7.8 liblz4-1 qemu-utils)

# build_host: checks the SDK and native libraries, then builds the storagecloud executable (Release); prints where it is.
build_host() {
  require_dotnet
  ensure_packages "${NATIVE_PACKAGES[@]}"
  echo "Building StorageCloud (Release) ..." >&2
  dotnet build "$root/src/StorageCloud.Host/StorageCloud.Host.csproj" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
  STORAGECLOUD_DLL="$root/src/StorageCloud.Host/bin/Release/net10.0/storagecloud.dll"
}
