// llama.cpp's SentencePiece BPE (GGUF tokenizer.ggml.model = "llama"): merge by highest piece score.
#include <queue>

#include "model/tokenizer_model.h"
#include "model/unicode.h"

namespace xpusim::model {

SpmModel::SpmModel(std::shared_ptr<const Vocab> vocab, std::vector<float> scores, int32_t unk_id)
    : m_vocab(std::move(vocab)),
      m_scores(std::move(scores)),
      m_unk_id(unk_id),
      m_byte_ids(find_byte_token_ids(*m_vocab)) {
  m_scores.resize(m_vocab->id_to_token.size(), 0.0f);
}

void SpmModel::encode(std::string_view piece, std::vector<int32_t>& ids) const {
  struct Symbol {
    size_t begin, size;  // byte range in `piece`; size 0 once merged into its left neighbour
    int prev, next;
  };
  std::vector<Symbol> symbols;
  for (size_t pos = 0; pos < piece.size();) {
    const size_t len = utf8_sequence_length(piece, pos);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({pos, len, index - 1, index + 1});
    pos += len;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  struct Bigram {
    float score;
    int left;
    size_t size;  // combined byte size when queued, to detect stale entries
    bool operator<(const Bigram& o) const { return score != o.score ? score < o.score : left > o.left; }
  };
  std::priority_queue<Bigram> queue;
  std::unordered_map<std::string_view, std::pair<size_t, size_t>>
      merged_from;  // text -> (left size, right size)
  auto consider = [&](int left) {
    if (left < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    if (l.next < 0) return;
    const Symbol& r = symbols[static_cast<size_t>(l.next)];
    const std::string_view text = piece.substr(l.begin, l.size + r.size);
    const int32_t id = m_vocab->find(text);
    if (id < 0) return;
    queue.push({m_scores[static_cast<size_t>(id)], left, text.size()});
    merged_from.try_emplace(text, l.size, r.size);
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const Bigram top = queue.top();
    queue.pop();
    Symbol& l = symbols[static_cast<size_t>(top.left)];
    if (l.size == 0 || l.next < 0) continue;
    Symbol& r = symbols[static_cast<size_t>(l.next)];
    if (l.size + r.size != top.size) continue;  // one side changed since this bigram was queued
    l.size += r.size;
    r.size = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = top.left;
    consider(l.prev);
    consider(top.left);
  }
  for (int i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& s = symbols[static_cast<size_t>(i)];
    resegment(piece.substr(s.begin, s.size), merged_from, ids);
  }
}

void SpmModel::resegment(std::string_view text,
                         const std::unordered_map<std::string_view, std::pair<size_t, size_t>>& merged_from,
                         std::vector<int32_t>& ids) const {
  if (const int32_t id = m_vocab->find(text); id >= 0) {
    ids.push_back(id);
    return;
  }
  if (auto it = merged_from.find(text); it != merged_from.end()) {
    resegment(text.substr(0, it->second.first), merged_from, ids);
    resegment(text.substr(it->second.first), merged_from, ids);
    return;
  }
  for (char b : text) {  // byte fallback
    const int32_t id = m_byte_ids[static_cast<uint8_t>(b)];
    if (id >= 0) {
      ids.push_back(id);
    } else if (m_unk_id >= 0) {
      ids.push_back(m_unk_id);
    }
  }
}

}  // namespace xpusim::model
