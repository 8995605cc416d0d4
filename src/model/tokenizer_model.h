// Vocabulary and the subword models that turn one pre-tokenized piece into ids:
//  - BpeModel: HF BPE (merge ranks from tokenizer.json or GGUF "gpt2" merges; lowest rank first, leftmost
//    among equals), with ignore_merges, byte_fallback (<0xXX> tokens), unk / fuse_unk.
//  - SpmModel: llama.cpp's SentencePiece BPE for GGUF "llama" vocabularies (merge the adjacent pair whose
//    concatenation is a token with the highest score, leftmost among equals; byte fallback).
// Non-goals: Unigram, WordPiece, BPE dropout, continuing_subword_prefix/end_of_word_suffix.
// HOWTO add a model: a TokenModel subclass in its own tokenizer_<name>.cpp, built by the loaders
// (tokenizer_hf_json.cpp / tokenizer_gguf.cpp); golden cases in tests/model/tokenizer_test.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace xpusim::model {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Every token (model vocab and added tokens). Ids may be sparse (holes have an empty string).
struct Vocab {
  std::vector<std::string> id_to_token;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> token_to_id;

  int32_t find(std::string_view token) const {
    auto it = token_to_id.find(token);
    return it == token_to_id.end() ? -1 : it->second;
  }
  // Adds or re-binds a token; grows id_to_token as needed.
  void set(int32_t id, std::string token);
};

class TokenModel {
 public:
  virtual ~TokenModel() = default;
  // Appends the ids of one piece (already normalized, pre-tokenized and, for byte-level BPE, byte-mapped).
  virtual void encode(std::string_view piece, std::vector<int32_t>& ids) const = 0;
};

struct BpeOptions {
  bool ignore_merges = false;  // a piece that is itself a token is emitted as is (Llama 3)
  bool byte_fallback = false;  // unknown characters become <0xXX> tokens (SentencePiece-converted models)
  bool fuse_unk = false;       // consecutive unknown characters give one unk id
  int32_t unk_id = -1;         // -1: unknown characters are dropped (as HF does without unk_token)
};

class BpeModel final : public TokenModel {
 public:
  // `merges` are (left id, right id, merged id) in rank order (index = rank). `vocab` holds the model tokens
  // only.
  BpeModel(std::shared_ptr<const Vocab> vocab, const std::vector<std::array<int32_t, 3>>& merges,
           BpeOptions options);
  void encode(std::string_view piece, std::vector<int32_t>& ids) const override;

 private:
  struct MergeTarget {
    int32_t rank, merged_id;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  std::shared_ptr<const Vocab> m_vocab;
  BpeOptions m_options;
  std::unordered_map<uint64_t, MergeTarget> m_merges;
  std::vector<int32_t> m_byte_ids;  // id of <0xXX> per byte value, -1 if absent
};

class SpmModel final : public TokenModel {
 public:
  // `scores[id]` is the piece score; `unk_id` (may be -1) is used for bytes without a <0xXX> token.
  SpmModel(std::shared_ptr<const Vocab> vocab, std::vector<float> scores, int32_t unk_id);
  void encode(std::string_view piece, std::vector<int32_t>& ids) const override;

 private:
  void resegment(std::string_view text,
                 const std::unordered_map<std::string_view, std::pair<size_t, size_t>>& merged_from,
                 std::vector<int32_t>& ids) const;
  std::shared_ptr<const Vocab> m_vocab;
  std::vector<float> m_scores;
  int32_t m_unk_id;
  std::vector<int32_t> m_byte_ids;
};

// Ids of the 256 "<0xXX>" byte tokens (-1 where missing).
std::vector<int32_t> find_byte_token_ids(const Vocab& vocab);

}  // namespace xpusim::model
