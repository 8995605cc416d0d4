// Loader for Hugging Face tokenizer.json (+ tokenizer_config.json, chat_template.jinja).
// Every field is type-checked; errors name the file and the JSON path.
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "model/tokenizer.h"

namespace xpusim::model {
namespace {

using Json = nlohmann::json;

constexpr int64_t kMaxTokenId = 1 << 24;  // far above any real vocabulary; guards allocations
constexpr int kMaxNesting = 32;           // Sequence inside Sequence...
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Typed access to one JSON object with the file and path for messages.
class Fields {
 public:
  Fields(const Json& json, const std::string& source, std::string path)
      : m_json(json), m_source(source), m_path(std::move(path)) {
    if (!json.is_object()) fail("{}: {} must be an object, got {}", source, m_path, json.type_name());
  }
  std::string where(std::string_view key) const { return fmt::format("{}: {}.{}", m_source, m_path, key); }
  const Json* find(std::string_view key) const {
    auto it = m_json.find(key);
    return it == m_json.end() || it->is_null() ? nullptr : &*it;
  }
  const Json& require(std::string_view key) const {
    const Json* value = find(key);
    if (value == nullptr) fail("{} is missing", where(key));
    return *value;
  }
  std::string string(std::string_view key, std::optional<std::string> fallback = std::nullopt) const {
    const Json* value = find(key);
    if (value == nullptr) {
      if (fallback) return *fallback;
      fail("{} is missing", where(key));
    }
    if (!value->is_string()) fail("{} must be a string, got {}", where(key), value->type_name());
    return value->get<std::string>();
  }
  bool boolean(std::string_view key, bool fallback) const {
    const Json* value = find(key);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) fail("{} must be true or false, got {}", where(key), value->type_name());
    return value->get<bool>();
  }
  int64_t integer(std::string_view key, int64_t lo, int64_t hi,
                  std::optional<int64_t> fallback = std::nullopt) const {
    const Json* value = find(key);
    if (value == nullptr) {
      if (fallback) return *fallback;
      fail("{} is missing", where(key));
    }
    if (!value->is_number_integer()) fail("{} must be an integer, got {}", where(key), value->type_name());
    const int64_t v = value->get<int64_t>();
    if (v < lo || v > hi) fail("{} = {} is out of range [{}, {}]", where(key), v, lo, hi);
    return v;
  }
  const Json& array(std::string_view key) const {
    const Json& value = require(key);
    if (!value.is_array()) fail("{} must be an array, got {}", where(key), value.type_name());
    return value;
  }
  const std::string& source() const { return m_source; }
  const std::string& path() const { return m_path; }

