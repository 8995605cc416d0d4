#include "exec/executor.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/error.h"
#include "exec/kernels.h"
#include "graph/builder.h"
#include "numerics/decode.h"

namespace xpusim::exec {

using graph::TensorRole;

Executor::Executor(const model::ModelConfig& config, const model::Weights& weights, ExecOptions options)
    : m_config(config), m_weights(weights), m_pool(options.threads), m_kv(config, options.initial_context) {
  config.validate(config.name);
  // Bind a one-token graph now so a missing or misshapen tensor is reported before any work is done.
  graph::Graph probe = graph::build_step(m_config, graph::StepShape{1, 0, 1, false});
  probe.bind_weights(m_weights);
  for (const graph::Tensor& tensor : probe.tensors) {
    if (tensor.role == TensorRole::WEIGHT && tensor.shape.size() == 1) small_weight(tensor);
  }
}

// Activation buffers are recycled within and across steps: a fresh multi-MB vector per op costs page faults
// and zeroing of new pages (several % of a prefill step); a recycled one is already mapped and in cache.
std::vector<float> Executor::take_spare(size_t count) {
  size_t best = m_spare.size();
  for (size_t i = 0; i < m_spare.size(); ++i) {
    const size_t capacity = m_spare[i].capacity();
    if (capacity >= count && (best == m_spare.size() || capacity < m_spare[best].capacity())) best = i;
  }
  std::vector<float> buffer;
  if (best < m_spare.size()) {
    buffer = std::move(m_spare[best]);
    m_spare.erase(m_spare.begin() + static_cast<std::ptrdiff_t>(best));
  }
  buffer.assign(count, 0.0f);  // kernels may rely on zeroed outputs; no reallocation when it fits
  return buffer;
}

void Executor::give_back(std::shared_ptr<std::vector<float>>& storage) {
  constexpr size_t kMaxSpare = 32;  // bounds the memory held between steps
  if (storage && storage.use_count() == 1 && m_spare.size() < kMaxSpare)
    m_spare.push_back(std::move(*storage));
  storage.reset();
}

const float* Executor::small_weight(const graph::Tensor& tensor) {
  auto it = m_small_weights.find(tensor.name);
  if (it != m_small_weights.end()) return it->second.data();
  const model::TensorView& view = m_weights.get(tensor.name, tensor.shape);
  std::vector<float> values(static_cast<size_t>(view.elements()));
  numerics::decode_to_f32(view.dtype, view.data, values.data(), values.size());
  return m_small_weights.emplace(tensor.name, std::move(values)).first->second.data();
}

void Executor::rewind(int64_t position) {
  if (position < 0 || position > m_position)
    fail("{}: cannot rewind to position {} (at {})", m_config.name, position, m_position);
  m_position = position;
}

std::vector<float> Executor::forward(std::span<const int32_t> tokens, bool all_logits) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) fail("{}: forward() needs at least one token", m_config.name);
  if (m_kv.capacity() < m_position + n) m_kv.reserve(std::max(m_position + n, 2 * m_kv.capacity()));
  graph::Graph g = graph::build_step(m_config, graph::StepShape{n, m_position, m_kv.capacity(), all_logits});
  g.bind_weights(m_weights);

  // Inputs.
  std::vector<int32_t> positions(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) positions[static_cast<size_t>(i)] = static_cast<int32_t>(m_position + i);

  // Buffers: inputs and weights point at caller / checkpoint memory, KV tensors at the cache, activations get
  // storage when produced and lose it after their last reader (RESHAPE outputs share their input's storage).
  const size_t n_tensors = g.tensors.size();
  std::vector<Buffer> buffers(n_tensors);
  std::vector<std::shared_ptr<std::vector<float>>> storage(n_tensors);
  std::vector<size_t> last_use(n_tensors, 0);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    for (graph::TensorId input : g.ops[i].inputs) last_use[static_cast<size_t>(input)] = i;
  }
  for (size_t t = 0; t < n_tensors; ++t) {
    const graph::Tensor& tensor = g.tensors[t];
    Buffer& buffer = buffers[t];
    buffer.tensor = &tensor;
    switch (tensor.role) {
      case TensorRole::INPUT:
        buffer.ids = static_cast<graph::TensorId>(t) == g.tokens ? tokens.data() : positions.data();
        break;
      case TensorRole::WEIGHT:
        buffer.weight = &m_weights.get(tensor.name);
        if (tensor.shape.size() == 1) buffer.weight_f32 = small_weight(tensor);
        break;
      case TensorRole::KV_CACHE: {
        // Names are blk.<layer>.k_cache / v_cache (BlockBuilder).
        int64_t layer = std::stoll(tensor.name.substr(4, tensor.name.find('.', 4) - 4));
        buffer.f32 = tensor.name.ends_with("k_cache") ? m_kv.keys(layer) : m_kv.values(layer);
        break;
      }
      case TensorRole::ACTIVATION:
        break;
    }
  }

  for (size_t i = 0; i < g.ops.size(); ++i) {
    const graph::Op& op = g.ops[i];
    Buffer& out = buffers[static_cast<size_t>(op.output)];
    if (op.kind == graph::OpKind::RESHAPE) {
      storage[static_cast<size_t>(op.output)] = storage[static_cast<size_t>(op.inputs[0])];
      out.f32 = buffers[static_cast<size_t>(op.inputs[0])].f32;
    } else if (g.tensors[static_cast<size_t>(op.output)].role == TensorRole::ACTIVATION) {
      auto data =
          std::make_shared<std::vector<float>>(take_spare(static_cast<size_t>(out.tensor->elements())));
      out.f32 = data->data();
      storage[static_cast<size_t>(op.output)] = std::move(data);
    }
    KernelArgs args{op, {}, out, m_pool};
    args.in.reserve(op.inputs.size());
    for (graph::TensorId input : op.inputs) args.in.push_back(&buffers[static_cast<size_t>(input)]);
    if (m_profile) {
      const auto start = std::chrono::steady_clock::now();
      kernel_for(op.kind)(args);
      m_profile->add(args, std::chrono::steady_clock::now() - start);
    } else {
      kernel_for(op.kind)(args);
    }
    for (graph::TensorId input : op.inputs) {
      if (last_use[static_cast<size_t>(input)] == i && input != g.logits)
        give_back(storage[static_cast<size_t>(input)]);
    }
  }

  m_last_step = StepStats{g.total_flops(), g.total_bytes(), g.ops.size()};
  m_position += n;
  const std::vector<float>& logits = *storage[static_cast<size_t>(g.logits)];
  if (all_logits || g.tensors[static_cast<size_t>(g.logits)].shape[0] == 1) return logits;
  return std::vector<float>(logits.end() - m_config.vocab_size, logits.end());
}

}  // namespace xpusim::exec
