// SequenceOutput: the output side of one generated sequence, shared by every generation loop (the
// one-sequence loop in runtime/generate.h and the batched serving engine). Each sampled id is checked against
// the end-of-sequence ids, detokenized incrementally, and the text cut at the first stop string; text that
// could still become a stop string is held back until the next token decides, so streamed text is always
// final.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/text_codec.h"

namespace xpusim::runtime {

class SequenceOutput {
 public:
  enum class Finish { none, eos, stop_string };

  // Fails (xpusim::Error) on an empty stop string.
  SequenceOutput(const TextCodec& codec, std::vector<int32_t> stop_ids,
                 std::vector<std::string> stop_strings);

  // Feeds one sampled id; returns the text it released (final text, possibly empty). After an end-of-sequence
  // id or a stop string, finished() says which (an end-of-sequence id adds no text).
  std::string push(int32_t id);
  // Ends the sequence for another reason (token budget, context): returns the rest of the text, held-back
  // tail and incomplete bytes included. Nothing to add after a stop string.
  std::string flush();

  Finish finished() const { return m_finish; }
  const std::string& text() const { return m_text; }

 private:
  TextCodec::Stream m_stream;
  std::vector<int32_t> m_stop_ids;
  std::vector<std::string> m_stop_strings;
  std::string m_text;
  size_t m_released = 0;  // bytes of m_text already returned
  Finish m_finish = Finish::none;
};

// Length of the longest suffix of `text` that is a proper prefix of some stop string: a streamer holds that
// much back until the next token shows whether the stop string completes.
size_t stop_string_holdback(std::string_view text, const std::vector<std::string>& stops);

}  // namespace xpusim::runtime
