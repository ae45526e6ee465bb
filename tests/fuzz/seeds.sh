#!/usr/bin/env bash
# Gathers seed corpora for the fuzz targets into OUT/<target>/ (default
# build-fuzz/seeds): the small hand-written seeds committed in
# tests/fuzz/seeds/<target>/, plus real files copied out of the integration
# roots in $PYCHECK_CACHE_DIR/roots (read-only: files are only read) or, when
# a root or a file is missing there, from this machine's own /etc and /usr.
# Big files are cut into pieces near the targets' -max_len so that every seed
# is read whole. Prints where each group of seeds came from.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../build-fuzz/seeds}
# shellcheck source=tests/integration/roots.sh
source "$here/../integration/roots.sh"
roots=$ROOTS_DIR
# Start afresh (pieces are appended to), but only in a folder this script made.
if [ -f "$out/.pycheck-fuzz-seeds" ]; then rm -rf "$out"; fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
touch "$out/.pycheck-fuzz-seeds"

# Committed seeds first.
for dir in "$here"/seeds/*/; do
  t=$(basename "$dir")
  mkdir -p "$out/$t"
  cp "$dir"* "$out/$t/"
done

# first_existing PATH...: the first readable file among the candidates.
first_existing() {
  local p
  for p in "$@"; do
    if [ -f "$p" ] && [ -r "$p" ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# from ROOT_NAME PATH: the file in that integration root, else the host's.
from() {
  first_existing "$roots/$1$2" "$2"
}

# seed TARGET NAME FILE [MAX_BYTES]: copies (the first MAX_BYTES of) FILE.
seed() {
  local t=$1 name=$2 file=$3 max=${4:-}
  mkdir -p "$out/$t"
  if [ -n "$max" ]; then
    head -c "$max" "$file" >"$out/$t/$name"
  else
    cat "$file" >"$out/$t/$name"
  fi
  echo "  $t/$name <- $file"
}

# split_stanzas TARGET PREFIX FILE BYTES: blank-line separated stanzas, grouped
# into pieces of about BYTES (at most 20 pieces).
split_stanzas() {
  local t=$1 prefix=$2 file=$3 bytes=$4
  mkdir -p "$out/$t"
  awk -v RS= -v ORS='\n\n' -v limit="$bytes" -v dir="$out/$t" -v prefix="$prefix" '
    { if (size + length($0) > limit && size > 0) { n++; size = 0 }
      if (n >= 20) exit
      f = dir "/" prefix "-" n; printf "%s\n\n", $0 >> f; close(f); size += length($0) + 2 }
  ' "$file"
  echo "  $t/$prefix-* <- $file (split)"
}

echo "== seeds from ${roots} (else this machine)"
if [ ! -d "$roots/base" ]; then
  echo "  note: $roots/base is absent: real seeds come from this machine's own files"
fi

# dpkg status: pieces of the real database; the fuzzer also reads it as status.d.
status=$(from base /var/lib/dpkg/status) && split_stanzas dpkg_status status "$status" 12000

# apt sources (deb822 in the roots; any one-line lists the host has).
for f in "$roots"/base/etc/apt/sources.list.d/* "$roots"/debian-python3/etc/apt/sources.list.d/* \
         /etc/apt/sources.list /etc/apt/sources.list.d/*; do
  [ -f "$f" ] && seed apt_sources "$(echo "$f" | tr / _)" "$f" 16384
done

# Release/InRelease and Packages from the apt-lists root (else the host's lists).
lists=$roots/apt-lists/var/lib/apt/lists
[ -d "$lists" ] || lists=/var/lib/apt/lists
n=0
for f in "$lists"/*InRelease "$lists"/*_Release; do
  [ -f "$f" ] || continue
  seed apt_release "release-$n" "$f" 65536
  n=$((n + 1))
done
for f in "$lists"/*_Packages*; do
  [ -f "$f" ] || continue
  base=$(basename "$f")
  tmp=$(mktemp)
  case "$f" in
    *.lz4) command -v lz4 >/dev/null && lz4 -dc "$f" 2>/dev/null | head -c 400000 >"$tmp" || true ;;
    *.xz) xz -dc "$f" 2>/dev/null | head -c 400000 >"$tmp" || true ;;
    *.gz) gzip -dc "$f" 2>/dev/null | head -c 400000 >"$tmp" || true ;;
    *.zst) command -v zstd >/dev/null && zstd -dc "$f" 2>/dev/null | head -c 400000 >"$tmp" || true ;;
    *) head -c 400000 "$f" >"$tmp" ;;
  esac
  if [ -s "$tmp" ]; then
    split_stanzas apt_packages "${base:0:40}" "$tmp" 12000 >/dev/null
    # The same text as deb822 stanzas for the generic reader.
    seed deb822 "packages-${base:0:40}" "$tmp" 8192 >/dev/null
    echo "  apt_packages/${base:0:40}-*, deb822/packages-${base:0:40} <- $f (decompressed, split)"
  fi
  # A real compressed index, cut, for the decompressor (an Error path), and whole when small.
  if [ "$(stat -c %s "$f")" -le 65536 ]; then seed decompress "${base:0:60}" "$f"; fi
  rm -f "$tmp"
done
[ -n "${status:-}" ] && seed deb822 status "$status" 8192

# Decompressor: a slice of real text in every format the tools on this machine write.
if [ -n "${status:-}" ]; then
  text=$(mktemp)
  head -c 6000 "$status" >"$text"
  gzip -9c "$text" >"$out/decompress/status.gz"
  (gzip -c "$text"; gzip -c "$text") >"$out/decompress/two-members.gz"
  xz -c "$text" >"$out/decompress/status.xz"
  command -v lz4 >/dev/null && lz4 -c "$text" >"$out/decompress/status.lz4"
  command -v zstd >/dev/null && zstd -qc "$text" >"$out/decompress/status.zst"
  /usr/bin/python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))' \
    <"$text" >"$out/decompress/status.zlib" || true
  echo "  decompress/status.{gz,xz,lz4,zst,zlib} <- $status (first 6000 bytes)"
  rm -f "$text"
fi

# ELF: small extension modules and libraries (the whole file must fit -max_len).
n=0
for dir in "$roots"/base/usr/local/lib/python3.11/lib-dynload "$roots"/base/usr/lib/x86_64-linux-gnu \
           /usr/lib/python3*/lib-dynload /usr/lib/x86_64-linux-gnu; do
  [ -d "$dir" ] || continue
  while IFS= read -r f; do
    head -c 4 "$f" | grep -q ELF || continue
    seed elf "$(basename "$f")" "$f" >/dev/null
    n=$((n + 1))
  done < <(find "$dir" -maxdepth 1 -type f -size -60k -name '*.so*' 2>/dev/null | sort | head -12)
  [ "$n" -ge 24 ] && break
