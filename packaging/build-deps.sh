#!/usr/bin/env bash
# Builds the static libcurl, libmicrohttpd, liblz4 and libsodium that the release
# pycheck links, from Debian's curl, libmicrohttpd, lz4 and libsodium source
# packages (so Debian's patches, security fixes included, apply). All go into one
# prefix.
#
#   packaging/build-deps.sh            -> prints the prefix on the last stdout line
#
# Environment:
#   PYCHECK_CACHE_DIR the caches of the build and tests (default /var/cache/pycheck);
#                     the build goes to $PYCHECK_CACHE_DIR/deps/<key>, key = hash(this
#                     script, Debian source versions, TLS backend, arch), so a cached
#                     build is reused.
#   PYCHECK_TLS       mbedtls (default, the release choice) or openssl (kept so the
#                     size comparison can be repeated).
#   PYCHECK_JOBS      parallel make jobs (default: nproc).
#   PYCHECK_DEPS_KEEP_SOURCE=1  keep the temporary apt/source dir (for debugging).
#
# libcurl is cut down to HTTP/HTTPS: c-ares resolver (no getaddrinfo, so no NSS at
# run time), no threaded resolver, no netrc (getpwuid), no cookies/IDN/PSL/alt-svc/
# HSTS/DoH/MIME/NTLM/Kerberos, no HTTP/2, brotli, zstd or SSH; zlib for gzip bodies.
# No CA bundle or path is compiled in: pycheck finds the CAs at run time.
#
# libmicrohttpd (the HTTP server of `pycheck serve`) is cut down to plain HTTP:
# no TLS, no auth, no post processor, no upgrade, no messages; epoll on.
#
# liblz4 is the version of the installed liblz4-dev, only its static library,
# built -Os with a section per function and object: Debian's liblz4.a has no
# sections, so its lz4frame.o drags the whole compressor (LZ4HC_*, LZ4_compress_*,
# LZ4F_compress*, about 80 KB) into a binary that only decompresses.
#
# libsodium likewise (the installed libsodium-dev's version, static, -Os, a
# section per function): in Debian's libsodium.a, sodium_misuse (reached from the
# Ed25519 verifier through utils.o) shares core.o's one text section with
# sodium_init, which links every cipher's run-time implementation picker (about
# 70 KB of ChaCha20, Salsa20, Poly1305, BLAKE2b, X25519, randombytes).
#
# Needs root on a machine that lacks the build packages (it installs them with
# apt-get). It never edits the machine's apt configuration: the deb-src entries
# live in a private, temporary apt configuration derived from the machine's own
# sources.
set -euo pipefail

TLS="${PYCHECK_TLS:-mbedtls}"
DEPS_DIR="${PYCHECK_CACHE_DIR:-/var/cache/pycheck}/deps"
JOBS="${PYCHECK_JOBS:-$(nproc)}"
SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"

log() { echo "build-deps: $*" >&2; }
die() {
  echo "build-deps: error: $*" >&2
  exit 1
}

case "$TLS" in
  mbedtls) TLS_PACKAGES=(libmbedtls-dev) ;;
  openssl) TLS_PACKAGES=(libssl-dev) ;;
  *) die "PYCHECK_TLS must be mbedtls or openssl, not '$TLS'" ;;
esac
# autoconf, automake and libtool: libsodium's Debian source ships no configure.
PACKAGES=(build-essential dpkg-dev pkg-config libc-ares-dev zlib1g-dev liblz4-dev libsodium-dev
  autoconf automake libtool
  "${TLS_PACKAGES[@]}")

