// Whole-tensor loops: rows are cut into chunks of blocks; chunks are spread over std::threads.
#include "numerics/tensor_codec.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include "core/error.h"

namespace xpusim::numerics {
namespace {

constexpr size_t kChunkBlocks = 64;               // blocks per work item
constexpr size_t kParallelMinElements = 1 << 15;  // below this one thread is faster

unsigned thread_count(unsigned requested, size_t elements, size_t items) {
  if (elements < kParallelMinElements || items < 2) return 1;
  unsigned n = requested != 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::min<size_t>(n, items));
}

// Runs fn(item) for item in [0, items) on `threads` threads, contiguous ranges per thread.
template <typename Fn>
void parallel_items(size_t items, unsigned threads, Fn&& fn) {
  if (threads <= 1) {
    for (size_t i = 0; i < items; ++i) fn(i);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) {
    const size_t begin = items * t / threads;
    const size_t end = items * (t + 1) / threads;
    pool.emplace_back([&fn, begin, end] {
      for (size_t i = begin; i < end; ++i) fn(i);
    });
  }
  for (auto& thread : pool) thread.join();
}

inline float sanitize(float v) {
  if (std::isnan(v)) return 0.0f;
  return std::clamp(v, -FLT_MAX, FLT_MAX);
}

float tensor_amax(std::span<const float> values, unsigned threads) {
  const size_t chunk = 1 << 16;
  const size_t items = (values.size() + chunk - 1) / chunk;
  std::vector<float> partial(items, 0.0f);
  parallel_items(items, thread_count(threads, values.size(), items), [&](size_t item) {
    const size_t end = std::min(values.size(), (item + 1) * chunk);
    float amax = 0.0f;
    for (size_t i = item * chunk; i < end; ++i) amax = std::fmax(amax, std::fabs(sanitize(values[i])));
    partial[item] = amax;
  });
  float amax = 0.0f;
  for (float p : partial) amax = std::fmax(amax, p);
  return amax;
}

}  // namespace

size_t EncodedTensor::blocks_per_row() const {
  const size_t block = format_row(format).block_elements;
  return (cols + block - 1) / block;
}

size_t EncodedTensor::storage_bytes() const {
  return data.size() + (format_row(format).has_tensor_scale ? sizeof(float) : 0);
}

EncodedTensor encode_tensor(Format format, std::span<const float> values, size_t rows, size_t cols,
                            unsigned threads) {
  const FormatRow& row_info = format_row(format);
  if (cols != 0 && rows > values.size() / cols)
    fail("encode_tensor({}): {} x {} does not fit", row_info.name, rows, cols);
  if (values.size() != rows * cols) {
    fail("encode_tensor({}): {} values given for a {} x {} tensor", row_info.name, values.size(), rows, cols);
  }
  EncodedTensor out;
  out.format = format;
  out.rows = rows;
  out.cols = cols;
  const size_t block = row_info.block_elements;
  const size_t blocks_per_row = out.blocks_per_row();
  out.row_bytes = blocks_per_row * row_info.block_bytes;
  out.data.assign(rows * out.row_bytes, 0);
  if (row_info.has_tensor_scale) out.tensor_amax = tensor_amax(values, threads);

  const size_t chunks_per_row = (blocks_per_row + kChunkBlocks - 1) / kChunkBlocks;
  const size_t items = rows * chunks_per_row;
  parallel_items(items, thread_count(threads, values.size(), items), [&](size_t item) {
    const size_t r = item / chunks_per_row;
    const size_t first_block = (item % chunks_per_row) * kChunkBlocks;
    const size_t block_count = std::min(kChunkBlocks, blocks_per_row - first_block);
    const size_t first = first_block * block;
    const size_t available = std::min(cols - first, block_count * block);
    const float* src = values.data() + r * cols + first;
    uint8_t* dst = out.data.data() + r * out.row_bytes + first_block * row_info.block_bytes;
    bool direct = available == block_count * block;
    if (direct && row_info.is_block) {
      for (size_t i = 0; i < available && direct; ++i) direct = std::isfinite(src[i]);
    }
    if (direct) {
      row_info.encode(src, dst, block_count, out.tensor_amax);
      return;
    }
    // Padded tail and/or non-finite values: encode from a sanitized, zero-padded copy.
    std::vector<float> scratch(block_count * block, 0.0f);
    for (size_t i = 0; i < available; ++i) scratch[i] = row_info.is_block ? sanitize(src[i]) : src[i];
    row_info.encode(scratch.data(), dst, block_count, out.tensor_amax);
  });
  return out;
}

size_t row_bytes(Format format, size_t cols) {
  const FormatRow& row_info = format_row(format);
  return (cols + row_info.block_elements - 1) / row_info.block_elements * row_info.block_bytes;
}

