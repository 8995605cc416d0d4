// Paths fixed at configure time (the source tree, the test data, the built CLI). They live in one generated
// source file each instead of in -D flags on every compile, so the compile commands are the same in every
// clone and ccache can reuse objects across checkouts (CI builds in a fresh clone). Force-included by CMake;
// the XPUSIM_SOURCE_DIR, XPUSIM_TEST_DATA and XPUSIM_BINARY macros expand to these calls.
#pragma once

namespace xpusim::build_paths {
const char* source_dir();     // xpusim_core (generated build_paths.cpp)
const char* test_data_dir();  // test executables only (generated test_paths.cpp)
const char* xpusim_binary();  // test executables only
}  // namespace xpusim::build_paths