# ---------------------------------------------------------------------------
# Build packages: install only what is missing.
ensure_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $EUID -eq 0 ]] || die "missing packages (${missing[*]}); run as root to install them"
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The Debian version of a source package ($1 = a binary package built from it), from
# the machine's binary package index (offline, so a cached build is found without
# touching the network).
candidate_source_version() {  # $1 = binary package
  local candidate source_version
  candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [[ -z "$candidate" || "$candidate" == "(none)" ]]; then
    [[ $EUID -eq 0 ]] || return 0
    apt-get update -qq >&2 || return 0
    candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    [[ -z "$candidate" || "$candidate" == "(none)" ]] && return 0
  fi
  # "Source: curl (x.y)" names the source version when it differs from the binary's.
  source_version="$(apt-cache show "$1=$candidate" 2>/dev/null |
    awk '/^Source:/ { if ($3 ~ /^\(/) { gsub(/[()]/, "", $3); print $3 } exit }')"
  echo "${source_version:-$candidate}"
}

# The source version of an installed binary package ($1), empty when not installed.
installed_source_version() {
  dpkg-query -W -f='${db:Status-Status} ${source:Version}\n' "$1" 2>/dev/null |
    awk '$1 == "installed" {print $2}'
}

cache_key() {  # $1 = curl, $2 = libmicrohttpd, $3 = lz4, $4 = libsodium source version
  {
    cat "$SCRIPT_PATH"
    echo "debian-source-version=$1 microhttpd=$2 lz4=$3 sodium=$4 tls=$TLS arch=$(dpkg --print-architecture)"
  } | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------------------
# Private apt configuration with deb-src entries derived from the machine's own
# deb entries (deb822 *.sources and one-line *.list / sources.list). Only suites
# of this release (bookworm, bookworm-updates, bookworm-security, ...) are kept,
# which leaves third-party repositories out.
APT_TMP=""
APT_OPTS=()
cleanup() {
  [[ -n "$APT_TMP" ]] || return 0
  if [[ "${PYCHECK_DEPS_KEEP_SOURCE:-}" == 1 ]]; then
    log "kept $APT_TMP"
  else
    rm -rf "$APT_TMP"
  fi
}
trap cleanup EXIT

derive_deb822_sources() {  # $1 = codename; files on stdin order
  awk -v codename="$1" '
    function flush(   i, n, suites, kept, parts) {
      if (nlines == 0) return
      if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no" && uris !~ /^(cdrom|file):/) {
        n = split(suites_value, parts, /[ \t]+/)
        kept = ""
        for (i = 1; i <= n; i++)
          if (parts[i] == codename || index(parts[i], codename "-") == 1 || index(parts[i], codename "/") == 1)
            kept = kept (kept == "" ? "" : " ") parts[i]
        if (kept != "") {
          print "Types: deb-src"
          for (i = 1; i <= nlines; i++) {
            if (lines[i] ~ /^[Tt]ypes:/ || lines[i] ~ /^[Aa]rchitectures:/) continue
            if (lines[i] ~ /^[Ss]uites:/) { print "Suites: " kept; continue }
            print lines[i]
          }
          print ""
        }
      }
      nlines = 0; types = ""; suites_value = ""; enabled = ""; uris = ""
    }
    /^#/ { next }
    /^[ \t]*$/ { flush(); next }
    {
      lines[++nlines] = $0
      if (tolower($0) ~ /^types:/) { types = $0; sub(/^[^:]*:[ \t]*/, "", types) }
      if (tolower($0) ~ /^suites:/) { suites_value = $0; sub(/^[^:]*:[ \t]*/, "", suites_value) }
      if (tolower($0) ~ /^enabled:/) { enabled = tolower($0); sub(/^[^:]*:[ \t]*/, "", enabled) }
      if (tolower($0) ~ /^uris:/) { uris = $0; sub(/^[^:]*:[ \t]*/, "", uris) }
    }
    END { flush() }
  '
}

