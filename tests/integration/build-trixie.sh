# Sourced by build-roots.sh: the stand-in for python:3.13-slim-trixie, today's
# default base of the official image (issue 16), as the root "trixie". It follows
# docker-library/python's 3.13/slim-trixie Dockerfile on top of a debootstrap'ed
# debian:trixie-slim (shared notes: python-image.md, section 1).
# The bookworm base's functions in build-roots.sh are left as they are: their text
# is that root's cache key. This root has its own key (TRIXIE_KEY below), so editing
# a bookworm-only step rebuilds no trixie root and the reverse; configure_image is a
# step of both and rebuilds both.
# shellcheck shell=bash

TRIXIE_SUITE=trixie
# apt in the root: trixie's debian-archive-keyring ships .pgp files and trixie's
# debuerreotype writes this path in debian.sources. The host's own keyring ($KEYRING)
# only fetches the source package.
TRIXIE_KEYRING=/usr/share/keyrings/debian-archive-keyring.pgp
TRIXIE_GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305   # the image's value for 3.13
# No LANG: the image sets LANG=C.UTF-8 for 3.10-3.12 only. PATH is bookworm's.

# --- source: Debian trixie's pristine python3.13 tarball, fetched once -------------
# trixie's source package also ships upstream's signature, python3.13_*.orig.tar.xz.asc
cached_tarball_trixie() {
  find "$ROOTS_DIR/src" -maxdepth 1 -name 'python3.13_*.orig.tar.*' -not -name '*.asc' | sort -V | tail -n 1
}
fetch_source_trixie() {
  local src="$ROOTS_DIR/src" apt="$ROOTS_DIR/src/apt-trixie"
  TRIXIE_TARBALL="$(cached_tarball_trixie)"
  if [ -z "$TRIXIE_TARBALL" ]; then
    log "fetching the python3.13 source package of trixie (private apt config, deb-src)"
    rm -rf "$apt"; mkdir -p "$apt"/{lists/partial,cache/archives/partial,parts,dl}
    # same mirror as bookworm (find_mirror reads the machine's sources, which name
    # bookworm); every 3.13.x-N+debNuM of trixie shares one orig tarball
    echo "deb-src [signed-by=$KEYRING] $MIRROR $TRIXIE_SUITE main" >"$apt/sources.list"
    local o=(-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
             -o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=$apt/parts")
    apt-get -q "${o[@]}" update >>"$LOG" 2>&1
    (cd "$apt/dl" && apt-get -q "${o[@]}" source --download-only python3.13) >>"$LOG" 2>&1
    mv "$apt"/dl/python3.13_*.orig.tar.* "$src/"
    rm -rf "$apt"
    TRIXIE_TARBALL="$(cached_tarball_trixie)"
  fi
  TRIXIE_PY_VERSION="$(basename "$TRIXIE_TARBALL" | sed -E 's/^python3\.13_([0-9.]+)\.orig\..*/\1/')"
  TRIXIE_PY_SHA256="$(sha256sum "$TRIXIE_TARBALL" | cut -d' ' -f1)"
}

# The 3.13/slim-trixie Dockerfile's big RUN, minus download and GPG (the tarball
# comes from Debian). As for bookworm: no --enable-optimizations (PGO) and no
# --with-lto (build time on 2 cores; no file pycheck looks at changes). Also left
# out: --enable-experimental-jit=yes-off and its build deps clang-18, llvm-18 and
# python3 (a JIT compiled in but off by default; same files, longer build), and
# gnupg/wget (download and signature check). 3.12+ gets no setuptools or wheel.
# Build deps: the Dockerfile's list, except that its libncursesw5-dev is only a
# name that libncurses-dev Provides in trixie (apt picks that): named as it is here.
write_python_build_trixie() {   # write_python_build_trixie FILE
  cat >"$1" <<'EOF'
savedAptMark="$(apt-mark showmanual)"
apt-get update
apt-get install -y --no-install-recommends dpkg-dev gcc libbluetooth-dev libbz2-dev \
  libc6-dev libdb-dev libffi-dev libgdbm-dev liblzma-dev libncurses-dev libreadline-dev \
  libsqlite3-dev libssl-dev make tk-dev uuid-dev xz-utils zlib1g-dev
cd /usr/src/python
gnuArch="$(dpkg-architecture --query DEB_BUILD_GNU_TYPE)"
./configure --build="$gnuArch" --enable-loadable-sqlite-extensions \
  --enable-option-checking=fatal --enable-shared --with-ensurepip
nproc="$(nproc)"
EXTRA_CFLAGS="$(dpkg-buildflags --get CFLAGS)"
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
LDFLAGS="${LDFLAGS:--Wl},--strip-all"
arch="$(dpkg --print-architecture)"; arch="${arch##*-}"
case "$arch" in   # frame pointers for perf (3.12+); -mno-omit-leaf only where supported
  amd64|arm64) EXTRA_CFLAGS="${EXTRA_CFLAGS:-} -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer" ;;
  i386) ;;
  *) EXTRA_CFLAGS="${EXTRA_CFLAGS:-} -fno-omit-frame-pointer" ;;
