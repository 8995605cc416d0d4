# Shared build settings. One function per kind of target so every target gets the same flags.

function(xpusim_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wshadow=local)
  endif()
  if(XPUSIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(XPUSIM_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
endfunction()

if(XPUSIM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(XPUSIM_FUZZ)
  # Every library is instrumented for coverage so the fuzzers can see inside the parsers.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# xpusim_add_library(<dir> DEPS ...): library xpusim_<dir> from every .cpp under src/<dir> (impl/ included).
function(xpusim_add_library dir)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${dir}/*.cpp)
  if(NOT sources)  # a directory whose first file has not landed yet
    add_library(xpusim_${dir} INTERFACE)
    target_include_directories(xpusim_${dir} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(xpusim_${dir} INTERFACE ${ARG_DEPS})
    return()
  endif()
  if(dir STREQUAL "core")
    configure_file(${PROJECT_SOURCE_DIR}/cmake/build_paths.cpp.in ${PROJECT_BINARY_DIR}/generated/build_paths.cpp @ONLY)
    list(APPEND sources ${PROJECT_BINARY_DIR}/generated/build_paths.cpp)
  endif()
  add_library(xpusim_${dir} STATIC ${sources})
  target_include_directories(xpusim_${dir} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(xpusim_${dir} PUBLIC ${ARG_DEPS})
  # No absolute path on any compile line (see core/build_paths.h): the same flags in every clone let ccache hit.
  target_compile_definitions(xpusim_${dir} PUBLIC XPUSIM_VERSION="${PROJECT_VERSION}"
                             "XPUSIM_SOURCE_DIR=(::xpusim::build_paths::source_dir())")
  target_compile_options(xpusim_${dir} PUBLIC -include ${PROJECT_SOURCE_DIR}/src/core/build_paths.h)
  xpusim_target_options(xpusim_${dir})
endfunction()