derive_one_line_sources() {  # $1 = codename
  awk -v codename="$1" '
    /^[ \t]*deb[ \t]/ {
      line = $0; sub(/#.*/, "", line)
      n = split(line, f, /[ \t]+/)
      i = 2
      if (f[i] ~ /^\[/) { while (i <= n && f[i] !~ /\]$/) i++; i++ }
      uri = f[i]; suite = f[i + 1]
      if (uri ~ /^(cdrom|file):/) next
      if (suite != codename && index(suite, codename "-") != 1 && index(suite, codename "/") != 1) next
      sub(/^[ \t]*deb/, "deb-src", line)
      print line
    }
  '
}

setup_private_apt() {
  local codename file
  # shellcheck source=/dev/null
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  [[ -n "$codename" ]] || die "cannot tell the release codename from /etc/os-release"
  APT_TMP="$(mktemp -d /tmp/pycheck-apt.XXXXXX)"
  chmod 0755 "$APT_TMP"
  mkdir -p "$APT_TMP/sources.list.d" "$APT_TMP/state/lists/partial" \
    "$APT_TMP/cache/archives/partial" "$APT_TMP/src/curl" "$APT_TMP/src/microhttpd" \
    "$APT_TMP/src/lz4" "$APT_TMP/src/sodium"
  : >"$APT_TMP/sources.list"
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$file" ]] || continue
    derive_deb822_sources "$codename" <"$file" >>"$APT_TMP/sources.list.d/pycheck-src.sources"
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$file" ]] || continue
    derive_one_line_sources "$codename" <"$file" >>"$APT_TMP/sources.list"
  done
  if [[ ! -s "$APT_TMP/sources.list" && ! -s "$APT_TMP/sources.list.d/pycheck-src.sources" ]]; then
    die "no Debian '$codename' entries found in /etc/apt/sources.list{,.d/*} to derive deb-src from"
  fi
  # apt downloads as the unprivileged _apt user when it can write the target dirs.
  if id _apt >/dev/null 2>&1; then
    chown -R _apt "$APT_TMP/state/lists/partial" "$APT_TMP/cache/archives/partial" "$APT_TMP/src"
  fi
  APT_OPTS=(-o "Dir::Etc::SourceList=$APT_TMP/sources.list"
    -o "Dir::Etc::SourceParts=$APT_TMP/sources.list.d"
    -o "Dir::State=$APT_TMP/state" -o "Dir::Cache=$APT_TMP/cache"
    -o "Dir::State::status=/var/lib/dpkg/status")
  log "private deb-src entries:"
  cat "$APT_TMP/sources.list" "$APT_TMP/sources.list.d/pycheck-src.sources" |
    grep -Ev '^(Signed-By|$| )' | sed 's/^/    /' >&2 || true
  apt-get "${APT_OPTS[@]}" update -qq >&2
}

newest_source_version() {  # $1 = source package
  local best="" v
  while read -r v; do
    if [[ -z "$best" ]] || dpkg --compare-versions "$v" gt "$best"; then best="$v"; fi
  done < <(apt-cache "${APT_OPTS[@]}" showsrc --only-source "$1" 2>/dev/null |
    awk '/^Version:/ {print $2}')
  echo "$best"
}

source_has_version() {  # $1 = source package, $2 = version
  apt-cache "${APT_OPTS[@]}" showsrc --only-source "$1" 2>/dev/null |
    awk -v want="$2" '/^Version:/ && $2 == want {found = 1} END {exit !found}'
}

# ---------------------------------------------------------------------------
configure_flags() {
  local tls_flag
  case "$TLS" in
    mbedtls) tls_flag=--with-mbedtls ;;
    openssl) tls_flag=--with-openssl ;;
  esac
  printf '%s\n' \
    --disable-shared --enable-static --disable-dependency-tracking \
    "$tls_flag" --with-zlib \
    --enable-ares --disable-threaded-resolver \
    --without-ca-bundle --without-ca-path \
    --without-libpsl --without-libidn2 --without-nghttp2 --without-nghttp3 \
    --without-ngtcp2 --without-brotli --without-zstd --without-libssh2 \
    --without-libssh --without-librtmp --without-libgsasl --without-gssapi \
    --without-hyper \
    --disable-dict --disable-file --disable-ftp --disable-gopher --disable-imap \
    --disable-ldap --disable-ldaps --disable-mqtt --disable-pop3 --disable-rtsp \
    --disable-smb --disable-smtp --disable-telnet --disable-tftp --disable-websockets \
    --disable-cookies --disable-netrc --disable-alt-svc --disable-hsts --disable-doh \
    --disable-mime --disable-ntlm --disable-ntlm-wb --disable-unix-sockets --disable-manual \
    --disable-libcurl-option --disable-progress-meter --disable-headers-api \
    --disable-get-easy-options
}

