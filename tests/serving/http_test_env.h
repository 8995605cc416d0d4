// What the HTTP tests of `xpusim serve` need to know about the build they run in. A sanitizer build runs the
// SmolLM2-135M forward pass ~10x slower on an idle 2-core machine (~50x when it is shared), so there the time
// bounds are scaled by kSlowdown: what those runs check is the server's memory safety under hostile clients,
// and the Release run checks the latencies. XPUSIM_SANITIZER_HTTP_TESTS=0 skips them in a sanitizer build
// (a machine too busy for even the scaled bounds).
#pragma once

#include <cstdlib>
#include <string>

namespace xpusim::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

inline constexpr double kSlowdown = kSanitized ? 10.0 : 1.0;

inline bool http_tests_skipped_here() {
  const char* run = std::getenv("XPUSIM_SANITIZER_HTTP_TESTS");
  return kSanitized && run != nullptr && std::string(run) == "0";
}

inline constexpr const char* kSkippedReason =
    "sanitizer build with XPUSIM_SANITIZER_HTTP_TESTS=0: SmolLM2 generation is 10-50x slower here";

}  // namespace xpusim::test
