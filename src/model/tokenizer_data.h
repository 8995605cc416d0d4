// GgufTokenizerData: the tokenizer as GGUF metadata describes it (tokenizer.ggml.*), already read from the
// file. The GGUF reader fills it; Tokenizer builds from it. Keeps the tokenizer independent of the container.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xpusim::model {

struct GgufTokenizerData {
  std::string source;  // file path, for error messages
  std::string model;   // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SPM)
  std::string pre;     // tokenizer.ggml.pre: "smollm", "llama-bpe", "qwen2", "gpt-2", "default"...
  std::vector<std::string> tokens;  // tokenizer.ggml.tokens
  std::vector<float> scores;        // tokenizer.ggml.scores (may be empty)
  std::vector<int32_t>
      token_types;  // tokenizer.ggml.token_type (1 normal, 2 unknown, 3 control, 4 user, 6 byte)
  std::vector<std::string> merges;  // tokenizer.ggml.merges ("a b")
  int64_t bos_token_id = -1;
  int64_t eos_token_id = -1;
  int64_t unknown_token_id = -1;
  int64_t padding_token_id = -1;
  bool add_bos_token = false;
  bool add_space_prefix = false;
  std::string chat_template;  // tokenizer.chat_template (Jinja text; used to pick a built-in template)
};

}  // namespace xpusim::model
