#include "cuda/cuda_executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "cuda/cuda_check.h"
#include "cuda/device_kernels.h"
#include "graph/builder.h"
#include "model/rope.h"

namespace xpusim::cuda {

using graph::OpKind;
using graph::TensorRole;

namespace {

int64_t layer_of_cache(const std::string& name) {  // blk.<layer>.k_cache / v_cache (BlockBuilder)
  return std::stoll(name.substr(4, name.find('.', 4) - 4));
}

}  // namespace

CudaExecutor::CudaExecutor(const model::ModelConfig& config, const model::Weights& weights,
                           CudaOptions options)
    : m_config(config), m_weights(weights), m_options(options) {
  config.validate(config.name);
  std::string reason;
  if (!device_available(&reason)) fail("cuda target: no usable CUDA device ({})", reason);
  XPUSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking));
  m_gemm = std::make_unique<CublasGemm>();
  graph::Graph probe = graph::build_step(m_config, graph::StepShape{1, 0, 1, false});
  probe.bind_weights(m_weights);
  for (const graph::Tensor& tensor : probe.tensors) {
    if (tensor.role == TensorRole::WEIGHT) m_weights_device.upload(m_weights, tensor.name);
    if (tensor.role == TensorRole::KV_CACHE) m_kv_width = tensor.shape.back();
  }
  for (const graph::Op& op : probe.ops) {
    if (op.kind == OpKind::MOE)
      fail("cuda target: {}: MoE layers are not implemented on the GPU yet", config.name);
    if (op.kind == OpKind::ATTENTION && op.attrs.head_dim > kMaxHeadDim)
      fail("cuda target: {}: head_dim {} > {} is not supported", config.name, op.attrs.head_dim, kMaxHeadDim);
  }
  // The uploads used cudaMemcpy on the legacy stream, which m_stream (non-blocking) does not wait for.
  XPUSIM_CUDA_CHECK(cudaDeviceSynchronize());
  m_keys.assign(static_cast<size_t>(m_config.n_layers), nullptr);
  m_values.assign(static_cast<size_t>(m_config.n_layers), nullptr);
  reserve_kv(std::max<int64_t>(options.initial_context, 1));
}

CudaExecutor::~CudaExecutor() {
  if (m_stream) cudaStreamSynchronize(m_stream);
  for (PoolBuffer& buffer : m_pool) cudaFree(buffer.ptr);
  for (float* p : m_keys) cudaFree(p);
  for (float* p : m_values) cudaFree(p);
  for (auto& entry : m_inv_freq) cudaFree(entry.second);
  cudaFree(m_ids);
  m_gemm.reset();
  if (m_stream) cudaStreamDestroy(m_stream);
}

size_t CudaExecutor::kv_bytes() const {
  return 2 * m_keys.size() * static_cast<size_t>(m_kv_capacity * m_kv_width) * sizeof(float);
}

void CudaExecutor::reserve_kv(int64_t capacity) {
  if (capacity <= m_kv_capacity) return;
  const size_t bytes = static_cast<size_t>(capacity * m_kv_width) * sizeof(float);
  const size_t keep = static_cast<size_t>(m_position * m_kv_width) * sizeof(float);
  for (std::vector<float*>* arrays : {&m_keys, &m_values}) {
    for (float*& array : *arrays) {
      float* grown = nullptr;
      XPUSIM_CUDA_CHECK(cudaMalloc(&grown, bytes));
      if (array && keep > 0)
        XPUSIM_CUDA_CHECK(cudaMemcpyAsync(grown, array, keep, cudaMemcpyDeviceToDevice, m_stream));
      XPUSIM_CUDA_CHECK(cudaStreamSynchronize(m_stream));
      cudaFree(array);
      array = grown;
    }
  }
  m_kv_capacity = capacity;
}

