# The CUDA target (src/cuda -> xpusim_cuda). XPUSIM_CUDA=AUTO builds it when check_language(CUDA) finds nvcc,
# ON requires it, OFF skips it. Sets XPUSIM_CUDA_ENABLED for the CLI and tests/CMakeLists.txt. .cu files hold
# the kernels (nvcc, sm_80 + sm_90); .cpp files are host code built with the project's warning flags.
set(XPUSIM_CUDA_ENABLED OFF)
if(NOT XPUSIM_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(XPUSIM_CUDA_ENABLED ON)
  elseif(XPUSIM_CUDA STREQUAL "ON")
    message(FATAL_ERROR "XPUSIM_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER)")
  else()
    message(STATUS "xpusim: no CUDA compiler found, src/cuda is not built")
  endif()
endif()

if(XPUSIM_CUDA_ENABLED)
  file(GLOB_RECURSE xpusim_cuda_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/cuda/*.cpp
       ${PROJECT_SOURCE_DIR}/src/cuda/*.cu)
  add_library(xpusim_cuda STATIC ${xpusim_cuda_sources})
  set_target_properties(xpusim_cuda PROPERTIES CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON
                                               CUDA_SEPARABLE_COMPILATION OFF)
  target_include_directories(xpusim_cuda PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(xpusim_cuda PUBLIC xpusim_runtime CUDA::cudart CUDA::cublasLt)
  target_compile_definitions(xpusim_cuda PUBLIC XPUSIM_HAVE_CUDA=1)
  # Host warning flags only for the .cpp files; nvcc gets its own.
  file(GLOB_RECURSE xpusim_cuda_cpp CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/cuda/*.cpp)
  set_source_files_properties(${xpusim_cuda_cpp} PROPERTIES COMPILE_OPTIONS
                              "-Wall;-Wextra;-Wpedantic;-Wno-missing-field-initializers;$<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>;$<$<BOOL:${XPUSIM_WERROR}>:-Werror>")
  target_compile_options(xpusim_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -lineinfo
                         -Xcompiler=-Wall $<$<BOOL:${XPUSIM_WERROR}>:-Werror=all-warnings>>)
endif()
