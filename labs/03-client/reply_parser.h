// The client's side of RESP2 (DESIGN §4): cuts one reply out of the bytes
// received so far. Pure, like the server's request_parser.h, so that every
// way a reply can arrive (split across reads, one byte at a time, glued to
// the next reply, garbage) is a unit test (reply_parser_test.cc).
//
//   +OK\r\n         a status           -ERR no\r\n     an error
//   :3\r\n          an integer         $-1\r\n         a null (missing key)
//   $5\r\nhello\r\n a bulk string: 5 bytes, any bytes, then \r\n
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kv::lab03 {

// One reply, as the server sent it.
struct Reply {
  enum class Type { kStatus, kError, kInteger, kBulk, kNull };
  Type type = Type::kNull;
  std::string text;  // kStatus, kError (without '-'), kBulk
  int64_t integer = 0;

  // As redis-cli shows it: OK, (error) ERR x, (integer) 3, "a\x00b", (nil)
  std::string to_string() const;
};

// Lines (+, -, :, $ headers) longer than this are garbage: no kvlab reply
// has one. Bulk payloads may be up to kMaxReplyBulkBytes.
inline constexpr size_t kMaxReplyLineBytes = 64 * 1024;
inline constexpr size_t kMaxReplyBulkBytes = 64 << 20;

struct ParsedReply {
  enum class Kind {
    kNeedMore,  // the reply is not complete yet: read more
    kReply,     // reply holds it; consumed bytes of the buffer were used
    kGarbage,   // not RESP2: error says why; the connection is useless now
  };
  Kind kind = Kind::kNeedMore;
  Reply reply;
  size_t consumed = 0;
  std::string error;
};

ParsedReply parse_reply(std::string_view buffer);

}  // namespace kv::lab03
