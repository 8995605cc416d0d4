// Fuzzes the program cache reader (compiler/program_cache.h): every input must decode to programs or be
// refused with a reason, never crash, hang or allocate without bound. Half of the inputs are wrapped in a
// valid header (magic, version, key, size, checksum) so the payload parser itself is reached.
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "compiler/program_cache.h"

namespace {

template <typename T>
void put(std::vector<uint8_t>& out, T value) {
  uint8_t bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xpusim::compiler;
  constexpr uint64_t kKey = 0x1234'5678'9abc'def0ULL;
  std::string why;
  std::vector<uint8_t> bytes(data, data + size);
  if (size > 0 && (data[0] & 1)) {
    std::vector<uint8_t> wrapped = {'X', 'P', 'U', 'P', 'R', 'O', 'G', '\0'};
    put(wrapped, kProgramCacheFormat);
    put(wrapped, uint32_t{0});
    put(wrapped, kKey);
    put(wrapped, static_cast<uint64_t>(size - 1));
    put(wrapped, static_cast<uint64_t>(XXH3_64bits(data + 1, size - 1)));
    wrapped.insert(wrapped.end(), data + 1, data + size);
    bytes = std::move(wrapped);
  }
  const auto programs = decode_programs(bytes, kKey, why);
  // A decoded file must encode back to the same bytes (the format has one spelling per value).
  if (programs && encode_programs(kKey, *programs) != bytes) __builtin_trap();
  return 0;
}
