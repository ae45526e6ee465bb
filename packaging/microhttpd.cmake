# libmicrohttpd for `pycheck serve`: defines the target pycheck::microhttpd.
#
# Release (static) builds use the small plain-HTTP libmicrohttpd that
# packaging/build-deps.sh builds from Debian's source into the same prefix as
# libcurl (PYCHECK_CURL_PREFIX, set up by packaging/curl.cmake, included first).
# Dev builds without a prefix use the system library (libmicrohttpd-dev) through
# pkg-config.

if(PYCHECK_CURL_PREFIX)
  set(_pycheck_mhd_archive "${PYCHECK_CURL_PREFIX}/lib/libmicrohttpd.a")
  if(NOT EXISTS "${_pycheck_mhd_archive}")
    message(FATAL_ERROR "${PYCHECK_CURL_PREFIX} has no libmicrohttpd.a: it was made by an older "
                        "packaging/build-deps.sh; run it again and pass the prefix it prints")
  endif()
  add_library(pycheck::microhttpd STATIC IMPORTED)
  set_target_properties(pycheck::microhttpd PROPERTIES
    IMPORTED_LOCATION "${_pycheck_mhd_archive}"
    INTERFACE_INCLUDE_DIRECTORIES "${PYCHECK_CURL_PREFIX}/include"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
  message(STATUS "libmicrohttpd: static ${PYCHECK_CURL_PREFIX} (Debian libmicrohttpd "
                 "${PYCHECK_MICROHTTPD_DEBIAN_VERSION})")
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(PYCHECK_MHD REQUIRED IMPORTED_TARGET libmicrohttpd>=0.9.71)
  add_library(pycheck::microhttpd INTERFACE IMPORTED)
  target_link_libraries(pycheck::microhttpd INTERFACE PkgConfig::PYCHECK_MHD)
  message(STATUS "libmicrohttpd: system ${PYCHECK_MHD_VERSION} (dev build)")
endif()
