#!/usr/bin/env bash
# Builds stand-ins for the official python:3.11-slim-bookworm image as plain root
# folders, plus variants with typical mistakes, for pycheck's integration tests.
# The base follows docker-library/python's 3.11/slim-bookworm Dockerfile on top of a
# debootstrap'ed debian:bookworm-slim (shared notes: python-image.md, section 1).
# The root "trixie" stands in for python:3.13-slim-trixie (build-trixie.sh).
#
# Usage: build-roots.sh [--list | --rebuild]
#   --list     only print the root paths     --rebuild  ignore the cache
# Needs root, debootstrap and the machine's Debian mirror; results are cached in
# $PYCHECK_CACHE_DIR/roots (default /var/cache/pycheck/roots, see roots.sh):
#   NAME/  the root   NAME.env  the image's ENV   NAME.key  written last = complete
# The base is rebuilt when what builds it changes, a variant when the base or
# its own function does (see "cache keys" below).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=roots.sh
source "$HERE/roots.sh"

if [ "${1:-}" = --list ]; then
  for name in "${ROOT_NAMES[@]}"; do root_path "$name"; done
  exit 0
fi
REBUILD=""
if [ "${1:-}" = --rebuild ]; then REBUILD=1; shift; fi
[ $# -eq 0 ] || { echo "usage: $0 [--list | --rebuild]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: needs root (debootstrap, chroot)" >&2; exit 1; }

SUITE=bookworm
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Docker's default PATH with the image's `ENV PATH /usr/local/bin:$PATH` in front,
# which is why /usr/local/bin appears twice in the real image too.
IMAGE_PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D   # the image's value for 3.11
LOG=/dev/null                                      # current build's log file
MOUNTS=()

log() { printf '[build-roots %s] %s\n' "$(date +%T)" "$*" >&2; }

# --- mirror: taken from the machine's apt sources, never hard-coded --------------
find_mirror() {
  local f uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    # deb822 paragraphs: the URIs of the first "deb" stanza whose Suites has bookworm
    uri="$(awk -v s="$SUITE" 'BEGIN { RS = ""; FS = "\n" }
      { u = ""; ok = 0; deb = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split(substr($i, 6), a, " "); u = a[1] }
          if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
          if ($i ~ /^Suites:/) { n = split(substr($i, 8), b, " "); for (j = 1; j <= n; j++) if (b[j] == s) ok = 1 }
        }
        if (u != "" && ok && deb) { print u; exit } }' "$f")"
    [ -z "$uri" ] || break
  done
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk -v s="$SUITE" '$1 == "deb" { for (i = 2; i < NF; i++) if ($i ~ /^[a-z]+:\/\// && $(i+1) == s) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  [ -n "$uri" ] || { echo "no '$SUITE' mirror found in the apt sources" >&2; exit 1; }
  MIRROR="${uri%/}"
  # the image's security suite lives under /debian-security on the same host
  SECURITY="$(sed -E 's#^([a-z]+://[^/]+).*#\1#' <<<"$MIRROR")/debian-security"
}