 private:
  const Json& m_json;
  const std::string& m_source;
  std::string m_path;
};

struct Pattern {
  std::string literal;
  std::shared_ptr<const Regex> regex;
};

Pattern parse_pattern(const Fields& f) {
  Fields pattern(f.require("pattern"), f.source(), f.path() + ".pattern");
  if (pattern.find("Regex"))
    return {{}, std::make_shared<Regex>(pattern.string("Regex"), pattern.where("Regex"))};
  if (pattern.find("String")) return {pattern.string("String"), nullptr};
  fail("{} must hold \"String\" or \"Regex\"", f.where("pattern"));
}

void parse_normalizer(const Json& json, const std::string& source, const std::string& path, Normalizer& out,
                      int depth = 0) {
  Fields f(json, source, path);
  if (depth > kMaxNesting) fail("{}: nested deeper than {} levels", f.where("type"), kMaxNesting);
  const std::string type = f.string("type");
  NormalizerStep step;
  if (type == "Sequence") {
    const Json& list = f.array("normalizers");
    for (size_t i = 0; i < list.size(); ++i)
      parse_normalizer(list[i], source, fmt::format("{}.normalizers[{}]", path, i), out, depth + 1);
    return;
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    step.kind = NormalizerStep::Kind::UNICODE;
    step.form = type == "NFC"    ? UnicodeForm::NFC
                : type == "NFD"  ? UnicodeForm::NFD
                : type == "NFKC" ? UnicodeForm::NFKC
                                 : UnicodeForm::NFKD;
  } else if (type == "Replace") {
    step.kind = NormalizerStep::Kind::REPLACE;
    Pattern pattern = parse_pattern(f);
    step.pattern = pattern.literal;
    step.regex = pattern.regex;
    step.content = f.string("content");
  } else if (type == "Prepend") {
    step.kind = NormalizerStep::Kind::PREPEND;
    step.content = f.string("prepend");
  } else if (type == "Strip") {
    step.kind = NormalizerStep::Kind::STRIP;
    step.strip_left = f.boolean("strip_left", false);
    step.strip_right = f.boolean("strip_right", false);
  } else {
    fail(
        "{}: unsupported normalizer type '{}' (supported: Sequence, NFC, NFD, NFKC, NFKD, Replace, Prepend, "
        "Strip)",
        f.where("type"), type);
  }
  out.steps.push_back(std::move(step));
}

PreTokenizerStep::Prepend parse_prepend_scheme(const Fields& f) {
  if (f.find("prepend_scheme")) {
    const std::string scheme = f.string("prepend_scheme");
    if (scheme == "always") return PreTokenizerStep::Prepend::ALWAYS;
    if (scheme == "first") return PreTokenizerStep::Prepend::FIRST;
    if (scheme == "never") return PreTokenizerStep::Prepend::NEVER;
    fail("{} must be always, first or never, got '{}'", f.where("prepend_scheme"), scheme);
  }
  return f.boolean("add_prefix_space", true) ? PreTokenizerStep::Prepend::ALWAYS
                                             : PreTokenizerStep::Prepend::NEVER;
}

void parse_pre_tokenizer(const Json& json, const std::string& source, const std::string& path,
                         PreTokenizer& out, int depth = 0) {
  Fields f(json, source, path);
  if (depth > kMaxNesting) fail("{}: nested deeper than {} levels", f.where("type"), kMaxNesting);
  const std::string type = f.string("type");
  PreTokenizerStep step;
  if (type == "Sequence") {
    const Json& list = f.array("pretokenizers");
    for (size_t i = 0; i < list.size(); ++i)
      parse_pre_tokenizer(list[i], source, fmt::format("{}.pretokenizers[{}]", path, i), out, depth + 1);
    return;
  } else if (type == "Split") {
    Pattern pattern = parse_pattern(f);
    step.literal = pattern.literal;
    step.regex = pattern.regex;
    const std::string behavior = f.string("behavior");
    if (behavior == "Removed")
      step.behavior = SplitBehavior::REMOVED;
    else if (behavior == "Isolated")
      step.behavior = SplitBehavior::ISOLATED;
    else if (behavior == "MergedWithPrevious")
      step.behavior = SplitBehavior::MERGED_WITH_PREVIOUS;
    else if (behavior == "MergedWithNext")
      step.behavior = SplitBehavior::MERGED_WITH_NEXT;
    else if (behavior == "Contiguous")
      step.behavior = SplitBehavior::CONTIGUOUS;
    else
      fail("{}: unknown split behavior '{}'", f.where("behavior"), behavior);
    step.invert = f.boolean("invert", false);
  } else if (type == "ByteLevel") {
    if (f.boolean("add_prefix_space", false))
      out.steps.push_back({.kind = PreTokenizerStep::Kind::PREFIX_SPACE});
    if (f.boolean("use_regex", true))
      out.steps.push_back({.kind = PreTokenizerStep::Kind::SPLIT,
                           .regex = std::make_shared<Regex>(kGpt2Pattern, f.where("use_regex")),
                           .behavior = SplitBehavior::ISOLATED});
    step.kind = PreTokenizerStep::Kind::BYTE_LEVEL;
  } else if (type == "Digits") {
    step.kind = PreTokenizerStep::Kind::DIGITS;
    step.individual_digits = f.boolean("individual_digits", false);
  } else if (type == "Metaspace") {
    step.kind = PreTokenizerStep::Kind::METASPACE;
    step.replacement = f.string("replacement", "\xE2\x96\x81");
    step.prepend = parse_prepend_scheme(f);
    step.split = f.boolean("split", true);
  } else if (type == "WhitespaceSplit") {
    step.kind = PreTokenizerStep::Kind::WHITESPACE_SPLIT;
  } else {
    fail(
        "{}: unsupported pre_tokenizer type '{}' (supported: Sequence, Split, ByteLevel, Digits, Metaspace, "
        "WhitespaceSplit)",
        f.where("type"), type);
  }
  out.steps.push_back(std::move(step));
}

void parse_decoder(const Json& json, const std::string& source, const std::string& path, Decoder& out,
                   int depth = 0) {
  Fields f(json, source, path);
  if (depth > kMaxNesting) fail("{}: nested deeper than {} levels", f.where("type"), kMaxNesting);
  const std::string type = f.string("type");
  DecoderStep step;
  if (type == "Sequence") {
    const Json& list = f.array("decoders");
    for (size_t i = 0; i < list.size(); ++i)
      parse_decoder(list[i], source, fmt::format("{}.decoders[{}]", path, i), out, depth + 1);
    return;
  } else if (type == "ByteLevel") {
    step.kind = DecoderStep::Kind::BYTE_LEVEL;
  } else if (type == "ByteFallback") {
    step.kind = DecoderStep::Kind::BYTE_FALLBACK;
  } else if (type == "Fuse") {
    step.kind = DecoderStep::Kind::FUSE;
  } else if (type == "Replace") {
    step.kind = DecoderStep::Kind::REPLACE;
    Pattern pattern = parse_pattern(f);
    if (pattern.regex) fail("{}: Regex patterns are not supported in a Replace decoder", f.where("pattern"));
    step.pattern = pattern.literal;
    step.content = f.string("content");
  } else if (type == "Strip") {
    step.kind = DecoderStep::Kind::STRIP;
    step.content = f.string("content");
    step.strip_start = static_cast<size_t>(f.integer("start", 0, 1 << 20));
    step.strip_stop = static_cast<size_t>(f.integer("stop", 0, 1 << 20));
  } else if (type == "Metaspace") {
    step.kind = DecoderStep::Kind::METASPACE;
    step.pattern = f.string("replacement", "\xE2\x96\x81");
    step.metaspace_strip_first = parse_prepend_scheme(f) != PreTokenizerStep::Prepend::NEVER;
  } else {
    fail(
        "{}: unsupported decoder type '{}' (supported: Sequence, ByteLevel, ByteFallback, Fuse, Replace, "
        "Strip, "
        "Metaspace)",
        f.where("type"), type);
  }
  out.steps.push_back(std::move(step));
}

int32_t special_token_id(const Fields& f, std::string_view key) {  // Bert/Roberta ["[CLS]", 101]
  const Json& pair = f.array(key);
  if (pair.size() != 2 || !pair[1].is_number_integer() || pair[1].get<int64_t>() < 0 ||
      pair[1].get<int64_t>() >= kMaxTokenId)
    fail("{} must be [token, id]", f.where(key));
  return static_cast<int32_t>(pair[1].get<int64_t>());
}

void parse_post_processor(const Json& json, const std::string& source, const std::string& path,
                          PostProcessor& out, int depth = 0) {
  Fields f(json, source, path);
  if (depth > kMaxNesting) fail("{}: nested deeper than {} levels", f.where("type"), kMaxNesting);
  const std::string type = f.string("type");
  if (type == "Sequence") {
    const Json& list = f.array("processors");
    for (size_t i = 0; i < list.size(); ++i)
      parse_post_processor(list[i], source, fmt::format("{}.processors[{}]", path, i), out, depth + 1);
  } else if (type == "ByteLevel") {
    // Offsets only; ids unchanged.
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    out.prefix_ids.insert(out.prefix_ids.begin(), special_token_id(f, "cls"));
    out.suffix_ids.push_back(special_token_id(f, "sep"));
  } else if (type == "TemplateProcessing") {
    const Json& single = f.array("single");
    Fields specials(f.require("special_tokens"), source, path + ".special_tokens");
    std::vector<int32_t> prefix, suffix;
    bool seen_sequence = false;
    for (size_t i = 0; i < single.size(); ++i) {
      Fields item(single[i], source, fmt::format("{}.single[{}]", path, i));
      if (item.find("Sequence")) {
        seen_sequence = true;
        continue;
      }
      Fields special(item.require("SpecialToken"), source, item.path() + ".SpecialToken");
      const std::string name = special.string("id");
      Fields entry(specials.require(name), source, specials.path() + "." + name);
      const Json& ids = entry.array("ids");
      for (const Json& id : ids) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxTokenId)
          fail("{}: ids must be token ids", entry.where("ids"));
        (seen_sequence ? suffix : prefix).push_back(static_cast<int32_t>(id.get<int64_t>()));
      }
    }
    if (!seen_sequence) fail("{}: the single template has no $A sequence", f.where("single"));
    out.prefix_ids.insert(out.prefix_ids.end(), prefix.begin(), prefix.end());
    out.suffix_ids.insert(out.suffix_ids.begin(), suffix.begin(), suffix.end());
  } else {
    fail(
        "{}: unsupported post_processor type '{}' (supported: Sequence, ByteLevel, TemplateProcessing, "
        "BertProcessing, RobertaProcessing)",
        f.where("type"), type);
  }
}

