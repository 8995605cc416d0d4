// Shared helpers for the tokenizer tests: golden files under tests/data/tokenizers/ (made by
// tools/make_tokenizer_goldens.py) and GGUF-style data built from a tokenizer.json.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "model/tokenizer.h"
#include "model/tokenizer_data.h"

namespace xpusim::model::testing {

inline std::string tokenizer_data_dir() { return std::string(XPUSIM_TEST_DATA) + "/tokenizers"; }

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return nlohmann::json::parse(buffer.str());
}

// Escapes control and non-ASCII bytes so a failing case prints readably.
inline std::string printable(std::string_view text, size_t limit = 160) {
  std::string out;
  for (char ch : text.substr(0, limit)) {
    const auto b = static_cast<uint8_t>(ch);
    if (b == '\n')
      out += "\\n";
    else if (b == '\r')
      out += "\\r";
    else if (b == '\t')
      out += "\\t";
    else if (b < 0x20 || b == 0x7F)
      out += "\\x" + std::to_string(b);
    else
      out += ch;
  }
  return text.size() > limit ? out + "..." : out;
}

// The same vocabulary as GGUF metadata (dense ids: holes of a reduced vocab get inert placeholder strings).
inline GgufTokenizerData gguf_data_from_hf_json(const std::string& family, const std::string& pre,
                                                bool add_bos) {
  const nlohmann::json j = read_json(tokenizer_data_dir() + "/" + family + "/tokenizer.json");
  GgufTokenizerData data;
  data.source = family + " (as GGUF)";
  data.model = "gpt2";
  data.pre = pre;
  size_t size = 0;
  for (const auto& [token, id] : j["model"]["vocab"].items()) size = std::max(size, id.get<size_t>() + 1);
  for (const auto& added : j["added_tokens"]) size = std::max(size, added["id"].get<size_t>() + 1);
  data.tokens.resize(size);
  data.token_types.assign(size, 1);
  for (size_t i = 0; i < size; ++i) data.tokens[i] = "[unused " + std::to_string(i) + "]";
  for (const auto& [token, id] : j["model"]["vocab"].items()) data.tokens[id.get<size_t>()] = token;
  for (const auto& added : j["added_tokens"]) {
    data.tokens[added["id"].get<size_t>()] = added["content"].get<std::string>();
    data.token_types[added["id"].get<size_t>()] = added["special"].get<bool>() ? 3 : 4;
  }
  for (const auto& merge : j["model"]["merges"])
    data.merges.push_back(merge.is_string()
                              ? merge.get<std::string>()
                              : merge[0].get<std::string>() + " " + merge[1].get<std::string>());
  data.add_bos_token = add_bos;
  if (add_bos)
    data.bos_token_id = j["post_processor"]["processors"][1]["special_tokens"].begin().value()["ids"][0];
  return data;
}

}  // namespace xpusim::model::testing
