// libFuzzer target: the safetensors header/offset parser on arbitrary bytes (parse_safetensors works on
// memory). xpusim::Error is the expected outcome for bad input; any other exception, crash or sanitizer
// report is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto file = xpusim::model::parse_safetensors(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), "fuzz.safetensors");
    // Touch every view so out-of-range views show up under ASan.
    volatile uint8_t sink = 0;
    for (const auto& view : file.tensors) {
      if (view.bytes > 0)
        sink = sink ^ static_cast<uint8_t>(view.data[0]) ^ static_cast<uint8_t>(view.data[view.bytes - 1]);
      (void)view.elements();
    }
  } catch (const xpusim::Error&) {
  }
  return 0;
}
