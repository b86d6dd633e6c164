#!/usr/bin/env bash
# Fetch the pinned Debian sid kernel (sched_ext enabled) and the VM tools for bpf/vm.ts.
#
#   ${TEMPER_CACHE:-$HOME/.cache/temper}/kernel/<KERNEL_ABI>/{vmlinuz,config,STAMP}
#
# The sid packages are downloaded through a *private* apt configuration under the cache
# (never touches /etc/apt), then unpacked with dpkg-deb -x. qemu-system-x86 and
# busybox-static come from the system's bookworm sources; when apt-get install fails they
# are downloaded and unpacked under the cache instead (bpf/vm.ts looks there too).
# Idempotent: skips whatever is already present with a matching stamp.
# Set KERNEL_WITH_MODULES=1 to also unpack linux-modules-<ABI> (not needed by the harness).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=VERSIONS
. "$here/VERSIONS"

cache="${TEMPER_CACHE:-$HOME/.cache/temper}"
abi="$KERNEL_ABI"
debver="$KERNEL_DEB_VERSION"
dest="$cache/kernel/$abi"
stamp_want="linux-binary-$abi=$debver modules=${KERNEL_WITH_MODULES:-0}"
log() { echo "install-kernel: $*" >&2; }

# --- qemu + busybox (bookworm) -----------------------------------------------------------
ensure_tools() {
  local need=()
  command -v qemu-system-x86_64 >/dev/null || [[ -x "$cache/vmtools/root/usr/bin/qemu-system-x86_64" ]] || need+=(qemu-system-x86)
  [[ -x /bin/busybox || -x "$cache/vmtools/root/bin/busybox" ]] || need+=(busybox-static)
  ((${#need[@]})) || return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  if apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; then return 0; fi
  log "apt-get install ${need[*]} failed; unpacking the debs under $cache/vmtools instead"
  local dl="$cache/vmtools/debs" root="$cache/vmtools/root" p
  mkdir -p "$dl" "$root"
  # the packages and their (recursive, hard) dependencies that are not installed yet
  for p in $(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
               --no-replaces --no-enhances "${need[@]}" | grep -E '^[a-z0-9]' | sort -u); do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
    (cd "$dl" && apt-get download "$p" >&2) || log "could not download $p (virtual?)"
  done
  for p in "$dl"/*.deb; do dpkg-deb -x "$p" "$root"; done
}
ensure_tools

if [[ -f "$dest/vmlinuz" && -f "$dest/STAMP" && "$(cat "$dest/STAMP")" == "$stamp_want" ]]; then
  log "cached: $dest/vmlinuz"
  echo "$dest/vmlinuz"
  exit 0
fi

# --- private apt config for sid ------------------------------------------------------------
apt_root="$cache/apt-sid"
mkdir -p "$apt_root/etc" "$apt_root/state/lists/partial" "$apt_root/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main" \
  > "$apt_root/etc/sources.list"
: > "$apt_root/state/status"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_root/etc/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o Dir::Etc::PreferencesParts=/dev/null
  -o "Dir::State=$apt_root/state"
  -o "Dir::State::status=$apt_root/state/status"
  -o "Dir::Cache=$apt_root/cache"
  -o APT::Architecture=amd64
  -o APT::Sandbox::User=root
)
start=$(date +%s)
apt-get "${apt_opts[@]}" -qq update >&2
pkgs=("linux-binary-$abi=$debver" "linux-base-$abi=$debver")
[[ "${KERNEL_WITH_MODULES:-0}" == 1 ]] && pkgs+=("linux-modules-$abi=$debver")
tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp/debs" "$tmp/root"
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp/debs" && apt-get "${apt_opts[@]}" download "${pkgs[@]}" >&2); then
  log "download failed; versions sid has now:"
  apt-cache "${apt_opts[@]}" policy "linux-binary-$abi" >&2 || true
  apt-cache "${apt_opts[@]}" search '^linux-binary-.*-cloud-amd64$' >&2 || true
  log "update KERNEL_ABI / KERNEL_DEB_VERSION in bpf/VERSIONS"
  exit 1
fi
for d in "$tmp"/debs/*.deb; do dpkg-deb -x "$d" "$tmp/root"; done

# 7.2 packaging: usr/lib/modules/<abi>/{vmlinuz,config}; older: boot/{vmlinuz,config}-<abi>
pick() { local f; for f in "$@"; do [[ -f "$f" ]] && { echo "$f"; return; }; done; }
vmlinuz=$(pick "$tmp/root/usr/lib/modules/$abi/vmlinuz" "$tmp/root/boot/vmlinuz-$abi")
config=$(pick "$tmp/root/usr/lib/modules/$abi/config" "$tmp/root/boot/config-$abi")
[[ -n "$vmlinuz" ]] || { log "no vmlinuz-$abi in the packages"; exit 1; }
cp "$vmlinuz" "$tmp/vmlinuz"
if [[ -n "$config" ]]; then
  cp "$config" "$tmp/config"
  grep -q '^CONFIG_SCHED_CLASS_EXT=y' "$tmp/config" || { log "kernel lacks CONFIG_SCHED_CLASS_EXT=y"; exit 1; }
fi
if [[ "${KERNEL_WITH_MODULES:-0}" == 1 ]]; then
  mv "$tmp/root/usr/lib/modules/$abi" "$tmp/modules" 2>/dev/null || mv "$tmp/root/lib/modules/$abi" "$tmp/modules"
fi
rm -rf "$tmp/root" "$tmp/debs"
echo "$stamp_want" > "$tmp/STAMP"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp" "$dest"
trap - EXIT
log "installed $dest/vmlinuz in $(( $(date +%s) - start ))s"
echo "$dest/vmlinuz"
