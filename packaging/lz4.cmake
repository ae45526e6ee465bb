# liblz4 for pycheck: defines the target pycheck::lz4.
#
# Release (static) builds use the liblz4 that packaging/build-deps.sh builds from
# Debian's lz4 source (the installed liblz4-dev's version) into the same prefix as
# libcurl (PYCHECK_CURL_PREFIX, set up by packaging/curl.cmake, included first):
# -Os with a section per function, so the static link keeps only the decompressor.
# Debian's own liblz4.a has no sections: its lz4frame.o brings the whole
# compressor (about 80 KB) along. Dev builds use the system library.

if(PYCHECK_CURL_PREFIX)
  set(_pycheck_lz4_archive "${PYCHECK_CURL_PREFIX}/lib/liblz4.a")
  if(NOT EXISTS "${_pycheck_lz4_archive}")
    message(FATAL_ERROR "${PYCHECK_CURL_PREFIX} has no liblz4.a: it was made by an older "
                        "packaging/build-deps.sh; run it again and pass the prefix it prints")
  endif()
  add_library(pycheck::lz4 STATIC IMPORTED)
  set_target_properties(pycheck::lz4 PROPERTIES
    IMPORTED_LOCATION "${_pycheck_lz4_archive}"
    INTERFACE_INCLUDE_DIRECTORIES "${PYCHECK_CURL_PREFIX}/include")
  message(STATUS "liblz4: static ${PYCHECK_CURL_PREFIX} (Debian lz4 ${PYCHECK_LZ4_DEBIAN_VERSION})")
else()
  find_library(LZ4_LIB NAMES liblz4.a lz4 REQUIRED)
  add_library(pycheck::lz4 INTERFACE IMPORTED)
  target_link_libraries(pycheck::lz4 INTERFACE ${LZ4_LIB})
  message(STATUS "liblz4: system ${LZ4_LIB}")
endif()
