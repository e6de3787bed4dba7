// See powercut_journal.h; the layout is in powercut/journal_format.h.
#include "powercut_journal.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace kv::grader {
namespace {

using powercut::EntryKind;
using powercut::OpKind;
using powercut::RecordType;

// Reads fields from one record's payload; any read past its end marks the
// record bad instead of reading on into the next.
class Fields {
 public:
  explicit Fields(std::string_view payload) : rest_(payload) {}

  bool ok() const { return ok_; }
  void fail() { ok_ = false; }
  bool done() const { return ok_ && rest_.empty(); }

  template <typename T>
  T integer() {
    T value{};
    if (rest_.size() < sizeof value) {
      ok_ = false;
      return value;
    }
    std::memcpy(&value, rest_.data(), sizeof value);  // little-endian host
    rest_.remove_prefix(sizeof value);
    return value;
  }
  std::string bytes(size_t n) {
    if (rest_.size() < n) {
      ok_ = false;
      return {};
    }
    std::string out(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return out;
  }
  std::string str16() { return bytes(integer<uint16_t>()); }
  std::string rest() { return bytes(rest_.size()); }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

std::vector<JournalEntry> read_listing(Fields& f) {
  uint32_t count = f.integer<uint32_t>();
  std::vector<JournalEntry> listing;
  for (uint32_t i = 0; i < count && f.ok(); ++i) {
    JournalEntry e;
    e.ino = f.integer<uint64_t>();
    e.size = f.integer<uint64_t>();
    uint8_t kind = f.integer<uint8_t>();
    e.name = f.str16();
    if (kind < 1 || kind > 3) f.fail();
    e.kind = static_cast<EntryKind>(kind);
    listing.push_back(std::move(e));
  }
  return listing;
}

// Decodes one record's payload; false if it does not have type's shape.
bool decode(RecordType type, std::string_view payload, JournalRecord& r) {
  Fields f(payload);
  r.type = type;
  switch (type) {
    case RecordType::kHello: {
      std::string magic = f.bytes(sizeof powercut::kHelloMagic);
      if (magic !=
          std::string_view(powercut::kHelloMagic, sizeof powercut::kHelloMagic))
        return false;
      r.pid = f.integer<uint32_t>();
      r.dir_dev = f.integer<uint64_t>();
      r.dir_ino = f.integer<uint64_t>();
      break;
    }
    case RecordType::kBaseline:
    case RecordType::kDirSync:
      r.listing = read_listing(f);
      break;
    case RecordType::kOp:
    case RecordType::kCrash: {
      r.op.number = f.integer<uint64_t>();
      uint8_t kind = f.integer<uint8_t>();
      if (kind < 1 || kind > static_cast<uint8_t>(OpKind::kFallocate))
        return false;
      r.op.kind = static_cast<OpKind>(kind);
      r.op.name = f.str16();
      r.op.new_name = f.str16();
      break;
    }
    case RecordType::kUndo:
      r.ino = f.integer<uint64_t>();
      r.offset = f.integer<uint64_t>();
      r.bytes = f.rest();
      break;
    case RecordType::kSync:
      r.ino = f.integer<uint64_t>();
      r.size = f.integer<uint64_t>();
      break;
    case RecordType::kNew:
    case RecordType::kStash:
      r.ino = f.integer<uint64_t>();
      break;
    case RecordType::kError:
      r.bytes = f.rest();
      break;
    default:
      return false;
  }
  return f.done();
}

}  // namespace

std::string_view op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::kCreate:
      return "create";
    case OpKind::kWrite:
      return "write";
    case OpKind::kTruncate:
      return "truncate";
    case OpKind::kFsync:
      return "fsync";
    case OpKind::kFdatasync:
      return "fdatasync";
    case OpKind::kDirSync:
      return "fsync of the data dir";
    case OpKind::kRename:
      return "rename";
    case OpKind::kUnlink:
      return "unlink";
    case OpKind::kSync:
      return "sync";
    case OpKind::kFallocate:
      return "fallocate";
  }
  return "?";
}

std::string FsOp::to_string() const {
  if (kind == OpKind::kDirSync || kind == OpKind::kSync)
    return std::string(op_kind_name(kind));
  if (kind == OpKind::kRename)
    return fmt::format("rename({} -> {})", name, new_name);
  return fmt::format("{}({})", op_kind_name(kind), name);
}

Result<Journal> parse_journal(std::string_view bytes) {
  Journal journal;
  size_t at = 0;
  while (at < bytes.size()) {
    size_t left = bytes.size() - at;
    uint32_t length = 0;
    if (left >= powercut::kLengthBytes)
      std::memcpy(&length, bytes.data() + at, sizeof length);
    if (left < powercut::kLengthBytes ||
        length > left - powercut::kLengthBytes) {
      journal.torn_tail_bytes = left;  // SIGKILL landed mid-append
      break;
    }
    std::string_view record = bytes.substr(at + powercut::kLengthBytes, length);
    JournalRecord r;
    if (length == 0 ||
        !decode(static_cast<RecordType>(record[0]), record.substr(1), r))
      return Status::data_loss(fmt::format(
          "power-cut journal: bad record at byte {} (type {}, {} bytes)", at,
          length ? static_cast<int>(static_cast<uint8_t>(record[0])) : -1,
          length));
    if (r.type == RecordType::kHello) {
      journal.records.clear();  // a new run of the server starts over
      ++journal.runs;
    } else if (journal.runs == 0) {
      return Status::data_loss(fmt::format(
          "power-cut journal: record at byte {} before any HELLO", at));
    }
    journal.records.push_back(std::move(r));
    at += powercut::kLengthBytes + length;
  }
  return journal;
}

Result<Journal> read_journal(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::not_found(
        fmt::format("no power-cut journal at {} (was libkvfault.so preloaded "
                    "into the server?)",
                    path.string()));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return parse_journal(bytes.str());
}

}  // namespace kv::grader
