# libcurl for pycheck: defines the target pycheck::curl.
#
# Release (static) builds use the small libcurl that packaging/build-deps.sh
# builds from Debian's source (HTTP/HTTPS only, c-ares resolver, mbedTLS, zlib):
#   -DPYCHECK_CURL_PREFIX=<prefix printed by build-deps.sh>
# With PYCHECK_STATIC=ON and no prefix, build-deps.sh is run here (instant when its
# cache is warm): Debian's own libcurl.a cannot be linked statically (it needs
# GSSAPI/LDAP, and its threaded resolver goes through getaddrinfo and NSS).
# Dev builds without a prefix use the system libcurl (libcurl4-openssl-dev).

set(PYCHECK_CURL_PREFIX "" CACHE PATH
    "Prefix of the static libcurl built by packaging/build-deps.sh (empty: system libcurl)")

if(PYCHECK_STATIC AND NOT PYCHECK_CURL_PREFIX)
  message(STATUS "libcurl: running packaging/build-deps.sh for the static build")
  execute_process(COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/build-deps.sh"
                  OUTPUT_VARIABLE _pycheck_deps_out RESULT_VARIABLE _pycheck_deps_rc
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _pycheck_deps_rc EQUAL 0)
    message(FATAL_ERROR "packaging/build-deps.sh failed; run it (as root) to see why")
  endif()
  string(REGEX REPLACE ".*\n" "" _pycheck_deps_prefix "${_pycheck_deps_out}")
  set(PYCHECK_CURL_PREFIX "${_pycheck_deps_prefix}" CACHE PATH "" FORCE)
endif()

if(PYCHECK_CURL_PREFIX)
  if(NOT EXISTS "${PYCHECK_CURL_PREFIX}/pycheck-deps.cmake")
    message(FATAL_ERROR "PYCHECK_CURL_PREFIX=${PYCHECK_CURL_PREFIX} is not a prefix made by "
                        "packaging/build-deps.sh (no pycheck-deps.cmake)")
  endif()
  include("${PYCHECK_CURL_PREFIX}/pycheck-deps.cmake")

  # Each dependency as its static archive, so the link needs no .so at all.
  function(pycheck_find_static_archive var name)
    find_library(${var} NAMES lib${name}.a NO_CACHE REQUIRED)
    set(${var} "${${var}}" PARENT_SCOPE)
  endfunction()

  set(_pycheck_curl_deps "")
  if(PYCHECK_CURL_TLS STREQUAL "mbedtls")
    # Order matters for a static link: each archive before the ones it uses.
    pycheck_find_static_archive(_mbedtls mbedtls)
    pycheck_find_static_archive(_mbedx509 mbedx509)
    pycheck_find_static_archive(_mbedcrypto mbedcrypto)
    list(APPEND _pycheck_curl_deps ${_mbedtls} ${_mbedx509} ${_mbedcrypto})
  elseif(PYCHECK_CURL_TLS STREQUAL "openssl")
    pycheck_find_static_archive(_ssl ssl)
    pycheck_find_static_archive(_crypto crypto)
    list(APPEND _pycheck_curl_deps ${_ssl} ${_crypto})
  else()
    message(FATAL_ERROR "unknown TLS backend '${PYCHECK_CURL_TLS}' in ${PYCHECK_CURL_PREFIX}")
  endif()
  if(PYCHECK_CURL_USES_CARES)
    pycheck_find_static_archive(_cares cares)
    list(APPEND _pycheck_curl_deps ${_cares})
  endif()
  if(PYCHECK_CURL_USES_ZLIB)
    pycheck_find_static_archive(_z z)
    list(APPEND _pycheck_curl_deps ${_z})
  endif()

  add_library(pycheck::curl STATIC IMPORTED)
  set_target_properties(pycheck::curl PROPERTIES
    IMPORTED_LOCATION "${PYCHECK_CURL_PREFIX}/lib/libcurl.a"
    INTERFACE_INCLUDE_DIRECTORIES "${PYCHECK_CURL_PREFIX}/include"
    INTERFACE_COMPILE_DEFINITIONS "CURL_STATICLIB"
    INTERFACE_LINK_LIBRARIES "${_pycheck_curl_deps}")
  message(STATUS "libcurl: static ${PYCHECK_CURL_PREFIX} (Debian curl "
                 "${PYCHECK_CURL_DEBIAN_VERSION}, ${PYCHECK_CURL_TLS}, c-ares)")
else()
  find_package(CURL REQUIRED)
  add_library(pycheck::curl INTERFACE IMPORTED)
  target_link_libraries(pycheck::curl INTERFACE CURL::libcurl)
  message(STATUS "libcurl: system ${CURL_VERSION_STRING} (dev build)")
endif()