done
echo "  elf: $n small shared objects"
for f in "$(from base /usr/local/bin/python3.11 || true)" "$(from base /bin/true || true)"; do
  [ -n "$f" ] && [ "$(stat -L -c %s "$f")" -le 65536 ] && seed elf "$(basename "$f")" "$f"
done

# ld.so.cache, locale archive (the beginning of it: the tables) and C.utf8 data.
cache=$(from base /etc/ld.so.cache) && seed ld_so_cache ld.so.cache "$cache"
archive=$(from with-locales /usr/lib/locale/locale-archive) && seed locale_archive locale-archive "$archive" 262144
for cat in LC_IDENTIFICATION LC_MESSAGES LC_NUMERIC LC_TIME LC_MONETARY LC_ADDRESS LC_NAME LC_PAPER \
           LC_MEASUREMENT LC_TELEPHONE; do
  f=$(from with-locales "/usr/lib/locale/C.utf8/$cat") && seed locale_archive "C.utf8-$cat" "$f"
done
alias=$(from with-locales /usr/share/locale/locale.alias || from with-locales /etc/locale.alias) &&
  seed locale_name locale.alias "$alias"

# PEM: the CA bundle in pieces of a few certificates each.
bundle=$(from base /etc/ssl/certs/ca-certificates.crt) && {
  mkdir -p "$out/pem_bundle"
  awk -v dir="$out/pem_bundle" '
    /-----BEGIN/ { if (count % 4 == 0) n++; count++ }
    n <= 12 && n > 0 { print > (dir "/ca-bundle-" n) }
  ' "$bundle"
  echo "  pem_bundle/ca-bundle-* <- $bundle (4 certificates each)"
}

# dist-info METADATA, pyvenv.cfg, os-release, debian_version, netdb.
n=0
for f in "$roots"/base/usr/local/lib/python3.11/site-packages/*.dist-info/METADATA \
         "$roots"/venv/opt/venv/lib/python3.11/site-packages/*.dist-info/METADATA \
         /usr/lib/python3/dist-packages/*.dist-info/METADATA; do
  [ -f "$f" ] || continue
  seed dist_info "$(basename "$(dirname "$f")")" "$f" 8192 >/dev/null
  n=$((n + 1))
  [ "$n" -ge 12 ] && break
done
echo "  dist_info: $n METADATA files"
cfg=$(first_existing "$roots"/venv/opt/venv/pyvenv.cfg) && seed pyvenv_cfg pyvenv.cfg "$cfg"
f=$(from base /etc/os-release) && seed os_release os-release "$f"
f=$(from base /usr/lib/os-release) && seed os_release usr-lib-os-release "$f"
f=$(from base /etc/debian_version) && seed os_release debian_version "$f"
f=$(from base /etc/services) && seed netdb services "$f"
f=$(from base /etc/protocols) && seed netdb protocols "$f"

# Shebang lines: the first 512 bytes of the scripts in usr/local/bin.
n=0
for f in "$roots"/base/usr/local/bin/* "$roots"/venv/opt/venv/bin/* /usr/local/bin/* /usr/bin/*; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  head -c 2 "$f" | grep -q '#!' || continue
  seed shebang "script-$n" "$f" 512 >/dev/null
  n=$((n + 1))
  [ "$n" -ge 16 ] && break
done
echo "  shebang: $n script heads"

for t in "$out"/*/; do
  printf '  %-16s %4d seeds %8d bytes\n' "$(basename "$t")" "$(find "$t" -type f | wc -l)" \
    "$(cat "$t"* 2>/dev/null | wc -c)"
done
