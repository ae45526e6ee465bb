# Placeholder until the static libcurl build lands: the system's libcurl.
find_package(CURL REQUIRED)
add_library(pycheck::curl INTERFACE IMPORTED)
target_link_libraries(pycheck::curl INTERFACE CURL::libcurl)
