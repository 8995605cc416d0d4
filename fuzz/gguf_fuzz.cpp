// libFuzzer target: the GGUF container parser plus the model layer on top of it (config, weights with their
// transforms, tokenizer metadata), all on arbitrary bytes. xpusim::Error is the expected outcome for bad
// input; any other exception, crash or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "model/gguf.h"
#include "model/gguf_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xpusim::model;
  try {
    const GgufFile file = GgufFile::parse(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), "fuzz.gguf");
    volatile uint8_t sink = 0;
    for (const auto& info : file.tensors()) {
      if (info.bytes > 0)
        sink = sink ^ static_cast<uint8_t>(info.data[0]) ^ static_cast<uint8_t>(info.data[info.bytes - 1]);
    }
    for (const auto& [key, value] : file.metadata()) {
      if (value.type == GgufType::ARRAY && value.element_type == GgufType::STRING)
        (void)file.get_string_array(key);
    }
    try {
      (void)tokenizer_from_gguf(file);
    } catch (const xpusim::Error&) {
    }
    const ModelConfig config = config_from_gguf(file);
    // Bound the work: a tiny fuzz file can claim a huge model; weights only holds views for real tensors.
    if (config.param_count() < (int64_t{1} << 24)) (void)weights_from_gguf(config, file);
  } catch (const xpusim::Error&) {
  }
  return 0;
}