std::pair<std::string, std::string> parse_merge(const Json& merge, const Fields& model, size_t index) {
  if (merge.is_string()) {
    const std::string text = merge.get<std::string>();
    const size_t space = text.find(' ', 1);  // a token never is empty, so the separator is not at 0
    if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos)
      fail("{}[{}]: '{}' is not two tokens separated by one space", model.where("merges"), index, text);
    return {text.substr(0, space), text.substr(space + 1)};
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string())
    return {merge[0].get<std::string>(), merge[1].get<std::string>()};
  fail("{}[{}] must be \"a b\" or [\"a\", \"b\"]", model.where("merges"), index);
}

void parse_model(const Fields& root, TokenizerParts& parts) {
  Fields model(root.require("model"), parts.source, "model");
  const std::string type = model.string("type", "BPE");
  if (type != "BPE")
    fail("{}: unsupported model type '{}' (this build reads BPE tokenizers)", model.where("type"), type);
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (!model.string(key, "").empty()) fail("{}: non-empty {} is not supported", model.where(key), key);
  if (const Json* dropout = model.find("dropout");
      dropout && !(dropout->is_number() && dropout->get<double>() == 0.0))
    fail("{}: BPE dropout is not supported (must be null)", model.where("dropout"));

  auto vocab = std::make_shared<Vocab>();
  Fields vocab_fields(model.require("vocab"), parts.source, "model.vocab");
  for (const auto& [token, id] : model.require("vocab").items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxTokenId)
      fail("{}: id of token '{}' must be an integer in [0, {})", vocab_fields.where(token), token,
           kMaxTokenId);
    vocab->set(static_cast<int32_t>(id.get<int64_t>()), token);
  }
  std::vector<std::array<int32_t, 3>> merges;
  const Json& merge_list = model.find("merges") ? model.array("merges") : Json::array();
  merges.reserve(merge_list.size());
  for (size_t i = 0; i < merge_list.size(); ++i) {
    auto [left, right] = parse_merge(merge_list[i], model, i);
    const int32_t left_id = vocab->find(left), right_id = vocab->find(right),
                  merged_id = vocab->find(left + right);
    if (left_id < 0 || right_id < 0 || merged_id < 0)
      fail("{}[{}]: '{}' is not in model.vocab", model.where("merges"), i,
           left_id < 0    ? left
           : right_id < 0 ? right
                          : left + right);
    merges.push_back({left_id, right_id, merged_id});
  }
  BpeOptions options;
  options.ignore_merges = model.boolean("ignore_merges", false);
  options.byte_fallback = model.boolean("byte_fallback", false);
  options.fuse_unk = model.boolean("fuse_unk", false);
  if (model.find("unk_token")) {
    const std::string unk = model.string("unk_token");
    options.unk_id = vocab->find(unk);
    if (options.unk_id < 0) fail("{}: '{}' is not in model.vocab", model.where("unk_token"), unk);
  }
  parts.vocab = *vocab;
  parts.model = std::make_unique<BpeModel>(std::move(vocab), merges, options);
}

