#include "runtime/sequence_output.h"

#include <algorithm>

#include "core/error.h"

namespace xpusim::runtime {

size_t stop_string_holdback(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& stop : stops) {
    for (size_t len = std::min(stop.size() - 1, text.size()); len > hold; --len) {
      if (text.substr(text.size() - len) == std::string_view(stop).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  return hold;
}

SequenceOutput::SequenceOutput(const TextCodec& codec, std::vector<int32_t> stop_ids,
                               std::vector<std::string> stop_strings)
    : m_stream(codec.stream()), m_stop_ids(std::move(stop_ids)), m_stop_strings(std::move(stop_strings)) {
  for (const std::string& stop : m_stop_strings)
    if (stop.empty()) fail("stop: a stop string must not be empty");
}

std::string SequenceOutput::push(int32_t id) {
  XPUSIM_ASSERT(m_finish == Finish::none);
  if (std::find(m_stop_ids.begin(), m_stop_ids.end(), id) != m_stop_ids.end()) {
    m_finish = Finish::eos;
    return {};
  }
  m_text += m_stream.step(id);
  // A stop string cannot start inside released text: any tail that could begin one was held back.
  size_t cut = std::string::npos;
  for (const std::string& stop : m_stop_strings) cut = std::min(cut, m_text.find(stop, m_released));
  size_t release = m_text.size() - stop_string_holdback(m_text, m_stop_strings);
  if (cut != std::string::npos) {
    m_text.resize(cut);
    release = cut;
    m_finish = Finish::stop_string;
  }
  std::string piece = release > m_released ? m_text.substr(m_released, release - m_released) : std::string();
  m_released = std::max(m_released, release);
  return piece;
}

std::string SequenceOutput::flush() {
  if (m_finish != Finish::stop_string) m_text += m_stream.flush();
  std::string rest = m_text.substr(std::min(m_released, m_text.size()));
  m_released = m_text.size();
  return rest;
}

}  // namespace xpusim::runtime
