#include "model/rope.h"

#include <cmath>

namespace xpusim::model {

std::vector<float> rope_inverse_frequencies(const RopeConfig& rope, int64_t head_dim) {
  std::vector<float> inv_freq(static_cast<size_t>(head_dim / 2));
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    inv_freq[static_cast<size_t>(i)] =
        1.0f / static_cast<float>(std::pow(rope.theta, static_cast<double>(exponent)));
  }
  const float factor = static_cast<float>(rope.factor);
  if (rope.scaling == RopeScaling::LINEAR) {
    for (float& f : inv_freq) f /= factor;
  } else if (rope.scaling == RopeScaling::LLAMA3) {
    const float old_context = static_cast<float>(rope.original_max_positions);
    const float low = static_cast<float>(rope.low_freq_factor),
                high = static_cast<float>(rope.high_freq_factor);
    const float low_freq_wavelen = old_context / low, high_freq_wavelen = old_context / high;
    for (float& f : inv_freq) {
      const float wavelen = 2.0f * static_cast<float>(M_PI) / f;
      float scaled = wavelen > low_freq_wavelen ? f / factor : f;
      if (!(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen)) {
        const float smooth = (old_context / wavelen - low) / (high - low);
        scaled = (1.0f - smooth) * scaled / factor + smooth * scaled;
      }
      f = scaled;
    }
  }
  return inv_freq;
}

}  // namespace xpusim::model
