// CUDA error handling for the host side of the CUDA target: every runtime / cuBLASLt call goes through
// XPUSIM_CUDA_CHECK / XPUSIM_CUBLAS_CHECK, which turn a failure into xpusim::Error naming the call.
// Also: whether a usable device exists (tests skip with the reason when not). Non-goals: recovery.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "core/error.h"

namespace xpusim::cuda {

void check_cuda(cudaError_t status, const char* what, const char* file, int line);
void check_cublas(int status, const char* what, const char* file, int line);

// True when cudaGetDeviceCount succeeds with at least one device; otherwise false and `reason` says why.
bool device_available(std::string* reason = nullptr);
// "NVIDIA H100 80GB HBM3 (sm_90, 80 GiB)" for device 0.
std::string device_description();

}  // namespace xpusim::cuda

#define XPUSIM_CUDA_CHECK(call) ::xpusim::cuda::check_cuda((call), #call, __FILE__, __LINE__)
#define XPUSIM_CUBLAS_CHECK(call) \
  ::xpusim::cuda::check_cublas(static_cast<int>(call), #call, __FILE__, __LINE__)