# debian_source PACKAGE VERSION DIR: fetches the source package through the
# private apt config, unpacks it with Debian's patches applied (dpkg-source) under
# $APT_TMP/src/DIR and prints the unpacked tree's path.
debian_source() {
  local package="$1" version="$2" dir="$APT_TMP/src/$3"
  log "fetching $package $version source (Debian patches applied by dpkg-source)"
  (cd "$dir" && apt-get "${APT_OPTS[@]}" source --download-only -qq "$package=$version" >&2)
  (cd "$dir" && dpkg-source -x ./*.dsc src >&2) || die "dpkg-source could not unpack $package $version"
  echo "$dir/src"
}

build_curl() {  # $1 = version, $2 = prefix
  local version="$1" prefix="$2" srcdir stage
  srcdir="$(debian_source curl "$version" curl)"
  # Debian's last two patches rename the library for its GnuTLS and NSS flavours;
  # its rules pop them for the OpenSSL flavour, and so do we. The other patches
  # that touch build files (configure.ac: LDAP, GSSAPI; Makefile.am: zsh) concern
  # features disabled here, so upstream's generated configure is used as shipped
  # (AM_MAINTAINER_MODE keeps make from regenerating it).
  local flavour
  for flavour in 99_nss 90_gnutls; do
    if grep -qx "$flavour.patch" "$srcdir/debian/patches/series"; then
      patch -R -p1 -s -d "$srcdir" <"$srcdir/debian/patches/$flavour.patch" ||
        die "cannot unapply Debian's $flavour.patch"
    fi
  done
  stage="$prefix.partial"
  rm -rf "$stage"
  mkdir -p "$stage"
  log "configuring curl $version with $TLS"
  (
    configure_and_make libcurl "$srcdir" "$prefix" "$stage" configure_flags lib
    {
      make -C lib install DESTDIR="$stage/root"
      make -C include install DESTDIR="$stage/root"
      make install-pkgconfigDATA install-binSCRIPTS DESTDIR="$stage/root"
    } >>"$stage/make.log" 2>&1
    grep -E '^  (SSL|AsynchDNS|Protocols|Features|ca cert|zlib|Verbose)' "$stage/configure.log" \
      >"$stage/features.txt" || true
  ) || die "building curl failed (logs in $stage)"
  # Move the DESTDIR tree into place: $stage/root$prefix -> $prefix.
  rm -rf "$prefix"
  mv "$stage/root$prefix" "$prefix"
  mv "$stage/configure.log" "$stage/make.log" "$stage/features.txt" "$prefix/"
  rm -rf "$stage"
  rm -f "$prefix"/lib/*.la
  cat >"$prefix/pycheck-deps.cmake" <<EOF
# Written by packaging/build-deps.sh; read by packaging/curl.cmake and
# packaging/microhttpd.cmake.
set(PYCHECK_CURL_TLS "$TLS")
set(PYCHECK_CURL_DEBIAN_VERSION "$version")
set(PYCHECK_CURL_USES_ZLIB ON)
set(PYCHECK_CURL_USES_CARES ON)
EOF
}

# configure_and_make NAME SRCDIR PREFIX STAGE FLAGS_FUNCTION MAKE_DIR: in a
# subshell of the caller, cd to SRCDIR, configure small static objects with the
# flags FLAGS_FUNCTION prints and build MAKE_DIR; logs in STAGE, their tail on error.
configure_and_make() {
  local name=$1 srcdir=$2 prefix=$3 stage=$4 flags=$5 make_dir=$6
  cd "$srcdir"
  # The compiler's temporary files stay in our own directory, away from /tmp cleaners.
  mkdir -p "$APT_TMP/tmp"
  export TMPDIR="$APT_TMP/tmp"
  # shellcheck disable=SC2046  # one flag per line, none contains spaces
  CFLAGS="-Os -ffunction-sections -fdata-sections" \
    ./configure --prefix="$prefix" $("$flags") >"$stage/configure.log" 2>&1 ||
    { tail -40 "$stage/configure.log" >&2; exit 1; }
  log "building $name ($JOBS jobs)"
  make -C "$make_dir" -j"$JOBS" >"$stage/make.log" 2>&1 || { tail -40 "$stage/make.log" >&2; exit 1; }
}

microhttpd_configure_flags() {
  printf '%s\n' \
    --disable-shared --enable-static --disable-dependency-tracking \
    --disable-https --without-gnutls --disable-curl --disable-dauth --disable-bauth \
    --disable-postprocessor --disable-httpupgrade --disable-doc --disable-examples \
    --disable-messages --disable-nls --disable-sendfile --enable-epoll=yes
}

build_microhttpd() {  # $1 = version, $2 = prefix (already holding curl)
  local version="$1" prefix="$2" srcdir stage
  srcdir="$(debian_source libmicrohttpd "$version" microhttpd)"
  stage="$prefix.microhttpd.partial"
  rm -rf "$stage"
  mkdir -p "$stage"
  log "configuring libmicrohttpd $version"
  (
    configure_and_make libmicrohttpd "$srcdir" "$prefix" "$stage" microhttpd_configure_flags src/microhttpd
    {
      make -C src/microhttpd install DESTDIR="$stage/root"
      make -C src/include install DESTDIR="$stage/root"
      make install-pkgconfigDATA DESTDIR="$stage/root"
    } >>"$stage/make.log" 2>&1
  ) || die "building libmicrohttpd failed (logs in $stage)"
  cp -a "$stage/root$prefix/." "$prefix/"
  mv "$stage/configure.log" "$prefix/microhttpd-configure.log"
  mv "$stage/make.log" "$prefix/microhttpd-make.log"
  rm -rf "$stage"
  rm -f "$prefix"/lib/*.la
  echo "set(PYCHECK_MICROHTTPD_DEBIAN_VERSION \"$version\")" >>"$prefix/pycheck-deps.cmake"
}

build_lz4() {  # $1 = version, $2 = prefix (already holding curl)
  local version="$1" prefix="$2" srcdir stage
  srcdir="$(debian_source lz4 "$version" lz4)"
  stage="$prefix.lz4.partial"
  rm -rf "$stage"
  mkdir -p "$stage/lib" "$stage/include"
  log "building liblz4 $version (static library only)"
  (
    mkdir -p "$APT_TMP/tmp"
    export TMPDIR="$APT_TMP/tmp"
    # lib/Makefile appends its warning flags to CFLAGS from the environment.
    CFLAGS="-Os -ffunction-sections -fdata-sections" \
      make -C "$srcdir/lib" BUILD_SHARED=no liblz4.a >"$stage/make.log" 2>&1 ||
      { tail -40 "$stage/make.log" >&2; exit 1; }
  ) || die "building liblz4 failed (logs in $stage)"
  cp "$srcdir/lib/liblz4.a" "$stage/lib/"
  cp "$srcdir"/lib/lz4*.h "$stage/include/"
  cp -a "$stage/lib/." "$prefix/lib/"
  cp -a "$stage/include/." "$prefix/include/"
  mv "$stage/make.log" "$prefix/lz4-make.log"
  rm -rf "$stage"
  echo "set(PYCHECK_LZ4_DEBIAN_VERSION \"$version\")" >>"$prefix/pycheck-deps.cmake"
}

sodium_configure_flags() {
  printf '%s\n' --disable-shared --enable-static --disable-dependency-tracking --disable-pie
}

build_sodium() {  # $1 = version, $2 = prefix (already holding curl)
  local version="$1" prefix="$2" srcdir stage
  srcdir="$(debian_source libsodium "$version" sodium)"
  stage="$prefix.sodium.partial"
  rm -rf "$stage"
  mkdir -p "$stage"
  log "configuring libsodium $version"
  (
    # Debian's rules regenerate the build system too (the source has no configure).
    (cd "$srcdir" && autoreconf -fi) >"$stage/autoreconf.log" 2>&1 ||
      { tail -40 "$stage/autoreconf.log" >&2; exit 1; }
    configure_and_make libsodium "$srcdir" "$prefix" "$stage" sodium_configure_flags src/libsodium
    make -C src/libsodium install DESTDIR="$stage/root" >>"$stage/make.log" 2>&1
  ) || die "building libsodium failed (logs in $stage)"
  cp -a "$stage/root$prefix/." "$prefix/"
  mv "$stage/configure.log" "$prefix/sodium-configure.log"
  mv "$stage/make.log" "$prefix/sodium-make.log"
  rm -rf "$stage"
  rm -f "$prefix"/lib/*.la
  echo "set(PYCHECK_SODIUM_DEBIAN_VERSION \"$version\")" >>"$prefix/pycheck-deps.cmake"
}

# Resolves "$1" (a source package, candidate version "$2") against the source
# index; prints the version to build.
resolve_source_version() {
  local newest
  if [[ -n "$2" ]] && source_has_version "$1" "$2"; then
    echo "$2"
    return 0
  fi
  newest="$(newest_source_version "$1")"
  [[ -n "$newest" ]] || die "no $1 source package found through the derived deb-src entries"
  log "$1 source ${2:-?} not in the source index; using $newest"
  echo "$newest"
}

main() {
  local curl_version mhd_version lz4_version sodium_version key="" prefix="" started
  started=$SECONDS
  ensure_packages
  curl_version="$(candidate_source_version curl)"
  mhd_version="$(candidate_source_version libmicrohttpd12)"
  lz4_version="$(installed_source_version liblz4-dev)"
  [[ -n "$lz4_version" ]] || die "liblz4-dev is not installed"
  sodium_version="$(installed_source_version libsodium-dev)"
  [[ -n "$sodium_version" ]] || die "libsodium-dev is not installed"
  if [[ -n "$curl_version" && -n "$mhd_version" ]]; then
    key="$(cache_key "$curl_version" "$mhd_version" "$lz4_version" "$sodium_version")"
    prefix="$DEPS_DIR/$key"
    if [[ -f "$prefix/.complete" ]]; then
      log "cached: curl $curl_version ($TLS), libmicrohttpd $mhd_version, lz4 $lz4_version, libsodium $sodium_version in $prefix"
      echo "$prefix"
      return 0
    fi
  fi
  # One build at a time per cache (parallel CI jobs); the winner's result is reused.
  mkdir -p "$DEPS_DIR"
  exec 9>"$DEPS_DIR/.lock"
  flock 9
  if [[ -n "$prefix" && -f "$prefix/.complete" ]]; then
    log "cached: curl $curl_version ($TLS), libmicrohttpd $mhd_version, lz4 $lz4_version, libsodium $sodium_version in $prefix"
    echo "$prefix"
    return 0
  fi
  setup_private_apt
  curl_version="$(resolve_source_version curl "$curl_version")"
  mhd_version="$(resolve_source_version libmicrohttpd "$mhd_version")"
  lz4_version="$(resolve_source_version lz4 "$lz4_version")"
  sodium_version="$(resolve_source_version libsodium "$sodium_version")"
  prefix="$DEPS_DIR/$(cache_key "$curl_version" "$mhd_version" "$lz4_version" "$sodium_version")"
  if [[ -f "$prefix/.complete" ]]; then
    log "cached: curl $curl_version ($TLS), libmicrohttpd $mhd_version, lz4 $lz4_version, libsodium $sodium_version in $prefix"
    echo "$prefix"
    return 0
  fi
  build_curl "$curl_version" "$prefix"
  build_microhttpd "$mhd_version" "$prefix"
  build_lz4 "$lz4_version" "$prefix"
  build_sodium "$sodium_version" "$prefix"
  touch "$prefix/.complete"
  log "built curl $curl_version ($TLS), libmicrohttpd $mhd_version, lz4 $lz4_version and libsodium $sodium_version in $prefix" \
    "in $((SECONDS - started)) s"
  echo "$prefix"
}

main "$@"