void decode_row(Format format, const uint8_t* src, size_t cols, float tensor_amax, float* out) {
  const FormatRow& row_info = format_row(format);
  const size_t block = row_info.block_elements;
  const size_t full_blocks = cols / block;
  row_info.decode(src, out, full_blocks, tensor_amax);
  if (full_blocks * block == cols) return;
  // The padded last block: decode it aside and keep its first values.
  constexpr size_t kMaxBlockElements = 256;
  XPUSIM_ASSERT(block <= kMaxBlockElements);
  float tail[kMaxBlockElements];
  row_info.decode(src + full_blocks * row_info.block_bytes, tail, 1, tensor_amax);
  std::memcpy(out + full_blocks * block, tail, (cols - full_blocks * block) * sizeof(float));
}

void decode_rows(const EncodedTensor& tensor, size_t first_row, size_t row_count, float* out) {
  const FormatRow& row_info = format_row(tensor.format);
  if (first_row > tensor.rows || row_count > tensor.rows - first_row) {
    fail("decode_rows({}): rows [{}, +{}) outside a tensor of {} rows", row_info.name, first_row, row_count,
         tensor.rows);
  }
  for (size_t r = first_row; r < first_row + row_count; ++r, out += tensor.cols) {
    decode_row(tensor.format, tensor.data.data() + r * tensor.row_bytes, tensor.cols, tensor.tensor_amax,
               out);
  }
}

void decode_tensor(const EncodedTensor& tensor, std::span<float> out, unsigned threads) {
  if (out.size() != tensor.rows * tensor.cols) {
    fail("decode_tensor({}): output has {} values, tensor has {} x {}", format_name(tensor.format),
         out.size(), tensor.rows, tensor.cols);
  }
  if (tensor.rows == 1 && tensor.cols >= kParallelMinElements) {
    // One long row: split it at block boundaries so every thread gets work.
    const FormatRow& row_info = format_row(tensor.format);
    const size_t block = row_info.block_elements;
    const size_t full_blocks = tensor.cols / block;
    const size_t items = (full_blocks + kChunkBlocks - 1) / kChunkBlocks;
    parallel_items(items, thread_count(threads, tensor.cols, items), [&](size_t item) {
      const size_t first = item * kChunkBlocks;
      const size_t count = std::min(kChunkBlocks, full_blocks - first);
      row_info.decode(tensor.data.data() + first * row_info.block_bytes, out.data() + first * block, count,
                      tensor.tensor_amax);
    });
    if (full_blocks * block < tensor.cols) {
      std::vector<float> tail(block);
      row_info.decode(tensor.data.data() + full_blocks * row_info.block_bytes, tail.data(), 1,
                      tensor.tensor_amax);
      std::memcpy(out.data() + full_blocks * block, tail.data(),
                  (tensor.cols - full_blocks * block) * sizeof(float));
    }
    return;
  }
  const size_t rows_per_item = std::max<size_t>(1, 16384 / std::max<size_t>(1, tensor.cols));
  const size_t items = (tensor.rows + rows_per_item - 1) / rows_per_item;
  parallel_items(items, thread_count(threads, out.size(), items), [&](size_t item) {
    const size_t first = item * rows_per_item;
    const size_t count = std::min(rows_per_item, tensor.rows - first);
    decode_rows(tensor, first, count, out.data() + first * tensor.cols);
  });
}

ErrorStats error_stats(std::span<const float> reference, std::span<const float> decoded) {
  ErrorStats stats;
  const size_t n = std::min(reference.size(), decoded.size());
  if (n == 0) return stats;
  double sse = 0.0, signal = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(decoded[i]) || !std::isfinite(reference[i])) {
      ++stats.nonfinite;
      continue;
    }
    const double e = static_cast<double>(decoded[i]) - reference[i];
    sse += e * e;
    signal += static_cast<double>(reference[i]) * reference[i];
    stats.max_abs_error = std::max(stats.max_abs_error, std::fabs(e));
  }
  stats.mse = sse / static_cast<double>(n);
  stats.signal_power = signal / static_cast<double>(n);
  stats.sqnr_db = sse == 0.0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(signal / sse);
  return stats;
}

std::vector<float> test_signal(size_t n, uint64_t seed) {
  std::vector<float> out(n);
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next_uniform = [&state] {  // splitmix64 -> (0, 1]
    state += 0x9E3779B97F4A7C15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (static_cast<double>(z >> 11) + 1.0) * 0x1p-53;
  };
  for (size_t i = 0; i < n; i += 2) {  // Box-Muller
    const double radius = std::sqrt(-2.0 * std::log(next_uniform()));
    const double angle = 6.283185307179586 * next_uniform();
    out[i] = static_cast<float>(radius * std::cos(angle));
    if (i + 1 < n) out[i + 1] = static_cast<float>(radius * std::sin(angle));
  }
  return out;
}

}  // namespace xpusim::numerics
