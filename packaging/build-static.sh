#!/usr/bin/env bash
# Builds the fully static release pycheck (glibc, libstdc++, libcurl with c-ares
# and mbedTLS, zlib, ...: no shared library, no NSS, no dlopen at run time).
#
#   packaging/build-static.sh            -> build-static/pycheck (stripped)
#                                           build-static/pycheck.unstripped
#
# Environment:
#   PYCHECK_BUILD_DIR   build directory (default: <repo>/build-static)
#   PYCHECK_CACHE_DIR   caches; packaging/build-deps.sh keeps its build in deps/ there
#   PYCHECK_TESTS=OFF   skip building the (also static) test executable
#   PYCHECK_LTO=OFF     no link-time optimisation (default ON: only pycheck is linked
#                       with -flto; the test executable links the same objects without)
#
# Runs packaging/build-deps.sh first, which needs root on a machine that lacks
# the build packages. Prints `file`, `ldd` and the stripped size, and fails when
# the binary is not static, any NSS/dlopen-prone resolver symbol got linked in, or
# the stripped binary is over its 4 MiB budget (it prints what the budget leaves).
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${PYCHECK_BUILD_DIR:-$SRC/build-static}"
TESTS="${PYCHECK_TESTS:-ON}"
LTO="${PYCHECK_LTO:-ON}"

log() { echo "build-static: $*" >&2; }
die() {
  echo "build-static: error: $*" >&2
  exit 1
}

# The project's own build tools (build-deps.sh installs what libcurl needs).
PACKAGES=(cmake ninja-build g++ file binutils nlohmann-json3-dev libcli11-dev catch2
  libmbedtls-dev libsodium-dev zlib1g-dev liblzma-dev liblz4-dev libzstd-dev)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$pkg")
done
if ((${#missing[@]})); then
  [[ $EUID -eq 0 ]] || die "missing packages (${missing[*]}); run as root to install them"
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

started=$SECONDS
prefix="$(bash "$SRC/packaging/build-deps.sh" | tail -n 1)"
[[ -f "$prefix/lib/libcurl.a" ]] || die "build-deps.sh gave no libcurl.a (prefix '$prefix')"
log "libcurl: $prefix ($((SECONDS - started)) s)"

sections="-ffunction-sections -fdata-sections"
cmake -S "$SRC" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DPYCHECK_STATIC=ON \
  -DPYCHECK_CURL_PREFIX="$prefix" \
  -DPYCHECK_TESTS="$TESTS" \
  -DPYCHECK_LTO="$LTO" \
  -DCMAKE_C_FLAGS="$sections" -DCMAKE_CXX_FLAGS="$sections" >&2
targets=(pycheck)
[[ "$TESTS" == ON ]] && targets+=(pycheck_tests)
ninja -C "$BUILD" "${targets[@]}" >&2

binary="$BUILD/pycheck"
echo "== file"
file "$binary" "$binary.unstripped"
echo "== ldd"
ldd_out="$(ldd "$binary" 2>&1 || true)"
echo "$ldd_out"
grep -qE 'not a dynamic executable|statically linked' <<<"$ldd_out" ||
  die "$binary is not static"
# The resolver and user database functions that need NSS (shared libraries) at
# run time must not be linked in at all; c-ares does the DNS.
linked() {  # defined functions of the unstripped binary matching an extended regex
  nm "$binary.unstripped" | awk -v re="^($1)$" '$2 ~ /^[TtWw]$/ && $3 ~ re {print $3}' | sort -u |
    tr '\n' ' '
}
nss_symbols="$(linked 'getaddrinfo|gethostbyname[0-9_r]*|getpw(nam|uid|ent)(_r)?|getgr(nam|gid|ent)(_r)?')"
[[ -z "$nss_symbols" ]] || die "NSS-dependent functions linked in: $nss_symbols"
echo "== nm: getaddrinfo, gethostbyname*, getpw*, getgr*: none"
# c-ares links getservbyname (ares_getaddrinfo) and getservbyport_r (ares_getnameinfo);
# libcurl passes numeric ports with ARES_AI_NUMERICSERV and never calls
# ares_getnameinfo, so they are not reached. glibc's own dlopen (gconv, NSS
# modules) is always in a static libc.
echo "== nm: linked but not called by pycheck: $(linked 'getservbyname|getservbyport_r|dlopen')"
size="$(stat -c %s "$binary")"
printf '== size\n%s: %d bytes (%s MiB) stripped, %d bytes unstripped\n' "$binary" "$size" \
  "$(awk -v s="$size" 'BEGIN {printf "%.2f", s / 1048576}')" "$(stat -c %s "$binary.unstripped")"
# What the InRelease verifier weighs: the code and tables of its own symbols
# (OpenPGP readers, the clearsigned split, the policy) and of libsodium's Ed25519,
# from the unstripped binary. mbedTLS's RSA and SHA-2 are shared with TLS: not counted.
verifier_bytes() {
  nm -S --size-sort "$binary.unstripped" | c++filt | python3 -c 'import re, sys
own = r"pycheck::.*([Oo]pen[Pp]gp|[Cc]learsigned|dearmor|crc24|Verifier|judge_signing_key)"
sodium = r"^_?(crypto_sign|crypto_hash_sha512|crypto_verify|ge25519|fe25519|sc25519|sodium_)"
pat = re.compile(own + "|" + sodium)
rows = (line.split(None, 3) for line in sys.stdin)
print(sum(int(f[1], 16) for f in rows if len(f) == 4 and pat.search(f[3])))'
}
echo "== InRelease verifier (OpenPGP readers and policy, libsodium Ed25519): $(verifier_bytes) bytes of symbols"
budget=$((4 * 1024 * 1024))
if ((size <= budget)); then
  echo "budget: $((budget - size)) bytes left under 4 MiB ($budget bytes)"
else
  die "stripped pycheck is $((size - budget)) bytes over the 4 MiB budget ($budget bytes)"
fi
log "done in $((SECONDS - started)) s"
