// RoPE inverse frequencies of a model's rotary configuration: inv_freq[i] = theta^(-2i/d) in fp32, then the
// scaling rule (HF modeling_rope_utils: linear, llama3), all in fp32 as HF computes them. One definition for
// every target (host executor, engine compiler, CUDA) so their RoPE tables agree bit for bit.
// HOWTO add a scaling rule: a RopeScaling value (model/config.h) and its branch in rope.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace xpusim::model {

std::vector<float> rope_inverse_frequencies(const RopeConfig& rope, int64_t head_dim);

}  // namespace xpusim::model