// Smallest free buffer that fits, else a new one. Reuse is safe without events: every kernel runs on
// m_stream.
void* CudaExecutor::take(size_t bytes) {
  bytes = std::max<size_t>(bytes, 256);
  PoolBuffer* best = nullptr;
  for (PoolBuffer& buffer : m_pool) {
    if (!buffer.busy && buffer.bytes >= bytes && (!best || buffer.bytes < best->bytes)) best = &buffer;
  }
  if (!best) {
    PoolBuffer fresh;
    XPUSIM_CUDA_CHECK(cudaMalloc(&fresh.ptr, bytes));
    fresh.bytes = bytes;
    m_pool.push_back(fresh);
    best = &m_pool.back();
  }
  best->busy = true;
  return best->ptr;
}

void CudaExecutor::release(void* ptr) {
  for (PoolBuffer& buffer : m_pool) {
    if (buffer.ptr == ptr) buffer.busy = false;
  }
}

const float* CudaExecutor::inv_freq(const graph::OpAttrs& attrs) {
  const auto& r = attrs.rope;
  const std::string key =
      fmt::format("{}:{}:{}:{}:{}:{}:{}", attrs.head_dim, r.theta, static_cast<int>(r.scaling), r.factor,
                  r.low_freq_factor, r.high_freq_factor, r.original_max_positions);
  if (auto it = m_inv_freq.find(key); it != m_inv_freq.end()) return it->second;
  const std::vector<float> table = model::rope_inverse_frequencies(r, attrs.head_dim);
  float* device = nullptr;
  XPUSIM_CUDA_CHECK(cudaMalloc(&device, table.size() * sizeof(float)));
  XPUSIM_CUDA_CHECK(cudaMemcpyAsync(device, table.data(), table.size() * sizeof(float),
                                    cudaMemcpyHostToDevice,
                                    m_stream));  // on m_stream: ordered before the RoPE kernel that reads it
  return m_inv_freq.emplace(key, device).first->second;
}

