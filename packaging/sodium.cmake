# libsodium for pycheck (Ed25519 signatures of Debian's release keys): defines the
# target pycheck::sodium.
#
# Release (static) builds use the libsodium that packaging/build-deps.sh builds
# from Debian's source (the installed libsodium-dev's version) into the same
# prefix as libcurl (PYCHECK_CURL_PREFIX, set up by packaging/curl.cmake, included
# first): -Os with a section per function. In Debian's libsodium.a, sodium_misuse
# (which the Ed25519 verifier reaches through utils.o) shares core.o's one text
# section with sodium_init and so links every cipher's implementation picker
# (about 70 KB). Dev builds use the system library.

if(PYCHECK_CURL_PREFIX)
  set(_pycheck_sodium_archive "${PYCHECK_CURL_PREFIX}/lib/libsodium.a")
  if(NOT EXISTS "${_pycheck_sodium_archive}")
    message(FATAL_ERROR "${PYCHECK_CURL_PREFIX} has no libsodium.a: it was made by an older "
                        "packaging/build-deps.sh; run it again and pass the prefix it prints")
  endif()
  add_library(pycheck::sodium STATIC IMPORTED)
  set_target_properties(pycheck::sodium PROPERTIES
    IMPORTED_LOCATION "${_pycheck_sodium_archive}"
    INTERFACE_INCLUDE_DIRECTORIES "${PYCHECK_CURL_PREFIX}/include")
  message(STATUS "libsodium: static ${PYCHECK_CURL_PREFIX} "
                 "(Debian libsodium ${PYCHECK_SODIUM_DEBIAN_VERSION})")
else()
  find_library(SODIUM_LIB NAMES libsodium.a sodium REQUIRED)
  add_library(pycheck::sodium INTERFACE IMPORTED)
  target_link_libraries(pycheck::sodium INTERFACE ${SODIUM_LIB})
  message(STATUS "libsodium: system ${SODIUM_LIB}")
endif()
