// Tokenizer throughput: encode/decode MB/s of the multilingual test corpus (repeated to ~200 KB) for each
// family in tests/data/tokenizers/, plus the real SmolLM2 vocabulary from its GGUF when it is on this
// machine. Prints bytes_per_second (Google Benchmark's "bytes/s" column). Aim: > 1 MB/s encode.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "model/gguf.h"
#include "model/gguf_model.h"
#include "model/tokenizer.h"

namespace {

using xpusim::model::Tokenizer;

const std::string kDataDir = std::string(XPUSIM_SOURCE_DIR) + "/tests/data/tokenizers";

const std::string& corpus_text() {
  static const std::string text = [] {
    std::ifstream in(kDataDir + "/corpus.txt", std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string once = buffer.str(), repeated;
    while (!once.empty() && repeated.size() < 200'000) repeated += once;
    return repeated;
  }();
  return text;
}

std::unique_ptr<Tokenizer> load_family(const std::string& family) {
  return Tokenizer::from_hf_json(kDataDir + "/" + family + "/tokenizer.json");
}

void encode_bench(benchmark::State& state, const Tokenizer& tokenizer) {
  const std::string& text = corpus_text();
  size_t tokens = 0;
  for (auto _ : state) {
    auto ids = tokenizer.encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}

void BM_Encode(benchmark::State& state, const char* family) { encode_bench(state, *load_family(family)); }
BENCHMARK_CAPTURE(BM_Encode, smollm2, "smollm2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, llama3, "llama3")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, qwen3, "qwen3")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, gpt2, "gpt2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, gemma3, "gemma3")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, mixtral, "mixtral")->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State& state) {
  auto tokenizer = load_family("llama3");
  const auto ids = tokenizer->encode(corpus_text());
  for (auto _ : state) benchmark::DoNotOptimize(tokenizer->decode(ids));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus_text().size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

std::string smollm2_gguf() {
  const std::string name = "SmolLM2-135M-Instruct.Q4_1.gguf";
  if (const char* dir = std::getenv("XPUSIM_MODEL_DIR"); dir && *dir) return std::string(dir) + "/" + name;
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/xpusim/models/smollm2-135m/" + name;
  return {};
}

// Real 49152-token vocabulary: load time and encode speed.
void BM_SmolLM2GgufLoad(benchmark::State& state) {
  const std::string path = smollm2_gguf();
  if (path.empty() || !std::ifstream(path)) {
    state.SkipWithError("SmolLM2 GGUF not found (XPUSIM_MODEL_DIR)");
    return;
  }
  const auto data = xpusim::model::tokenizer_from_gguf(xpusim::model::GgufFile::open(path));
  for (auto _ : state) benchmark::DoNotOptimize(Tokenizer::from_gguf_data(data));
}
BENCHMARK(BM_SmolLM2GgufLoad)->Unit(benchmark::kMillisecond);

void BM_SmolLM2GgufEncode(benchmark::State& state) {
  const std::string path = smollm2_gguf();
  if (path.empty() || !std::ifstream(path)) {
    state.SkipWithError("SmolLM2 GGUF not found (XPUSIM_MODEL_DIR)");
    return;
  }
  auto tokenizer =
      Tokenizer::from_gguf_data(xpusim::model::tokenizer_from_gguf(xpusim::model::GgufFile::open(path)));
  encode_bench(state, *tokenizer);
}
BENCHMARK(BM_SmolLM2GgufEncode)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