const float* CudaExecutor::enqueue_step(std::span<const int32_t> tokens, bool all_logits,
                                        int64_t* logits_rows) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) fail("{}: forward() needs at least one token", m_config.name);
  constexpr int64_t kMaxStepTokens = 65535;  // grid.y of the attention and embedding kernels
  if (n > kMaxStepTokens)
    fail("{}: the cuda target runs at most {} tokens per step (got {})", m_config.name, kMaxStepTokens, n);
  for (int32_t id : tokens) {
    if (id < 0 || id >= m_config.vocab_size)
      fail("{}: token id {} is outside the vocabulary (0 .. {})", m_config.name, id, m_config.vocab_size - 1);
  }
  if (m_kv_capacity < m_position + n) reserve_kv(std::max(m_position + n, 2 * m_kv_capacity));
  graph::Graph g = graph::build_step(m_config, graph::StepShape{n, m_position, m_kv_capacity, all_logits});
  g.bind_weights(m_weights);

  // Inputs: tokens, then positions, then one slot for the argmax.
  if (m_ids_capacity < 2 * n + 1) {
    cudaFree(m_ids);
    m_ids_capacity = 2 * n + 1;
    XPUSIM_CUDA_CHECK(cudaMalloc(&m_ids, static_cast<size_t>(m_ids_capacity) * sizeof(int32_t)));
  }
  std::vector<int32_t> host_ids(tokens.begin(), tokens.end());
  for (int64_t i = 0; i < n; ++i) host_ids.push_back(static_cast<int32_t>(m_position + i));
  XPUSIM_CUDA_CHECK(cudaMemcpyAsync(m_ids, host_ids.data(), host_ids.size() * sizeof(int32_t),
                                    cudaMemcpyHostToDevice, m_stream));

  // Device pointer of every tensor; activations get pool storage when produced and lose it after the last
  // reader of their storage (RESHAPE outputs alias their input: `root`).
  const size_t count = g.tensors.size();
  std::vector<void*> data(count, nullptr);
  std::vector<size_t> root(count), last_use(count, 0);
  for (size_t t = 0; t < count; ++t) root[t] = t;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const graph::Op& op = g.ops[i];
    for (graph::TensorId input : op.inputs) last_use[root[static_cast<size_t>(input)]] = i;
    if (op.kind == OpKind::RESHAPE)
      root[static_cast<size_t>(op.output)] = root[static_cast<size_t>(op.inputs[0])];
  }
  for (size_t t = 0; t < count; ++t) {
    const graph::Tensor& tensor = g.tensors[t];
    if (tensor.role == TensorRole::INPUT) {
      data[t] = static_cast<graph::TensorId>(t) == g.tokens ? m_ids : m_ids + n;
    } else if (tensor.role == TensorRole::WEIGHT) {
      data[t] = const_cast<uint8_t*>(m_weights_device.get(tensor.name).data);
    } else if (tensor.role == TensorRole::KV_CACHE) {
      const auto layer = static_cast<size_t>(layer_of_cache(tensor.name));
      data[t] = tensor.name.ends_with("k_cache") ? m_keys[layer] : m_values[layer];
    }
  }
  const size_t logits_root = root[static_cast<size_t>(g.logits)];
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const graph::Op& op = g.ops[i];
    const auto out = static_cast<size_t>(op.output);
    if (op.kind == OpKind::RESHAPE) {
      data[out] = data[static_cast<size_t>(op.inputs[0])];
    } else if (g.tensors[out].role == TensorRole::ACTIVATION) {
      data[out] = take(static_cast<size_t>(g.tensors[out].elements()) * sizeof(float));
    }
    run_op(g, op, data);
    for (graph::TensorId input : op.inputs) {
      const size_t r = root[static_cast<size_t>(input)];
      if (last_use[r] == i && r != logits_root && g.tensors[r].role == TensorRole::ACTIVATION && data[r]) {
        release(data[r]);
        data[r] = nullptr;
      }
    }
  }
  XPUSIM_CUDA_CHECK(cudaGetLastError());
  // Everything but the logits goes back to the pool (stream order keeps the pending reads safe).
  m_position += n;
  *logits_rows = g.tensors[static_cast<size_t>(g.logits)].shape[0];
  const float* logits = static_cast<const float*>(data[static_cast<size_t>(g.logits)]);
  for (PoolBuffer& buffer : m_pool) {
    if (buffer.ptr != logits) buffer.busy = false;
  }
  return logits;
}

std::vector<float> CudaExecutor::forward(std::span<const int32_t> tokens, bool all_logits) {
  int64_t rows = 0;
  const float* logits = enqueue_step(tokens, all_logits, &rows);
  const int64_t vocab = m_config.vocab_size;
  const int64_t keep_rows = all_logits ? rows : 1;
  std::vector<float> host(static_cast<size_t>(keep_rows * vocab));
  XPUSIM_CUDA_CHECK(cudaMemcpyAsync(host.data(), logits + (rows - keep_rows) * vocab,
                                    host.size() * sizeof(float), cudaMemcpyDeviceToHost, m_stream));
  XPUSIM_CUDA_CHECK(cudaStreamSynchronize(m_stream));
  release(const_cast<float*>(logits));
  return host;
}

int32_t CudaExecutor::forward_greedy(std::span<const int32_t> tokens) {
  int64_t rows = 0;
  const float* logits = enqueue_step(tokens, false, &rows);
  int32_t* result = m_ids + 2 * static_cast<int64_t>(tokens.size());
  launch_argmax(logits + (rows - 1) * m_config.vocab_size, m_config.vocab_size, result, m_stream);
  int32_t id = 0;
  XPUSIM_CUDA_CHECK(cudaMemcpyAsync(&id, result, sizeof id, cudaMemcpyDeviceToHost, m_stream));
  XPUSIM_CUDA_CHECK(cudaStreamSynchronize(m_stream));
  release(const_cast<float*>(logits));
  return id;
}

}  // namespace xpusim::cuda
