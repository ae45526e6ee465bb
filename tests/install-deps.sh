#!/usr/bin/env bash
# Installs everything building and testing pycheck needs on a fresh Debian 12 (as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake ninja-build pkg-config file
  nlohmann-json3-dev libcli11-dev catch2
  libmbedtls-dev libsodium-dev libcurl4-openssl-dev zlib1g-dev liblzma-dev liblz4-dev libzstd-dev
  python3 python3-pip python3-jsonschema
  openssl ca-certificates netbase locales binutils-powerpc64-linux-gnu
  dpkg dpkg-dev apt gzip xz-utils lz4 zstd strace debootstrap distro-info-data python3-venv
  libmicrohttpd-dev python3-prometheus-client python3-yaml perl wrk
  clang libclang-rt-14-dev
  python3-fusepy util-linux
  hyperfine valgrind time
  gnupg gpgv sqv
  prometheus
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
# The apt readers' tests read this machine's own apt lists: make sure there are some.
have_lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' 2>/dev/null | head -1)
if ((${#missing[@]})) || [ -z "$have_lists" ]; then
  apt-get update -qq
fi
if ((${#missing[@]})); then
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
