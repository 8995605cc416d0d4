// Builds a Tokenizer from GGUF tokenizer metadata (tokenizer.ggml.*), as llama.cpp interprets it:
// model "gpt2" = byte-level BPE with the pre-tokenizer named by tokenizer.ggml.pre; model "llama" =
// SentencePiece BPE merged by score. Pre-tokenizers are expressed with the same steps as tokenizer.json.
#include <fmt/format.h>

#include <array>

#include "core/error.h"
#include "model/tokenizer.h"

namespace xpusim::model {
namespace {

constexpr int32_t kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4;

constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// llama.cpp's "smollm" list: digits first, then GPT-2's regex without the final \s+ (HF: Digits + ByteLevel).
constexpr const char* kSmollmPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";

// One row per tokenizer.ggml.pre value: the regexes applied in turn (each splits the pieces of the previous
// one, keeping unmatched text as pieces, like llama.cpp's unicode_regex_split), whether to split every digit
// first, NFC, and ignore_merges.
struct PreRow {
  std::string_view name;
  std::array<const char*, 4> regexes;
  bool individual_digits, nfc, ignore_merges;
};
const std::array<PreRow, 6> kPreRows = {{
    {"gpt-2", {kGpt2Pattern}, false, false, false},
    {"llama-bpe", {kLlama3Pattern}, false, false, true},
    {"llama3", {kLlama3Pattern}, false, false, true},
    {"qwen2", {kQwen2Pattern}, false, true, false},
    {"smollm", {kSmollmPattern}, true, false, false},
    // llama.cpp's fallback for unknown hashes [U: list from llama.cpp's default case].
    {"default",
     {R"([\p{P}\$\+<=>\^~\|]+)", R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
      R"(\p{N}+)", R"([0-9][0-9][0-9])"},
     false,
     false,
     false},
}};

const PreRow& find_pre_row(const GgufTokenizerData& data) {
  const std::string_view pre = data.pre.empty() ? "default" : std::string_view(data.pre);
  for (const PreRow& row : kPreRows)
    if (row.name == pre) return row;
  std::string known;
  for (const PreRow& row : kPreRows) known += fmt::format("{}{}", known.empty() ? "" : ", ", row.name);
  fail("{}: tokenizer.ggml.pre = '{}' is not supported (known: {})", data.source, data.pre, known);
}

void check_id(const GgufTokenizerData& data, int64_t id, std::string_view key, bool optional = true) {
  if ((optional && id == -1) || (id >= 0 && static_cast<size_t>(id) < data.tokens.size())) return;
  fail("{}: tokenizer.ggml.{} = {} is not a token id (vocabulary has {} tokens)", data.source, key, id,
       data.tokens.size());
}

void add_typed_tokens(const GgufTokenizerData& data, TokenizerParts& parts) {
  for (size_t id = 0; id < data.token_types.size(); ++id) {
    const int32_t type = data.token_types[id];
    // llama.cpp matches control, user-defined and unknown tokens in the text (its special-token cache).
    if (type != kTypeControl && type != kTypeUserDefined && type != kTypeUnknown) continue;
    if (data.tokens[id].empty()) continue;
    parts.added_tokens.push_back({.id = static_cast<int32_t>(id),
                                  .content = data.tokens[id],
                                  .special = type != kTypeUserDefined,
                                  .normalized = false});
  }
}

void build_byte_level(const GgufTokenizerData& data, TokenizerParts& parts,
                      const std::shared_ptr<Vocab>& vocab) {
  const PreRow& row = find_pre_row(data);
  const std::string where = fmt::format("{}: pre-tokenizer '{}'", data.source, row.name);
  if (row.nfc)
    parts.normalizer.steps.push_back({.kind = NormalizerStep::Kind::UNICODE, .form = UnicodeForm::NFC});
  if (row.individual_digits)
    parts.pre_tokenizer.steps.push_back({.kind = PreTokenizerStep::Kind::DIGITS, .individual_digits = true});
  for (const char* regex : row.regexes) {
    if (regex == nullptr) break;
    parts.pre_tokenizer.steps.push_back({.kind = PreTokenizerStep::Kind::SPLIT,
                                         .regex = std::make_shared<Regex>(regex, where),
                                         .behavior = SplitBehavior::ISOLATED});
  }
  parts.pre_tokenizer.steps.push_back({.kind = PreTokenizerStep::Kind::BYTE_LEVEL});
  parts.decoder.present = true;
  parts.decoder.steps.push_back({.kind = DecoderStep::Kind::BYTE_LEVEL});

  std::vector<std::array<int32_t, 3>> merges;
  merges.reserve(data.merges.size());
  for (size_t i = 0; i < data.merges.size(); ++i) {
    const std::string& merge = data.merges[i];
    const size_t space = merge.find(' ', 1);
    if (space == std::string::npos)
      fail("{}: tokenizer.ggml.merges[{}] = '{}' is not two tokens separated by a space", data.source, i,
           merge);
    const std::string left = merge.substr(0, space), right = merge.substr(space + 1);
    const int32_t left_id = vocab->find(left), right_id = vocab->find(right),
                  merged_id = vocab->find(left + right);
    if (left_id < 0 || right_id < 0 || merged_id < 0)
      fail("{}: tokenizer.ggml.merges[{}] = '{}' uses a string that is not a token", data.source, i, merge);
    merges.push_back({left_id, right_id, merged_id});
  }
  parts.model = std::make_unique<BpeModel>(vocab, merges, BpeOptions{.ignore_merges = row.ignore_merges});
}

void build_spm(const GgufTokenizerData& data, TokenizerParts& parts, const std::shared_ptr<Vocab>& vocab) {
  const std::string space_marker = "\xE2\x96\x81";  // U+2581
  if (data.add_space_prefix)  // llama.cpp adds it at the start and after every special token, like HF's
                              // Prepend
    parts.normalizer.steps.push_back({.kind = NormalizerStep::Kind::PREPEND, .content = space_marker});
  parts.normalizer.steps.push_back(
      {.kind = NormalizerStep::Kind::REPLACE, .pattern = " ", .content = space_marker});
  parts.decoder.present = true;
  parts.decoder.steps.push_back(
      {.kind = DecoderStep::Kind::REPLACE, .pattern = space_marker, .content = " "});
  parts.decoder.steps.push_back({.kind = DecoderStep::Kind::BYTE_FALLBACK});
  parts.decoder.steps.push_back({.kind = DecoderStep::Kind::FUSE});
  if (data.add_space_prefix)
    parts.decoder.steps.push_back({.kind = DecoderStep::Kind::STRIP, .content = " ", .strip_start = 1});
  if (!data.scores.empty() && data.scores.size() != data.tokens.size())
    fail("{}: tokenizer.ggml.scores has {} entries for {} tokens", data.source, data.scores.size(),
         data.tokens.size());
  int32_t unk_id = static_cast<int32_t>(data.unknown_token_id);
  for (size_t id = 0; unk_id < 0 && id < data.token_types.size(); ++id)
    if (data.token_types[id] == kTypeUnknown) unk_id = static_cast<int32_t>(id);
  parts.model = std::make_unique<SpmModel>(vocab, data.scores, unk_id);
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf_data(const GgufTokenizerData& data) {
  TokenizerParts parts;
  parts.source = data.source;
  if (data.tokens.empty()) fail("{}: tokenizer.ggml.tokens is missing or empty", data.source);
  if (!data.token_types.empty() && data.token_types.size() != data.tokens.size())
    fail("{}: tokenizer.ggml.token_type has {} entries for {} tokens", data.source, data.token_types.size(),
         data.tokens.size());
  check_id(data, data.bos_token_id, "bos_token_id");
  check_id(data, data.eos_token_id, "eos_token_id");
  check_id(data, data.unknown_token_id, "unknown_token_id");
  check_id(data, data.padding_token_id, "padding_token_id");
  if (data.add_bos_token && data.bos_token_id < 0)
    fail("{}: tokenizer.ggml.add_bos_token is true but bos_token_id is missing", data.source);

  auto vocab = std::make_shared<Vocab>();
  vocab->id_to_token.reserve(data.tokens.size());
  for (size_t id = 0; id < data.tokens.size(); ++id) {
    // Duplicate strings keep their first id for lookups (llama.cpp does the same).
    vocab->id_to_token.push_back(data.tokens[id]);
    vocab->token_to_id.try_emplace(data.tokens[id], static_cast<int32_t>(id));
  }
  parts.vocab = *vocab;
  add_typed_tokens(data, parts);
  if (data.model == "gpt2") {
    build_byte_level(data, parts, vocab);
  } else if (data.model == "llama") {
    build_spm(data, parts, vocab);
  } else {
    fail("{}: tokenizer.ggml.model = '{}' is not supported (supported: gpt2, llama)", data.source,
         data.model);
  }
  parts.bos_id = static_cast<int32_t>(data.bos_token_id);
  parts.eos_id = static_cast<int32_t>(data.eos_token_id);
  if (data.add_bos_token) parts.post_processor.prefix_ids.push_back(parts.bos_id);
  parts.chat_template = data.chat_template;
  return std::make_unique<Tokenizer>(std::move(parts));
}

}  // namespace xpusim::model
