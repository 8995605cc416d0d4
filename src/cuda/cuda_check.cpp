#include "cuda/cuda_check.h"

#include <fmt/format.h>

namespace xpusim::cuda {

void check_cuda(cudaError_t status, const char* what, const char* file, int line) {
  if (status == cudaSuccess) return;
  fail("cuda: {} failed at {}:{}: {} ({})", what, file, line, cudaGetErrorName(status),
       cudaGetErrorString(status));
}

void check_cublas(int status, const char* what, const char* file, int line) {
  if (status == 0) return;  // CUBLAS_STATUS_SUCCESS
  fail("cuda: {} failed at {}:{}: cublas status {}", what, file, line, status);
}

bool device_available(std::string* reason) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (reason) *reason = fmt::format("cudaGetDeviceCount failed: {}", cudaGetErrorString(status));
    cudaGetLastError();  // clear the sticky error so later calls report their own
    return false;
  }
  if (count == 0) {
    if (reason) *reason = "cudaGetDeviceCount returned 0 devices";
    return false;
  }
  return true;
}

std::string device_description() {
  cudaDeviceProp prop{};
  XPUSIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  return fmt::format("{} (sm_{}{}, {} GiB)", prop.name, prop.major, prop.minor, prop.totalGlobalMem >> 30);
}

}  // namespace xpusim::cuda
