#include "exec/kv_cache.h"

namespace xpusim::exec {

KvCache::KvCache(const model::ModelConfig& config, int64_t capacity)
    : m_width(config.n_kv_heads * config.head_dim),
      m_keys(static_cast<size_t>(config.n_layers)),
      m_values(static_cast<size_t>(config.n_layers)) {
  reserve(capacity);
}

void KvCache::reserve(int64_t capacity) {
  if (capacity <= m_capacity) return;
  const size_t floats = static_cast<size_t>(capacity * m_width);
  for (auto& layer : m_keys) layer.resize(floats);
  for (auto& layer : m_values) layer.resize(floats);
  m_capacity = capacity;
}

size_t KvCache::bytes() const {
  return 2 * m_keys.size() * static_cast<size_t>(m_capacity * m_width) * sizeof(float);
}

}  // namespace xpusim::exec
