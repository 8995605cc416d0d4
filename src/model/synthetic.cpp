#include "model/synthetic.h"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <string_view>
#include <thread>

#include "core/error.h"
#include "model/tensor_specs.h"
#include "numerics/decode.h"

namespace xpusim::model {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// FNV-1a: a stable per-name stream, so adding a tensor never changes the values of the others.
uint64_t name_hash(std::string_view name) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : name) hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return hash;
}

enum class Fill { RANDOM, ONES, ZEROS };

Fill fill_for(const ModelConfig& config, const TensorSpec& spec) {
  if (spec.name.ends_with(".bias")) return Fill::ZEROS;
  if (spec.shape.size() == 1) return config.norm == NormKind::RMS_NORM_PLUS_ONE ? Fill::ZEROS : Fill::ONES;
  return Fill::RANDOM;
}

std::vector<std::byte> make_tensor(const ModelConfig& config, const TensorSpec& spec, uint64_t seed) {
  const size_t n = static_cast<size_t>(spec.elements());
  std::vector<std::byte> bytes(n * 2);
  auto* out = reinterpret_cast<uint16_t*>(bytes.data());
  const Fill fill = fill_for(config, spec);
  if (fill != Fill::RANDOM) {
    const uint16_t value = numerics::f32_to_bf16(fill == Fill::ONES ? 1.0f : 0.0f);
    for (size_t i = 0; i < n; ++i) out[i] = value;
    return bytes;
  }
  uint64_t state = seed ^ name_hash(spec.name);
  for (size_t i = 0; i < n; ++i) {
    // Sum of four 16-bit uniforms: mean 0, close to normal, unit variance after scaling; times 0.02.
    uint64_t r = splitmix64(state);
    double sum = 0;
    for (int k = 0; k < 4; ++k) sum += static_cast<double>((r >> (16 * k)) & 0xffff) / 65535.0;
    const double normalish = (sum - 2.0) * 1.7320508075688772;  // sqrt(12 / 4)
    out[i] = numerics::f32_to_bf16(static_cast<float>(0.02 * normalish));
  }
  return bytes;
}

}  // namespace

size_t synthetic_weight_bytes(const ModelConfig& config) {
  size_t total = 0;
  for (const TensorSpec& spec : tensor_specs(config)) total += static_cast<size_t>(spec.elements()) * 2;
  return total;
}

std::string synthetic_source(uint64_t seed) { return fmt::format("synthetic (seed {:#x})", seed); }

size_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  size_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

Weights make_synthetic_weights(const ModelConfig& config, uint64_t seed) {
  config.validate(config.name);
  const size_t needed = synthetic_weight_bytes(config);
  const size_t available = available_memory_bytes();
  if (available > 0 && needed > available / 10 * 9) {
    fail(
        "{}: synthetic weights need {:.1f} GB of memory, but only {:.1f} GB is available on this machine; "
        "use a "
        "smaller preset, or real weights from a checkpoint (GGUF and safetensors files are mmapped)",
        config.name, static_cast<double>(needed) / 1e9, static_cast<double>(available) / 1e9);
  }
  const std::vector<TensorSpec> specs = tensor_specs(config);
  std::vector<std::vector<std::byte>> data(specs.size());
  // Two interleaved halves on two threads: generation of a 1B model takes seconds, not tens of seconds.
  auto work = [&](size_t first) {
    for (size_t i = first; i < specs.size(); i += 2) data[i] = make_tensor(config, specs[i], seed);
  };
  std::thread helper(work, 1);
  work(0);
  helper.join();
  Weights weights;
  weights.source = synthetic_source(seed);
  weights.synthetic = true;
  for (size_t i = 0; i < specs.size(); ++i) {
    weights.add_owned(specs[i].name, DType::BF16, specs[i].shape, std::move(data[i]));
  }
  return weights;
}

}  // namespace xpusim::model
