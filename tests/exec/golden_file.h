// Reader for the model golden files written by tools/make_model_goldens.py (layout in that script's
// docstring): magic "XPUGOLD\0", u32 format version, u32 header length, header JSON, fp32 logits.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace xpusim::testing {

struct ModelGolden {
  nlohmann::json header;
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> greedy_ids;
  int64_t rows = 0;
  int64_t vocab = 0;
  std::vector<float> logits;  // [rows, vocab]
};

inline ModelGolden read_model_golden(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ModelGolden golden;
  if (bytes.size() < 16 || std::memcmp(bytes.data(), "XPUGOLD\0", 8) != 0) {
    ADD_FAILURE() << path << ": not a model golden file";
    return golden;
  }
  uint32_t version = 0, header_len = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&header_len, bytes.data() + 12, 4);
  EXPECT_EQ(version, 1u) << path << ": golden format version";
  golden.header = nlohmann::json::parse(bytes.begin() + 16, bytes.begin() + 16 + header_len);
  golden.prompt_ids = golden.header["prompt_ids"].get<std::vector<int32_t>>();
  golden.greedy_ids = golden.header["greedy_ids"].get<std::vector<int32_t>>();
  golden.rows = golden.header["logits_shape"][0].get<int64_t>();
  golden.vocab = golden.header["logits_shape"][1].get<int64_t>();
  size_t floats = static_cast<size_t>(golden.rows * golden.vocab);
  EXPECT_EQ(bytes.size(), 16 + header_len + floats * 4) << path << ": size";
  golden.logits.resize(floats);
  std::memcpy(golden.logits.data(), bytes.data() + 16 + header_len,
              std::min(floats * 4, bytes.size() - 16 - header_len));
  return golden;
}

}  // namespace xpusim::testing
