#include "cli/quant_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "exec/executor.h"
#include "numerics/decode.h"
#include "numerics/tensor_codec.h"
#include "runtime/text_codec.h"

namespace xpusim::cli {
namespace {

using numerics::Format;

const std::vector<std::string> kPrompts = {
    "The capital of France is",
    "Water boils at a temperature of",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Once upon a time, in a small village by the sea, there lived",
    "Photosynthesis is the process by which plants",
    "The three primary colors are",
};

bool is_embedding_or_head(const std::string& name) {
  return name == "token_embd.weight" || name == "output.weight";
}

// Linear-layer weights: 2-D tensors inside the transformer blocks.
bool is_linear(const model::TensorView& view) {
  return view.shape.size() == 2 && view.name.starts_with("blk.") && view.name.ends_with(".weight");
}

std::vector<float> decode_all(const model::TensorView& view) {
  std::vector<float> values(static_cast<size_t>(view.elements()));
  numerics::decode_to_f32(view.dtype, view.data, values.data(), values.size());
  return values;
}

std::vector<std::byte> as_bytes(const std::vector<float>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

numerics::EncodedTensor encode(Format format, const std::vector<float>& values,
                               const model::TensorView& view) {
  const size_t cols = static_cast<size_t>(view.row_elements());
  return numerics::encode_tensor(format, values, values.size() / cols, cols);
}

struct LogitStats {
  std::vector<std::vector<float>> prompt_logits;  // per prompt [n, vocab]
  double perplexity = 0;
};

// log-softmax of one row.
void log_softmax(const float* logits, size_t n, std::vector<double>& out) {
  out.resize(n);
  const double max = *std::max_element(logits, logits + n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(logits[i] - max);
  const double log_sum = std::log(sum) + max;
  for (size_t i = 0; i < n; ++i) out[i] = logits[i] - log_sum;
}

LogitStats run_model(const model::LoadedModel& loaded, const model::Weights& weights,
                     const std::vector<std::vector<int32_t>>& prompts, const std::vector<int32_t>& text,
                     int threads) {
  exec::Executor executor(loaded.config, weights,
                          exec::ExecOptions{threads, static_cast<int64_t>(text.size())});
  LogitStats stats;
  for (const auto& ids : prompts) {
    executor.reset();
    stats.prompt_logits.push_back(executor.forward(ids, true));
  }
  executor.reset();
  const std::vector<float> logits = executor.forward(text, true);
  const size_t vocab = static_cast<size_t>(loaded.config.vocab_size);
  double nll = 0;
  std::vector<double> lp;
  for (size_t t = 0; t + 1 < text.size(); ++t) {
    log_softmax(logits.data() + t * vocab, vocab, lp);
    nll -= lp[static_cast<size_t>(text[t + 1])];
  }
  stats.perplexity = std::exp(nll / static_cast<double>(text.size() - 1));
  return stats;
}

void compare_logits(const LogitStats& base, const LogitStats& other, size_t vocab, FormatReport& report) {
  double kl = 0;
  size_t positions = 0, agree = 0;
  std::vector<double> p, q;
  for (size_t k = 0; k < base.prompt_logits.size(); ++k) {
    const auto& a = base.prompt_logits[k];
    const auto& b = other.prompt_logits[k];
    for (size_t pos = 0; pos < a.size() / vocab; ++pos) {
      const float* la = a.data() + pos * vocab;
      const float* lb = b.data() + pos * vocab;
      log_softmax(la, vocab, p);
      log_softmax(lb, vocab, q);
      double sum = 0;
      for (size_t i = 0; i < vocab; ++i) sum += std::exp(p[i]) * (p[i] - q[i]);
      kl += sum;
      agree += std::max_element(la, la + vocab) - la == std::max_element(lb, lb + vocab) - lb;
      ++positions;
    }
  }
  report.logit_kl = kl / static_cast<double>(positions);
  report.top1_agreement = static_cast<double>(agree) / static_cast<double>(positions);
}

std::vector<int32_t> text_tokens(const runtime::TextCodec& codec, int64_t count) {
  std::ifstream in(kQuantTextPath);
  if (!in) fail("{}: cannot read the perplexity text (Debian package base-files)", kQuantTextPath);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::vector<int32_t> ids = codec.encode_prompt(buffer.str());
  if (static_cast<int64_t>(ids.size()) < count)
    fail("{}: only {} tokens, need {}", kQuantTextPath, ids.size(), count);
  ids.resize(static_cast<size_t>(count));
  return ids;
}

}  // namespace

const std::vector<std::string>& quant_prompts() { return kPrompts; }

model::Weights quantize_model_weights(const model::LoadedModel& loaded, std::optional<Format> format,
                                      bool quantize_embeddings, FormatReport* report_out) {
  FormatReport scratch;
  FormatReport& report = report_out != nullptr ? *report_out : scratch;
  model::Weights weights;
  weights.source = loaded.weights.source;
  double sse = 0, signal = 0, quantized_elements = 0, quantized_bits = 0;
  for (const auto& [name, view] : loaded.weights.all()) {
    const std::vector<float> x = decode_all(view);
    const bool quantize =
        format.has_value() &&
        (is_linear(view) || (quantize_embeddings && is_embedding_or_head(name) && view.shape.size() == 2));
    numerics::EncodedTensor encoded = encode(quantize ? *format : Format::BF16, x, view);
    const size_t bytes = encoded.storage_bytes();
    report.model_bytes += static_cast<double>(bytes);
    if (quantize && report_out != nullptr) {  // the error metrics cost a decode; `run` does not want them
      std::vector<float> y(x.size());
      numerics::decode_tensor(encoded, y);
      const numerics::ErrorStats stats = numerics::error_stats(x, y);
      sse += stats.mse * static_cast<double>(x.size());
      signal += stats.signal_power * static_cast<double>(x.size());
      quantized_elements += static_cast<double>(x.size());
      quantized_bits += 8.0 * static_cast<double>(bytes);
      report.worst.push_back({name, stats.mse, stats.sqnr_db});
    }
    if (view.shape.size() >= 2) {
      weights.add_encoded(name, view.shape, std::move(encoded));
    } else {
      // Vectors (norms, biases) are read whole by the executor as fp32: keep them decoded.
      std::vector<float> y(x.size());
      numerics::decode_tensor(encoded, y);
      weights.add_owned(name, DType::F32, view.shape, as_bytes(y));
    }
  }
  if (quantized_elements > 0) {
    report.bits_per_weight = quantized_bits / quantized_elements;
    report.weight_mse = sse / quantized_elements;
    report.weight_sqnr_db = sse > 0 ? 10.0 * std::log10(signal / sse) : INFINITY;
    std::sort(report.worst.begin(), report.worst.end(),
              [](const TensorError& a, const TensorError& b) { return a.sqnr_db < b.sqnr_db; });
    if (report.worst.size() > 3) report.worst.resize(3);
  }
  return weights;
}

QuantEvalResult evaluate_formats(const model::LoadedModel& loaded, const QuantEvalOptions& options) {
  if (options.text_tokens < 2) fail("--text-tokens must be >= 2 (got {})", options.text_tokens);
  QuantEvalResult result;
  result.model = loaded.name;
  result.source = loaded.source;
  result.text_source = std::string(kQuantTextPath) + " (GNU GPL v3 text, Debian package base-files)";
  result.text_tokens = options.text_tokens;

  const runtime::TextCodec codec = runtime::TextCodec::for_model(loaded);
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& prompt : kPrompts) {
    prompts.push_back(codec.encode_prompt(prompt));
    result.prompt_positions += static_cast<int64_t>(prompts.back().size());
  }
  const std::vector<int32_t> text = text_tokens(codec, options.text_tokens);

  const size_t steps = options.formats.size() + 1;
  const auto progress = [&](size_t done, const std::string& what) {
    if (options.on_progress) options.on_progress(done, steps, what);
  };
  using Clock = std::chrono::steady_clock;
  progress(0, "bf16");
  const auto base_start = Clock::now();
  FormatReport base_report;
  base_report.format = "bf16";
  LogitStats base;
  {
    const model::Weights weights = quantize_model_weights(loaded, std::nullopt, false, &base_report);
    base_report.bits_per_weight = 16;
    base = run_model(loaded, weights, prompts, text, options.threads);
  }
  base_report.perplexity = base.perplexity;
  base_report.top1_agreement = 1;
  base_report.seconds = std::chrono::duration<double>(Clock::now() - base_start).count();
  result.reports.push_back(base_report);

  const size_t vocab = static_cast<size_t>(loaded.config.vocab_size);
  for (Format format : options.formats) {
    const auto start = Clock::now();
    FormatReport report;
    report.format = std::string(numerics::format_name(format));
    progress(result.reports.size(), report.format);
    const model::Weights weights =
        quantize_model_weights(loaded, format, options.quantize_embeddings, &report);
    const LogitStats stats = run_model(loaded, weights, prompts, text, options.threads);
    compare_logits(base, stats, vocab, report);
    report.perplexity = stats.perplexity;
    report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.reports.push_back(std::move(report));
  }
  progress(steps, "done");
  return result;
}

}  // namespace xpusim::cli
