// KvCache: the per-sequence attention state of the host executor. For each layer one K and one V array of
// fp32 rows [capacity, n_kv_heads * head_dim]; row p holds the (post-RoPE) key / value of position p. Grows
// on demand, keeping the rows already written. Sliding-window layers keep all rows too (simple; the window is
// applied when reading). Non-goals: paging, prefix sharing, quantized caches (serving issues).
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace xpusim::exec {

class KvCache {
 public:
  explicit KvCache(const model::ModelConfig& config, int64_t capacity = 0);

  int64_t capacity() const { return m_capacity; }
  int64_t row_width() const { return m_width; }
  // Grows every layer to hold at least `capacity` rows (never shrinks).
  void reserve(int64_t capacity);
  float* keys(int64_t layer) { return m_keys[static_cast<size_t>(layer)].data(); }
  float* values(int64_t layer) { return m_values[static_cast<size_t>(layer)].data(); }
  size_t bytes() const;

 private:
  int64_t m_capacity = 0;
  int64_t m_width = 0;
  std::vector<std::vector<float>> m_keys;
  std::vector<std::vector<float>> m_values;
};

}  // namespace xpusim::exec
