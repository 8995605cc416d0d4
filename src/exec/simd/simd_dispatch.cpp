// Picks the SIMD level once per process (simd_kernels.h): the widest level the CPU has, capped by the
// XPUSIM_SIMD environment variable.
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "exec/simd/simd_kernels.h"

namespace xpusim::exec::simd {
namespace {

const SimdKernels& pick_level() {
  const char* cap_env = std::getenv("XPUSIM_SIMD");
  const std::string_view cap = cap_env ? cap_env : "";
  if (!cap.empty() && cap != "avx512" && cap != "avx2" && cap != "generic") {
    fail("XPUSIM_SIMD='{}' is not a SIMD level (avx512, avx2 or generic)", cap);
  }
  if (cap.empty() || cap == "avx512") {
    if (const SimdKernels* k = simd_kernels_avx512()) return *k;
  }
  if (cap.empty() || cap == "avx512" || cap == "avx2") {
    if (const SimdKernels* k = simd_kernels_avx2()) return *k;
  }
  return *simd_kernels_generic();
}

}  // namespace

const SimdKernels& simd_kernels() {
  static const SimdKernels& chosen = pick_level();
  return chosen;
}

const SimdKernels* simd_kernels_named(std::string_view name) {
  if (name == "avx512") return simd_kernels_avx512();
  if (name == "avx2") return simd_kernels_avx2();
  if (name == "generic") return simd_kernels_generic();
  return nullptr;
}

FusedDot fused_dot(const SimdKernels& kernels, DType dtype) {
  switch (dtype) {
    case DType::Q4_0:
      return kernels.dot_q4_0;
    case DType::Q4_1:
      return kernels.dot_q4_1;
    case DType::Q8_0:
      return kernels.dot_q8_0;
    case DType::Q4_K:
      return kernels.dot_q4_k;
    case DType::Q5_K:
      return kernels.dot_q5_k;
    case DType::Q6_K:
      return kernels.dot_q6_k;
    default:
      return nullptr;
  }
}

FusedDot fused_dot_numerics(const SimdKernels& kernels, numerics::Format format) {
  if (!kernels.exact_dots) return nullptr;
  switch (format) {
    case numerics::Format::Q4_0:
      return kernels.dot_q4_0;
    case numerics::Format::Q8_0:
      return kernels.dot_q8_0;
    default:
      return kernels.numerics_dot(format);
  }
}

}  // namespace xpusim::exec::simd
