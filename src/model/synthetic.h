// Synthetic weights: deterministic stand-in weights of a config's exact shapes, for presets whose real
// checkpoint is not on this machine. Same config + seed -> the same bytes on every run and machine. Values:
// linear and embedding weights ~ 0.02 * (approximately normal), norm weights 1 (Gemma's (1+w) norms: 0),
// biases 0; stored as BF16 (tensor_specs decides the tensor list). Every output that uses them says
// "synthetic". Non-goals: realistic text (the output is noise), quantized storage.
#pragma once

#include <cstdint>
#include <string>

#include "model/config.h"
#include "model/weights.h"

namespace xpusim::model {

inline constexpr uint64_t kSyntheticSeed = 0x5eed2026;

// Bytes the synthetic weights of `config` occupy (BF16 storage).
size_t synthetic_weight_bytes(const ModelConfig& config);
// "synthetic (seed 0x5eed2026)"
std::string synthetic_source(uint64_t seed);

// Materialises every tensor. Throws xpusim::Error (before allocating) when the weights would not fit in the
// memory this machine has available, naming the model, the bytes needed and the bytes available.
Weights make_synthetic_weights(const ModelConfig& config, uint64_t seed = kSyntheticSeed);

// MemAvailable of /proc/meminfo in bytes, 0 if unknown.
size_t available_memory_bytes();

}  // namespace xpusim::model
