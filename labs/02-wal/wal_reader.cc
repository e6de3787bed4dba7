// See wal_reader.h.
#include "wal_reader.h"

#include "common/not_implemented.h"
#include "wal_format.h"

namespace kv::lab02 {

ScanResult scan_records(std::string_view bytes, size_t start,
                        const std::function<void(const Record&)>& on_record) {
  // LAB02 BEGIN: scan_records — decode in order; torn tail or corruption?
  ScanResult result;
  size_t offset = start;
  Record record;
  while (offset < bytes.size()) {
    DecodeResult decoded = decode_record(bytes.substr(offset), record);
    if (decoded.status != Decoded::kOk) {
      result.end = valid_record_after(bytes, offset)
                       ? ScanResult::End::kCorrupt
                       : ScanResult::End::kTornTail;
      result.reason = decoded.reason;
      break;
    }
    on_record(record);
    ++result.records;
    offset += decoded.size;
  }
  result.valid_bytes = offset;
  return result;
  // LAB02 END
}

bool valid_record_after(std::string_view bytes, size_t from) {
  // Every offset is a candidate: the damage may have changed a length, so
  // record boundaries after it are unknown. decode_record rejects most
  // offsets on their length alone and checksums only the plausible ones.
  Record record;
  for (size_t offset = from + 1; offset + kRecordPrefixBytes < bytes.size();
       ++offset) {
    if (decode_record(bytes.substr(offset), record).status == Decoded::kOk)
      return true;
  }
  return false;
}

}  // namespace kv::lab02
