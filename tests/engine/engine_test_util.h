// Helpers shared by the engine tests: random bf16 data in SRAM, records by pc.
#pragma once

#include <random>
#include <vector>

#include "engine/simulator.h"
#include "numerics/float_bits.h"

namespace xpusim::engine::test {

inline uint16_t random_bf16(std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  return numerics::bits::f32_to_bf16(dist(rng));
}

inline void fill_bf16(EngineState& state, uint64_t address, size_t count, std::mt19937& rng,
                      float scale = 1.0f) {
  for (size_t i = 0; i < count; ++i) state.store_u16(address + 2 * i, random_bf16(rng, scale));
}

inline void fill_bytes(EngineState& state, uint64_t address, size_t count, std::mt19937& rng) {
  for (size_t i = 0; i < count; ++i) state.sram[address + i] = static_cast<uint8_t>(rng());
}

inline const InstrRecord& record_at(const RunResult& result, uint32_t pc, int engine = 0) {
  for (const InstrRecord& r : result.records)
    if (r.pc == pc && r.engine == engine) return r;
  throw std::runtime_error("no record for pc");
}

}  // namespace xpusim::engine::test
