// HF BPE: rank-ordered merges over the characters of a piece, with byte fallback and unk handling.
#include <fmt/format.h>

#include <queue>

#include "model/tokenizer_model.h"
#include "model/unicode.h"

namespace xpusim::model {

void Vocab::set(int32_t id, std::string token) {
  if (static_cast<size_t>(id) >= id_to_token.size()) id_to_token.resize(static_cast<size_t>(id) + 1);
  token_to_id[token] = id;
  id_to_token[static_cast<size_t>(id)] = std::move(token);
}

std::vector<int32_t> find_byte_token_ids(const Vocab& vocab) {
  std::vector<int32_t> ids(256, -1);
  for (int b = 0; b < 256; ++b) ids[static_cast<size_t>(b)] = vocab.find(fmt::format("<0x{:02X}>", b));
  return ids;
}

BpeModel::BpeModel(std::shared_ptr<const Vocab> vocab, const std::vector<std::array<int32_t, 3>>& merges,
                   BpeOptions options)
    : m_vocab(std::move(vocab)), m_options(options), m_byte_ids(find_byte_token_ids(*m_vocab)) {
  m_merges.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right, merged] = merges[rank];
    m_merges.try_emplace(pair_key(left, right),
                         MergeTarget{static_cast<int32_t>(rank), merged});  // first wins
  }
}

void BpeModel::encode(std::string_view piece, std::vector<int32_t>& ids) const {
  if (piece.empty()) return;
  if (m_options.ignore_merges) {
    if (const int32_t id = m_vocab->find(piece); id >= 0) {
      ids.push_back(id);
      return;
    }
  }
  struct Symbol {
    int32_t id;
    int prev, next;
    bool alive;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(piece.size());
  bool previous_unk = false;
  auto push = [&](int32_t id) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, index + 1, true});
  };
  for (size_t pos = 0; pos < piece.size();) {
    const size_t len = utf8_sequence_length(piece, pos);
    const std::string_view ch = piece.substr(pos, len);
    pos += len;
    if (const int32_t id = m_vocab->find(ch); id >= 0) {
      push(id);
      previous_unk = false;
      continue;
    }
    if (m_options.byte_fallback) {
      bool all_bytes = true;
      for (char b : ch) all_bytes = all_bytes && m_byte_ids[static_cast<uint8_t>(b)] >= 0;
      if (all_bytes) {
        for (char b : ch) push(m_byte_ids[static_cast<uint8_t>(b)]);
        previous_unk = false;
        continue;
      }
    }
    if (m_options.unk_id >= 0) {
      if (!(m_options.fuse_unk && previous_unk)) push(m_options.unk_id);
      previous_unk = true;
    }
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  struct Candidate {
    int32_t rank;
    int pos;
    int32_t merged_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int left) {
    const int right = symbols[static_cast<size_t>(left)].next;
    if (left < 0 || right < 0) return;
    auto it = m_merges.find(
        pair_key(symbols[static_cast<size_t>(left)].id, symbols[static_cast<size_t>(right)].id));
    if (it != m_merges.end()) queue.push({it->second.rank, left, it->second.merged_id});
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[static_cast<size_t>(top.pos)];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[static_cast<size_t>(left.next)];
    auto it = m_merges.find(pair_key(left.id, right.id));
    if (it == m_merges.end() || it->second.merged_id != top.merged_id) continue;  // stale candidate
    left.id = top.merged_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = top.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(top.pos);
  }
  for (const Symbol& s : symbols)
    if (s.alive) ids.push_back(s.id);
}

}  // namespace xpusim::model
