// What `xpusim quant` measures: for each number format, quantize a model's weights (linear layers, and
// optionally the embeddings / LM head), then compare against the bf16 model on weight error, logits over a
// fixed prompt set and perplexity on a fixed English text.
// Quantized weights are run as their dequantized fp32 values (quantize -> dequantize once at load), which
// is numerically what a dequantize-on-the-fly matvec computes with fp32 accumulation.
// Non-goals: format definitions (numerics/format_table.h), generation (runtime/).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/loader.h"
#include "numerics/format_table.h"

namespace xpusim::cli {

struct QuantEvalOptions {
  std::vector<numerics::Format> formats;
  bool quantize_embeddings = false;  // false: token embeddings and the LM head stay bf16
  int64_t text_tokens = 256;         // perplexity text length (tokens)
  int threads = 0;
  // Called before each step (the bf16 reference, then each format) with (done, total, what): the CLI's
  // progress bar. Empty: no calls.
  std::function<void(size_t, size_t, const std::string&)> on_progress;
};

struct TensorError {
  std::string name;
  double mse = 0;
  double sqnr_db = 0;
};

struct FormatReport {
  std::string format;
  double bits_per_weight = 0;  // quantized tensors only, scales included
  double model_bytes = 0;      // every tensor under the policy (unquantized ones as bf16)
  double weight_mse = 0;       // over the quantized tensors, vs the source weights
  double weight_sqnr_db = 0;
  std::vector<TensorError> worst;  // three lowest-SQNR tensors
  double logit_kl = 0;             // mean KL(bf16 || format) per position, nats
  double top1_agreement = 0;       // fraction of positions whose argmax matches bf16
  double perplexity = 0;
  double seconds = 0;
};

struct QuantEvalResult {
  std::string model;
  std::string source;
  std::string text_source;
  int64_t text_tokens = 0;
  int64_t prompt_positions = 0;
  std::vector<FormatReport> reports;  // the bf16 baseline first
};

// The fixed prompt set and text used for the logit and perplexity metrics.
const std::vector<std::string>& quant_prompts();
inline constexpr const char* kQuantTextPath = "/usr/share/common-licenses/GPL-3";

// The model's weights with every linear layer (and, with quantize_embeddings, the token embeddings and LM
// head) encoded in `format`; all other tensors rounded to bf16. Matrices stay packed (DType::NUMERICS,
// decoded a row at a time by the executor); vectors are stored decoded (fp32). With no format, every tensor
// is rounded to bf16 (the baseline). Fills the size and weight-error fields of `report` when given. This is
// what `xpusim run --precision FORMAT` needs (see the numerics report).
model::Weights quantize_model_weights(const model::LoadedModel& loaded,
                                      std::optional<numerics::Format> format, bool quantize_embeddings,
                                      FormatReport* report = nullptr);

QuantEvalResult evaluate_formats(const model::LoadedModel& loaded, const QuantEvalOptions& options);

}  // namespace xpusim::cli