void parse_added_tokens(const Fields& root, TokenizerParts& parts) {
  if (!root.find("added_tokens")) return;
  const Json& list = root.array("added_tokens");
  for (size_t i = 0; i < list.size(); ++i) {
    Fields f(list[i], parts.source, fmt::format("added_tokens[{}]", i));
    AddedToken token;
    token.id = static_cast<int32_t>(f.integer("id", 0, kMaxTokenId - 1));
    token.content = f.string("content");
    if (token.content.empty()) fail("{} must not be empty", f.where("content"));
    token.special = f.boolean("special", false);
    token.lstrip = f.boolean("lstrip", false);
    token.rstrip = f.boolean("rstrip", false);
    token.normalized = f.boolean("normalized", !token.special);
    token.single_word = f.boolean("single_word", false);
    parts.vocab.set(token.id, token.content);
    parts.added_tokens.push_back(std::move(token));
  }
}

std::string token_name(const Json* value, const Fields& f, std::string_view key) {  // "x" or {"content": "x"}
  if (value == nullptr) return {};
  if (value->is_string()) return value->get<std::string>();
  if (value->is_object()) return Fields(*value, f.source(), std::string(f.where(key))).string("content");
  fail("{} must be a string or an object with \"content\"", f.where(key));
}

void parse_config(std::string_view text, const std::string& source, TokenizerParts& parts) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::exception& e) {
    fail("{}: not valid JSON: {}", source, e.what());
  }
  Fields f(json, source, "tokenizer_config");
  for (const char* key : {"bos_token", "eos_token"}) {
    const std::string name = token_name(f.find(key), f, key);
    if (name.empty()) continue;
    const int32_t id = parts.vocab.find(name);
    if (id < 0) fail("{}: '{}' is not a token of the tokenizer", f.where(key), name);
    (std::string_view(key) == "bos_token" ? parts.bos_id : parts.eos_id) = id;
  }
  if (const Json* tmpl = f.find("chat_template")) {
    if (tmpl->is_string()) {
      parts.chat_template = tmpl->get<std::string>();
    } else if (tmpl->is_array()) {  // [{"name": "default", "template": "..."}, ...]
      for (size_t i = 0; i < tmpl->size(); ++i) {
        Fields entry((*tmpl)[i], source, fmt::format("tokenizer_config.chat_template[{}]", i));
        if (entry.string("name", "") == "default" || parts.chat_template.empty())
          parts.chat_template = entry.string("template");
      }
    } else {
      fail("{} must be a string or a list of {{name, template}}", f.where("chat_template"));
    }
  }
}

