// safetensors reader: one file or a sharded checkpoint (model.safetensors.index.json), mmapped, zero-copy.
// Tensor views keep the HF names and point straight into the mapping; `owners` keep the mappings alive
// (hand them to Weights::keep_alive). Views may be unaligned (the header length is arbitrary): read with
// memcpy. Validation follows the safetensors crate (0.8): u64 header length within the file and <= 100 MB, a
// JSON object without duplicate keys, known dtypes, data_offsets that match shape x dtype size and tile the
// data buffer exactly (no gaps, no overlap, nothing left over), `__metadata__` a string -> string map.
// Non-goals: writing files; name mapping (model/checkpoint does that).
// HOWTO add a dtype: add it to core/dtype and to kSafetensorsDTypes in safetensors.cpp.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/weights.h"

namespace xpusim::model {

struct SafetensorsFile {
  std::string source;                           // path, for messages
  std::vector<TensorView> tensors;              // HF names, in data-offset order
  std::map<std::string, std::string> metadata;  // `__metadata__`
  std::shared_ptr<const void> owner;            // the mapping (null for parse_safetensors)
};

// Parses a whole file image. Views point into `file_bytes`, which the caller keeps alive.
// Throws xpusim::Error("<source>: ...") on any malformed input.
SafetensorsFile parse_safetensors(std::span<const std::byte> file_bytes, const std::string& source);

// mmaps `path` and parses it; the result's owner keeps the mapping alive.
SafetensorsFile open_safetensors(const std::filesystem::path& path);

// All tensors of a checkpoint, by HF name.
struct SafetensorsCheckpoint {
  std::string source;                                      // file or index path
  std::map<std::string, TensorView, std::less<>> tensors;  // HF name -> view
  std::vector<std::shared_ptr<const void>> owners;         // one per mapped shard
};

// `path` is a .safetensors file, a model.safetensors.index.json, or a folder holding either
// (model.safetensors preferred, else model.safetensors.index.json). With an index every shard is mapped once,
// and every tensor the index names must exist in the shard it names.
SafetensorsCheckpoint open_safetensors_checkpoint(const std::filesystem::path& path);

}  // namespace xpusim::model