esac
make -j "$nproc" "EXTRA_CFLAGS=${EXTRA_CFLAGS:-}" "LDFLAGS=${LDFLAGS:-}"
rm python   # relink with an rpath so a Debian libpython3.13 is never picked (#784)
make -j "$nproc" "EXTRA_CFLAGS=${EXTRA_CFLAGS:-}" "LDFLAGS=${LDFLAGS:--Wl},-rpath='\$\$ORIGIN/../lib'" python
make install
cd /
rm -rf /usr/src/python
find /usr/local -depth \( \( -type d -a \( -name test -o -name tests -o -name idle_test \) \) \
  -o \( -type f -a \( -name "*.pyc" -o -name "*.pyo" -o -name "libpython*.a" \) \) \) -exec rm -rf "{}" +
ldconfig
apt-mark auto ".*" >/dev/null
apt-mark manual $savedAptMark
# Not `cut -d: -f1` as the bookworm Dockerfile has it: trixie's dpkg-query --search
# also prints "diversion by PKG from: PATH" / "diversion by PKG to: PATH" lines (usrmerge
# moved libraries under /usr), whose first field is no package name and makes apt-mark
# fail. The upstream Dockerfile keeps only "PKG[, PKG]: PATH" lines with this awk.
find /usr/local -type f -executable -not \( -name "*tkinter*" \) -exec ldd "{}" ";" \
  | awk '/=>/ { so = $(NF-1); if (index(so, "/usr/local/") == 1) { next }; gsub("^/(usr/)?", "", so); printf "*%s\n", so }' \
  | sort -u | xargs -r dpkg-query --search | awk 'sub(":$", "", $1) { print $1 }' | sort -u | xargs -r apt-mark manual
apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false
apt-get dist-clean
export PYTHONDONTWRITEBYTECODE=1
python3 --version
pip3 --version
for src in idle3 pip3 pydoc3 python3 python3-config; do
  dst="$(echo "$src" | tr -d 3)"
  [ -s "/usr/local/bin/$src" ]; [ ! -e "/usr/local/bin/$dst" ]
  ln -svT "$src" "/usr/local/bin/$dst"
done
EOF
}

build_trixie() {
  local d="$ROOTS_DIR/trixie.tmp"
  # configure_image writes debian.sources from these: trixie's suites and keyring path
  local SUITE=$TRIXIE_SUITE KEYRING=$TRIXIE_KEYRING
  fresh_tmp "$d"
  log "trixie: debootstrap --variant=minbase $SUITE"
  # the host's keyring checks the Release file (bookworm's keyring has trixie's keys)
  debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$SUITE" "$d" "$MIRROR" >>"$LOG" 2>&1
  configure_image "$d"
  [ -s "$d$KEYRING" ]   # the path debian.sources names exists in the root
  log "trixie: runtime packages"
  run_in "$d" 'apt-get update
    apt-get install -y --no-install-recommends ca-certificates netbase tzdata
    apt-get dist-clean'
  log "trixie: building CPython $TRIXIE_PY_VERSION from $(basename "$TRIXIE_TARBALL")"
  mkdir -p "$d/usr/src/python"
  tar -xf "$TRIXIE_TARBALL" -C "$d/usr/src/python" --strip-components=1 --no-same-owner
  write_python_build_trixie "$d/tmp/build-python.sh"
  in_root "$d" sh -eux /tmp/build-python.sh
  rm -f "$d/tmp/build-python.sh"
  printf '%s\n' "PATH=$IMAGE_PATH" "GPG_KEY=$TRIXIE_GPG_KEY" \
    "PYTHON_VERSION=$TRIXIE_PY_VERSION" "PYTHON_SHA256=$TRIXIE_PY_SHA256" >"$d.env"
  publish trixie "$TRIXIE_KEY-$(date +%s)"
}

# What builds the trixie root: its own functions, the shared steps and settings.
TRIXIE_KEY="$({ declare -f fetch_source_trixie cached_tarball_trixie configure_image \
  write_python_build_trixie in_root run_in build_trixie
  printf '%s\n' "$TRIXIE_SUITE" "$TRIXIE_KEYRING" "$KEYRING" "$IMAGE_PATH" "$TRIXIE_GPG_KEY"; } | hash16)"