# --- mounts: never left behind, even when a step fails ---------------------------
unmount_all() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}"
  done
  MOUNTS=()
}
unmount_stale() {   # left over by a run killed with SIGKILL (no trap ran)
  awk -v d="$ROOTS_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m"; done
}
on_exit() {
  local rc=$?
  unmount_all
  if [ "$rc" != 0 ] && [ -s "$LOG" ]; then
    log "FAILED (exit $rc); last lines of $LOG:"; tail -n 25 "$LOG" >&2
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM HUP

# Runs a command in root DIR like a Dockerfile RUN: the image's ENV, no tty.
in_root() {
  local dir=$1 rc=0; shift
  mount -t proc proc "$dir/proc"; MOUNTS+=("$dir/proc")
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$dir/dev/pts"; MOUNTS+=("$dir/dev/pts")
  chroot "$dir" /usr/bin/env -i PATH="$IMAGE_PATH" LANG=C.UTF-8 HOME=/root \
    DEBIAN_FRONTEND=noninteractive "$@" </dev/null >>"$LOG" 2>&1 || rc=$?
  unmount_all
  return "$rc"
}
run_in() { in_root "$1" sh -euxc "$2"; }   # run_in DIR 'shell script'

# --- source: Debian's pristine upstream tarball, fetched once ---------------------
cached_tarball() { find "$ROOTS_DIR/src" -maxdepth 1 -name 'python3.11_*.orig.tar.*' | sort -V | tail -n 1; }
fetch_source() {
  local src="$ROOTS_DIR/src" apt="$ROOTS_DIR/src/apt"
  TARBALL="$(cached_tarball)"
  if [ -z "$TARBALL" ]; then
    log "fetching the python3.11 source package (private apt config, deb-src)"
    rm -rf "$apt"; mkdir -p "$apt"/{lists/partial,cache/archives/partial,parts,dl}
    # the point release suffices: every 3.11.2-6+deb12uN shares this orig tarball
    echo "deb-src [signed-by=$KEYRING] $MIRROR $SUITE main" >"$apt/sources.list"
    local o=(-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
             -o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=$apt/parts")
    apt-get -q "${o[@]}" update >>"$LOG" 2>&1
    (cd "$apt/dl" && apt-get -q "${o[@]}" source --download-only python3.11) >>"$LOG" 2>&1
    mv "$apt"/dl/python3.11_*.orig.tar.* "$src/"
    rm -rf "$apt"
    TARBALL="$(cached_tarball)"
  fi
  PY_VERSION="$(basename "$TARBALL" | sed -E 's/^python3\.11_([0-9.]+)\.orig\..*/\1/')"
  PY_SHA256="$(sha256sum "$TARBALL" | cut -d' ' -f1)"
}

# --- debian:bookworm-slim: debuerreotype's docker config and slimify --------------
configure_image() {
  local d=$1 c="$1/etc/apt/apt.conf.d"
  rm -f "$d/etc/apt/sources.list"
  cat >"$d/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: $KEYRING

Types: deb
URIs: $SECURITY
Suites: $SUITE-security
Components: main
Signed-By: $KEYRING
EOF
  printf '#!/bin/sh\nexit 101\n' >"$d/usr/sbin/policy-rc.d"; chmod 0755 "$d/usr/sbin/policy-rc.d"
  echo force-unsafe-io >"$d/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$c/docker-autoremove-suggests"
  local clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";'
  printf 'DPkg::Post-Invoke { %s };\nAPT::Update::Post-Invoke { %s };\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' \
    "$clean" "$clean" >"$c/docker-clean"
  echo 'Acquire::GzipIndexes "true";' >"$c/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' >"$c/docker-no-languages"
  # slim: dpkg keeps docs, man pages and translations out; delete those already there
  local ex=('/usr/share/doc/*' '/usr/share/groff/*' '/usr/share/info/*' '/usr/share/linda/*'
            '/usr/share/lintian/overrides/*' '/usr/share/locale/*' '/usr/share/man/*')
  local inc=('/usr/share/doc/*/copyright' '/usr/share/doc/kde/HTML/C/*' '/usr/share/gnome/help/*/C/*'
             '/usr/share/locale/all_languages' '/usr/share/locale/currency/*' '/usr/share/locale/l10n/*'
             '/usr/share/locale/languages' '/usr/share/locale/locale.alias' '/usr/share/omf/*/*-C.emf')
  { echo '# This is the "slim" variant of the Debian base image.'
    printf 'path-exclude %s\n' "${ex[@]}"; printf 'path-include %s\n' "${inc[@]}"; } >"$d/etc/dpkg/dpkg.cfg.d/docker"
  local keep=() p e top
  for p in "${inc[@]}"; do keep+=(-o -path "$d$p"); done
  for e in "${ex[@]}"; do
    top="$d${e%/\*}"; [ -d "$top" ] || continue
    find "$top" -mindepth 1 -not -type d -not -type l -not \( -false "${keep[@]}" \) -delete
    while [ -n "$(find "$top" -mindepth 1 -depth \( -empty -o -xtype l \) -print -delete)" ]; do :; done
  done
}

# The Dockerfile's big RUN, minus download and GPG (the tarball comes from Debian).
# No --enable-optimizations (PGO) and no --with-lto, unlike the image: they would
# triple the build time on 2 cores and change no file that pycheck looks at.
# setuptools/wheel: the image pip-installs them from PyPI, which is out of reach,
# so Debian's .whl files are installed the same way (no index, no .pyc).
write_python_build() {   # write_python_build FILE
  cat >"$1" <<'EOF'
savedAptMark="$(apt-mark showmanual)"
apt-get update
apt-get install -y --no-install-recommends dpkg-dev gcc libbluetooth-dev libbz2-dev \
  libc6-dev libdb-dev libffi-dev libgdbm-dev liblzma-dev libncursesw5-dev libreadline-dev \
  libsqlite3-dev libssl-dev make tk-dev uuid-dev xz-utils zlib1g-dev \
  python3-setuptools-whl python3-wheel-whl
cp /usr/share/python-wheels/setuptools-*.whl /usr/share/python-wheels/wheel-*.whl /tmp/
cd /usr/src/python
gnuArch="$(dpkg-architecture --query DEB_BUILD_GNU_TYPE)"
./configure --build="$gnuArch" --enable-loadable-sqlite-extensions \
  --enable-option-checking=fatal --enable-shared --with-ensurepip
nproc="$(nproc)"
EXTRA_CFLAGS="$(dpkg-buildflags --get CFLAGS)"
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
LDFLAGS="${LDFLAGS:--Wl},--strip-all"
make -j "$nproc" "EXTRA_CFLAGS=${EXTRA_CFLAGS:-}" "LDFLAGS=${LDFLAGS:-}"
rm python   # relink with an rpath so a Debian libpython3.11 is never picked (#784)
make -j "$nproc" "EXTRA_CFLAGS=${EXTRA_CFLAGS:-}" "LDFLAGS=${LDFLAGS:--Wl},-rpath='\$\$ORIGIN/../lib'" python
make install
cd /
rm -rf /usr/src/python
find /usr/local -depth \( \( -type d -a \( -name test -o -name tests -o -name idle_test \) \) \
  -o \( -type f -a \( -name "*.pyc" -o -name "*.pyo" -o -name "libpython*.a" \) \) \) -exec rm -rf "{}" +
ldconfig
apt-mark auto ".*" >/dev/null
apt-mark manual $savedAptMark
find /usr/local -type f -executable -not \( -name "*tkinter*" \) -exec ldd "{}" ";" \
  | awk '/=>/ { so = $(NF-1); if (index(so, "/usr/local/") == 1) { next }; gsub("^/(usr/)?", "", so); printf "*%s\n", so }' \
  | sort -u | xargs -r dpkg-query --search | cut -d: -f1 | sort -u | xargs -r apt-mark manual
apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false
rm -rf /var/lib/apt/lists/*
export PYTHONDONTWRITEBYTECODE=1
python3 --version
pip3 install --disable-pip-version-check --no-cache-dir --no-compile --no-index /tmp/setuptools-*.whl /tmp/wheel-*.whl
rm -f /tmp/*.whl
pip3 --version
for src in idle3 pip3 pydoc3 python3 python3-config; do
  dst="$(echo "$src" | tr -d 3)"
  [ -s "/usr/local/bin/$src" ]; [ ! -e "/usr/local/bin/$dst" ]
  ln -svT "$src" "/usr/local/bin/$dst"
done
EOF
}

# --- atomic builds: NAME.tmp is renamed to NAME, then NAME.key is written --------
fresh_tmp() {
  unmount_stale
  rm -rf --one-file-system "$1"
}
publish() {   # publish NAME KEY: replace ROOTS_DIR/NAME by NAME.tmp
  local n="$ROOTS_DIR/$1"
  rm -f "$n.key"
  mv "$n.tmp.env" "$n.env.new"
  rm -rf --one-file-system "$n"
  mv "$n.tmp" "$n"
  mv "$n.env.new" "$n.env"
  echo "$2" >"$n.key.new" && mv "$n.key.new" "$n.key"
}
env_set() {   # env_set FILE KEY VALUE: replace KEY's line in place, or append it
  awk -F= -v k="$2" -v v="$3" '$1 == k { print k "=" v; done = 1; next } { print }
    END { if (!done) print k "=" v }' "$1" >"$1.new"
  mv "$1.new" "$1"
}

build_base() {
  local d="$ROOTS_DIR/base.tmp"
  fresh_tmp "$d"
  log "base: debootstrap --variant=minbase $SUITE"
  debootstrap --variant=minbase "$SUITE" "$d" "$MIRROR" >>"$LOG" 2>&1
  configure_image "$d"
  log "base: runtime packages"
  run_in "$d" 'apt-get update
    apt-get install -y --no-install-recommends ca-certificates netbase tzdata
    rm -rf /var/lib/apt/lists/*'
  log "base: building CPython $PY_VERSION from $(basename "$TARBALL")"
  mkdir -p "$d/usr/src/python"
  tar -xf "$TARBALL" -C "$d/usr/src/python" --strip-components=1 --no-same-owner
  write_python_build "$d/tmp/build-python.sh"
  in_root "$d" sh -eux /tmp/build-python.sh
  rm -f "$d/tmp/build-python.sh"
  printf '%s\n' "PATH=$IMAGE_PATH" LANG=C.UTF-8 "GPG_KEY=$GPG_KEY" \
    "PYTHON_VERSION=$PY_VERSION" "PYTHON_SHA256=$PY_SHA256" >"$d.env"
  publish base "$BASE_KEY-$(date +%s)"
}

# --- variants: each a copy of base plus one change --------------------------------
variant_debian-python3() {   # a user's plausible mistake: Debian's python next to ours
  run_in "$1" 'apt-get update; apt-get install -y python3 python3-pip; rm -rf /var/lib/apt/lists/*'
}
variant_no-ca-certificates() {
  run_in "$1" 'apt-get purge -y ca-certificates; test ! -e /etc/ssl/certs/ca-certificates.crt'
}
variant_no-netbase() { run_in "$1" 'apt-get purge -y netbase; test ! -e /etc/services'; }
variant_missing-locale() { env_set "$2" LANG en_US.UTF-8; }   # not installed in the root
variant_with-locales() {
  run_in "$1" 'apt-get update; apt-get install -y locales; rm -rf /var/lib/apt/lists/*
    sed -i -E "s/^# *((en_US|de_DE)\.UTF-8 UTF-8)/\1/" /etc/locale.gen
    locale-gen; test -s /usr/lib/locale/locale-archive'
  env_set "$2" LANG en_US.UTF-8
}
variant_venv() {
  run_in "$1" 'python3 -m venv /opt/venv; /opt/venv/bin/pip --version'
  env_set "$2" VIRTUAL_ENV /opt/venv
  env_set "$2" PATH "/opt/venv/bin:$IMAGE_PATH"
}
variant_no-sqlite() {
  run_in "$1" 'dpkg --purge --force-depends libsqlite3-0; ! python3 -B -c "import sqlite3"'
}
variant_no-libssl() {   # libssl3 gone under the interpreter: _ssl and _hashlib cannot load
  run_in "$1" 'dpkg --purge --force-depends libssl3; ! python3 -B -c "import ssl"'
}
variant_apt-lists() { run_in "$1" 'apt-get update'; }   # lists left in place

# Running python in a cached root without -B leaves .pyc files behind; the image
# ships none, so drop those written after the build (the mtime of the .key file).
drop_new_pyc() {   # drop_new_pyc ROOTDIR KEYFILE
  find "$1" -newer "$2" -type f -name '*.pyc' -delete
  find "$1" -depth -newer "$2" -type d -name __pycache__ -empty -delete
}

build_variant() {
  local name=$1 d="$ROOTS_DIR/$1.tmp"
  fresh_tmp "$d"
  log "$name: copying base"
  cp -a --reflink=auto "$ROOTS_DIR/base" "$d"
  drop_new_pyc "$d" "$ROOTS_DIR/base.key"
  cp "$ROOTS_DIR/base.env" "$d.env"
  "variant_$name" "$d" "$d.env"
  publish "$name" "$(variant_key "$name")"
}

# --- cache keys: what builds a root, not this whole file --------------------------
# The base (a CPython compile, ~15 min on 2 cores) is keyed by the code and the
# settings that build it, a variant by the base's key (its build time included)
# and its own code: editing a variant rebuilds that variant only. declare -f
# prints a function without its comments (a newer bash may print it differently:
# that rebuilds once).
hash16() { sha256sum | cut -c1-16; }
BASE_KEY="$({ declare -f fetch_source cached_tarball configure_image write_python_build \
  in_root run_in build_base; printf '%s\n' "$SUITE" "$KEYRING" "$IMAGE_PATH" "$GPG_KEY"; } | hash16)"
# shellcheck source=build-trixie.sh
source "$HERE/build-trixie.sh"   # the trixie root's steps and TRIXIE_KEY
variant_key() {   # variant_key NAME: what NAME.key holds once NAME is up to date
  printf '%s %s\n' "$(cat "$ROOTS_DIR/base.key")" \
    "$(declare -f "variant_$1" build_variant drop_new_pyc env_set | hash16)"
}

main() {
  local start name t0 status modified=""
  start=$SECONDS
  mkdir -p "$ROOTS_DIR/src" "$ROOTS_DIR/logs"
  exec 9>"$ROOTS_DIR/.lock"; flock 9    # one builder at a time
  find_mirror
  local table=()
  for name in "${ROOT_NAMES[@]}"; do
    t0=$SECONDS; status=cached
    if [ "$name" = base ]; then
      if [ -n "$REBUILD" ] || ! root_ready base || [[ "$(cat "$ROOTS_DIR/base.key")" != "$BASE_KEY"-* ]]; then
        LOG="$ROOTS_DIR/logs/base.log"; : >"$LOG"
        fetch_source; build_base; status=built
      fi
    elif [ "$name" = trixie ]; then
      if [ -n "$REBUILD" ] || ! root_ready trixie || [[ "$(cat "$ROOTS_DIR/trixie.key")" != "$TRIXIE_KEY"-* ]]; then
        LOG="$ROOTS_DIR/logs/trixie.log"; : >"$LOG"
        fetch_source_trixie; build_trixie; status=built
      fi
    elif [ -n "$REBUILD" ] || ! root_ready "$name" || [ "$(cat "$ROOTS_DIR/$name.key")" != "$(variant_key "$name")" ]; then
      LOG="$ROOTS_DIR/logs/$name.log"; : >"$LOG"
      build_variant "$name"; status=built
    fi
    LOG=/dev/null
    # something else wrote into a cached root: repair stray .pyc, report the rest
    drop_new_pyc "$ROOTS_DIR/$name" "$ROOTS_DIR/$name.key"
    if [ -n "$(find "$ROOTS_DIR/$name" -newer "$ROOTS_DIR/$name.key" -not -type d -print -quit)" ]; then
      status=MODIFIED; modified=1
    fi
    table+=("$(printf '%-20s %-7s %5ss %6s  %s' "$name" "$status" $((SECONDS - t0)) \
      "$(du -sh --one-file-system "$ROOTS_DIR/$name" | cut -f1)" "$(root_path "$name")")")
  done
  printf '%-20s %-7s %6s %6s  %s\n' ROOT STATUS TIME SIZE PATH
  printf '%s\n' "${table[@]}"
  echo "total: $((SECONDS - start))s (logs in $ROOTS_DIR/logs)"
  [ -z "$modified" ] || echo "MODIFIED: files changed after the build; '$0 --rebuild' restores them" >&2
}

main