void guess_special_ids(TokenizerParts& parts) {
  if (parts.bos_id < 0 && !parts.post_processor.prefix_ids.empty())
    parts.bos_id = parts.post_processor.prefix_ids[0];
  if (parts.eos_id < 0) {
    for (std::string_view name : {"<|endoftext|>", "</s>", "<eos>", "<|end_of_text|>", "<|im_end|>"}) {
      if (const int32_t id = parts.vocab.find(name); id >= 0) {
        parts.eos_id = id;
        break;
      }
    }
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open file", path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_hf_json_text(std::string_view text, const std::string& source,
                                                        std::string_view config_text) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::exception& e) {
    fail("{}: not valid JSON: {}", source, e.what());
  }
  TokenizerParts parts;
  parts.source = source;
  try {
    Fields root(json, parts.source, "tokenizer");
    parse_model(root, parts);
    parse_added_tokens(root, parts);
    if (const Json* n = root.find("normalizer"))
      parse_normalizer(*n, parts.source, "normalizer", parts.normalizer);
    if (const Json* p = root.find("pre_tokenizer"))
      parse_pre_tokenizer(*p, parts.source, "pre_tokenizer", parts.pre_tokenizer);
    if (const Json* d = root.find("decoder")) {
      parts.decoder.present = true;
      parse_decoder(*d, parts.source, "decoder", parts.decoder);
    }
    if (const Json* p = root.find("post_processor"))
      parse_post_processor(*p, parts.source, "post_processor", parts.post_processor);
    for (int32_t id : parts.post_processor.prefix_ids)
      if (id >= static_cast<int32_t>(parts.vocab.id_to_token.size()))
        fail("{}: post_processor adds id {} which is not in the vocabulary", parts.source, id);
    for (int32_t id : parts.post_processor.suffix_ids)
      if (id >= static_cast<int32_t>(parts.vocab.id_to_token.size()))
        fail("{}: post_processor adds id {} which is not in the vocabulary", parts.source, id);
    if (!config_text.empty())
      parse_config(config_text,
                   (std::filesystem::path(source).parent_path() / "tokenizer_config.json").string(), parts);
  } catch (const Json::exception& e) {  // a type we did not check; still bad input, not a crash
    fail("{}: unexpected JSON content: {}", source, e.what());
  }
  guess_special_ids(parts);
  return std::make_unique<Tokenizer>(std::move(parts));
}

std::unique_ptr<Tokenizer> Tokenizer::from_hf_json(const std::filesystem::path& tokenizer_json) {
  const std::string text = read_file(tokenizer_json);
  const std::filesystem::path dir = tokenizer_json.parent_path();
  std::string config;
  if (std::filesystem::exists(dir / "tokenizer_config.json"))
    config = read_file(dir / "tokenizer_config.json");
  auto tokenizer = from_hf_json_text(text, tokenizer_json.string(), config);
  if (tokenizer->m_parts.chat_template.empty() && std::filesystem::exists(dir / "chat_template.jinja")) {
    tokenizer->m_parts.chat_template = read_file(dir / "chat_template.jinja");
    tokenizer->m_chat_family = detect_chat_template(
        tokenizer->m_parts.chat_template, [&](std::string_view t) { return tokenizer->token_to_id(t) >= 0; });
  }
  return tokenizer;
}

}  // namespace xpusim::model
