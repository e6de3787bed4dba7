// See record.h. The checksum covers the length field too: a flipped bit in
// a length would otherwise send the reader to the wrong place with nothing
// to say so.
#include "record.h"

#include <zlib.h>

#include <cstring>

#include "common/not_implemented.h"

namespace kv::lab02 {
namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t get_u32(std::string_view bytes) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  return v;
}
uint64_t get_u64(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  return v;
}

uint32_t crc_of(std::string_view bytes, uint32_t crc = 0) {
  return static_cast<uint32_t>(
      ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()),
              static_cast<uInt>(bytes.size())));
}

std::string_view magic_of(FileKind kind) {
  return kind == FileKind::kLog ? kLogMagic : kCheckpointMagic;
}

}  // namespace

std::string encode_file_header(FileKind kind, uint64_t generation) {
  std::string header(magic_of(kind));
  put_u64(header, generation);
  return header;
}

bool check_file_header(std::string_view bytes, FileKind kind,
                       uint64_t generation) {
  return bytes.size() >= kFileHeaderBytes &&
         bytes.substr(0, kFileHeaderBytes) ==
             encode_file_header(kind, generation);
}

bool is_header_prefix(std::string_view bytes, FileKind kind,
                      uint64_t generation) {
  return bytes.size() < kFileHeaderBytes &&
         encode_file_header(kind, generation).starts_with(bytes);
}

void encode_record(const Record& record, std::string& out) {
  // LAB02 BEGIN: encode_record — frame a record: length, crc, type, payload
  std::string body;
  body.push_back(static_cast<char>(record.type));
  switch (record.type) {
    case RecordType::kSet:
      put_u32(body, static_cast<uint32_t>(record.key.size()));
      body += record.key;
      body += record.value;
      break;
    case RecordType::kDel:
      body += record.key;
      break;
    case RecordType::kEnd:
      put_u64(body, record.count);
      break;
  }
  std::string length;
  put_u32(length, static_cast<uint32_t>(body.size()));
  const uint32_t crc = crc_of(body, crc_of(length));
  out += length;
  put_u32(out, crc);
  out += body;
  // LAB02 END
}

DecodeResult decode_record(std::string_view bytes, Record& record) {
  // LAB02 BEGIN: decode_record — check one record: truncated, bad, or good
  if (bytes.size() < 8)
    return {Decoded::kTruncated, 0, "the record header is cut short"};
  const uint32_t length = get_u32(bytes);
  if (length == 0 || length > kMaxRecordLength)
    return {Decoded::kBad, 0,
            "impossible record length " + std::to_string(length)};
  if (bytes.size() - 8 < length)
    return {Decoded::kTruncated, 0,
            "the record claims " + std::to_string(length) +
                " bytes but the file ends after " +
                std::to_string(bytes.size() - 8)};
  const std::string_view body = bytes.substr(8, length);
  if (crc_of(body, crc_of(bytes.substr(0, 4))) != get_u32(bytes.substr(4)))
    return {Decoded::kBad, 0, "checksum mismatch"};
  const std::string_view payload = body.substr(1);
  switch (static_cast<RecordType>(body[0])) {
    case RecordType::kSet: {
      if (payload.size() < 4) return {Decoded::kBad, 0, "SET without a key"};
      const uint32_t key_size = get_u32(payload);
      if (key_size > payload.size() - 4)
        return {Decoded::kBad, 0, "SET key longer than the record"};
      record.type = RecordType::kSet;
      record.key.assign(payload.substr(4, key_size));
      record.value.assign(payload.substr(4 + key_size));
      break;
    }
    case RecordType::kDel:
      record.type = RecordType::kDel;
      record.key.assign(payload);
      record.value.clear();
      break;
    case RecordType::kEnd:
      if (payload.size() != 8) return {Decoded::kBad, 0, "malformed END"};
      record.type = RecordType::kEnd;
      record.count = get_u64(payload);
      break;
    default:
      return {Decoded::kBad, 0,
              "unknown record type " +
                  std::to_string(static_cast<unsigned char>(body[0]))};
  }
  return {Decoded::kOk, 8 + size_t{length}, ""};
  // LAB02 END
}

}  // namespace kv::lab02
