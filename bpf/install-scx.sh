#!/usr/bin/env bash
# Build the pinned scx_layered from crates.io into the Temper cache.
#
#   ${TEMPER_CACHE:-$HOME/.cache/temper}/scx/<version>/bin/scx_layered
#
# Idempotent: does nothing when the cached binary's stamp matches the pin in bpf/VERSIONS.
# Installs missing Debian build packages (bookworm + bookworm-security) with apt-get.
# Prints the path of the binary on stdout as its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=VERSIONS
. "$here/VERSIONS"

cache="${TEMPER_CACHE:-$HOME/.cache/temper}"
ver="$SCX_LAYERED_VERSION"
clang="${SCX_CLANG:-clang-22}"
clang_major="${clang#clang-}"
dest="$cache/scx/$ver"
bin="$dest/bin/scx_layered"
stamp_want="scx_layered=$ver clang=$clang"

log() { echo "install-scx: $*" >&2; }

if [[ -x "$bin" && -f "$dest/STAMP" && "$(cat "$dest/STAMP")" == "$stamp_want" ]]; then
  log "cached: $bin ($stamp_want)"
  echo "$bin"
  exit 0
fi

# --- build dependencies -------------------------------------------------------------------
pkgs=("$clang" "libclang1-$clang_major" libelf-dev zlib1g-dev libzstd-dev pkg-config)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  [[ $(id -u) == 0 ]] || { log "need root to apt-get install ${missing[*]}"; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
[[ -d "$HOME/.cargo/bin" ]] && PATH="$PATH:$HOME/.cargo/bin"
command -v cargo >/dev/null || { log "cargo not found (install a Rust toolchain >= 1.91)"; exit 1; }

# --- build ------------------------------------------------------------------------------
llvm_lib="/usr/lib/llvm-$clang_major/lib"
export BPF_CLANG="$clang"
export CLANG_PATH="$(command -v "$clang")"   # used by bindgen/clang-sys
export LIBCLANG_PATH="$llvm_lib"
tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
log "building scx_layered $ver with $clang (cold builds take several minutes)"
start=$(date +%s)
cargo install --locked --version "=$ver" --root "$tmp" scx_layered >&2
log "built in $(( $(date +%s) - start ))s"

got="$("$tmp/bin/scx_layered" --version 2>&1 || true)"
[[ "$got" == *"$ver"* ]] || { log "unexpected --version output: $got"; exit 1; }
echo "$stamp_want" > "$tmp/STAMP"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
log "installed $bin"
echo "$bin"
