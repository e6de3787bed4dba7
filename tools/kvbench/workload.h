// What each connection asks for: key names (`key:<n>`), which key comes
// next (uniform or Zipfian over the keys a connection may touch), and GET or
// SET. Pure and seeded: the engine owns the sockets, the values are
// value_codec.h's.
//
// A connection draws from a slice of the key space, offset + stride * j for
// j in [0, count): the whole space (offset 0, stride 1) normally, and under
// --verify the residue class of keys it alone owns (offset = its index,
// stride = the number of connections), so that it alone writes them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tools/kvbench/rng.h"
#include "tools/kvbench/zipfian.h"

namespace kv::kvbench {

enum class Distribution { kUniform, kZipfian };

// "key:<n>", appended without building a std::string per request.
void append_key(std::string& out, uint64_t key);
std::string key_name(uint64_t key);

struct KeySlice {
  uint64_t offset = 0;
  uint64_t stride = 1;
  uint64_t count = 0;  // keys in the slice, >= 1

  uint64_t key_at(uint64_t j) const { return offset + stride * j; }
  // The index of key in this slice; key must belong to it.
  uint64_t index_of(uint64_t key) const { return (key - offset) / stride; }
};

// The keys owned by connection `index` of `connections` in a space of
// `keys`: key k belongs to connection k % connections. Used for --verify
// and, in every mode, to split the preload.
KeySlice owned_keys(uint64_t keys, uint64_t connections, uint64_t index);

class KeyChooser {
 public:
  // zipf is shared between connections whose slices have the same count
  // (computing zeta is the expensive part); null for uniform.
  KeyChooser(KeySlice slice, std::shared_ptr<const Zipfian> zipf)
      : slice_(slice), zipf_(std::move(zipf)) {}

  uint64_t next(Rng& rng) const {
    uint64_t j = zipf_ ? zipf_->next(rng) : rng.below(slice_.count);
    return slice_.key_at(j);
  }
  const KeySlice& slice() const { return slice_; }

 private:
  KeySlice slice_;
  std::shared_ptr<const Zipfian> zipf_;
};

}  // namespace kv::kvbench
