# The guard of the `unit` test (tests/CMakeLists.txt): the tests its FILTER
# selects hold no hidden test and none tagged for integration only (a tag
# naming "integration"). Those need roots and privileges a unit run lacks, and
# a Catch2 spec made only of exclusions selects hidden tests too.
#
#   cmake -DTESTS=path/to/pycheck_tests -DFILTER='~[.]' -P tests/unit_selection.cmake
#
# Catch2 v2 gives a hidden test ([.] or [.name]) the tags [.] and [!hide], so
# the tags of the selection tell. --list-tags exits with the number of tags
# listed, not with an error status: the output is what counts.
if(NOT TESTS OR NOT DEFINED FILTER)
  message(FATAL_ERROR "usage: cmake -DTESTS=pycheck_tests -DFILTER=spec -P unit_selection.cmake")
endif()
execute_process(COMMAND "${TESTS}" --list-tags "${FILTER}" OUTPUT_VARIABLE listing
                ERROR_VARIABLE errors)
if(NOT listing MATCHES "matching test cases")
  message(FATAL_ERROR "cannot list the tags of '${FILTER}':\n${listing}${errors}")
endif()
string(REGEX MATCHALL "\\[[^]\n]*\\]" tags "${listing}")
if(NOT tags)
  message(FATAL_ERROR "'${FILTER}' selects no test at all:\n${listing}")
endif()
set(unwanted "")
foreach(tag IN LISTS tags)
  if(tag STREQUAL "[.]" OR tag STREQUAL "[!hide]" OR tag MATCHES "integration")
    list(APPEND unwanted "${tag}")
  endif()
endforeach()
if(unwanted)
  # Which tests: the selection's hidden ones (a spec's patterns AND together).
  execute_process(COMMAND "${TESTS}" --list-test-names-only "${FILTER}[.]"
                  OUTPUT_VARIABLE hidden ERROR_QUIET)
  string(JOIN " " unwanted ${unwanted})
  message(FATAL_ERROR "the unit run '${FILTER}' selects tests tagged ${unwanted}; "
                      "hidden among them:\n${hidden}")
endif()
message(STATUS "'${FILTER}' selects no hidden or integration-only test")
