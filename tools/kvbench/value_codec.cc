// See value_codec.h for the layout.
#include "tools/kvbench/value_codec.h"

#include <fmt/format.h>

#include "common/check.h"
#include "tools/kvbench/rng.h"

namespace kv::kvbench {
namespace {

constexpr std::string_view kDigits = "0123456789abcdefghijklmnopqrstuvwxyz";
// 64 symbols, so one 64-bit draw gives ten filler bytes.
constexpr std::string_view kFillerSymbols =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr size_t kKeyDigits = 7, kWriterDigits = 3, kSeqDigits = 8,
                 kCheckDigits = 2;

void append_base36(std::string& out, uint64_t value, size_t digits) {
  size_t at = out.size();
  out.resize(at + digits);
  for (size_t i = digits; i-- > 0;) {
    out[at + i] = kDigits[value % 36];
    value /= 36;
  }
}

bool parse_base36(std::string_view text, uint64_t& value) {
  value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'z') {
      digit = c - 'a' + 10;
    } else {
      return false;
    }
    value = value * 36 + static_cast<uint64_t>(digit);
  }
  return true;
}

uint64_t id_hash(const ValueId& id) {
  return mix64(mix64(mix64(id.key) ^ id.writer) ^ id.seq);
}

uint64_t check_of(const ValueId& id, size_t size) {
  return mix64(id_hash(id) ^ size) % (36 * 36);
}

// The filler for id: a splitmix64 stream, six bits per byte, handed to
// emit one byte at a time until it returns false. One generator serves
// writing and checking, so the two cannot drift apart.
template <typename Emit>
void generate_filler(const ValueId& id, size_t bytes, Emit emit) {
  uint64_t state = id_hash(id);
  while (bytes > 0) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t word = mix64(state);
    for (int i = 0; i < 10 && bytes > 0; ++i, --bytes) {
      if (!emit(kFillerSymbols[word & 63])) return;
      word >>= 6;
    }
  }
}

}  // namespace

void append_value(std::string& out, const ValueId& id, size_t size) {
  KV_CHECK(size >= kMinValueBytes, "value smaller than its header");
  KV_CHECK(id.key <= kMaxValueKey && id.writer <= kMaxValueWriter &&
               id.seq <= kMaxValueSeq,
           "value id out of the codec's range");
  append_base36(out, id.key, kKeyDigits);
  append_base36(out, id.writer, kWriterDigits);
  append_base36(out, id.seq, kSeqDigits);
  append_base36(out, check_of(id, size), kCheckDigits);
  size_t at = out.size();
  out.resize(at + size - kValueHeaderBytes);
  char* p = out.data() + at;
  generate_filler(id, size - kValueHeaderBytes, [&p](char c) {
    *p++ = c;
    return true;
  });
}

std::string make_value(const ValueId& id, size_t size) {
  std::string out;
  out.reserve(size);
  append_value(out, id, size);
  return out;
}

Result<ValueId> decode_value(std::string_view value, size_t size) {
  if (value.size() < kValueHeaderBytes)
    return Status::data_loss(fmt::format(
        "{} bytes, shorter than a kvbench value's header", value.size()));
  uint64_t key, writer, seq, check;
  size_t at = 0;
  bool digits =
      parse_base36(value.substr(at, kKeyDigits), key) &&
      parse_base36(value.substr(at += kKeyDigits, kWriterDigits), writer) &&
      parse_base36(value.substr(at += kWriterDigits, kSeqDigits), seq) &&
      parse_base36(value.substr(at += kSeqDigits, kCheckDigits), check);
  if (!digits) return Status::data_loss("not a value kvbench wrote");
  ValueId id{key, static_cast<uint32_t>(writer), seq};
  if (value.size() != size)
    return Status::data_loss(fmt::format(
        "{} bytes, want {} (truncated, padded, or written with another "
        "--value-size)",
        value.size(), size));
  // A value of the right shape whose numbers were altered would otherwise
  // pass as another key's (or another writer's) value.
  if (check != check_of(id, size))
    return Status::data_loss(
        "header checksum mismatch (corrupted, or not a value kvbench wrote)");
  std::string_view filler = value.substr(kValueHeaderBytes);
  size_t at_byte = 0;
  generate_filler(id, filler.size(), [&](char c) {
    if (filler[at_byte] != c) return false;
    ++at_byte;
    return true;
  });
  if (at_byte != filler.size())
    return Status::data_loss(fmt::format(
        "corrupted at byte {} of {} (header says key:{}, writer {}, seq {})",
        kValueHeaderBytes + at_byte, size, id.key, id.writer, id.seq));
  return id;
}

}  // namespace kv::kvbench
