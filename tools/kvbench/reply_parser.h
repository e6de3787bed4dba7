// RESP2 replies, parsed from the bytes a connection has received so far.
// parse_reply() looks at the front of the buffer and says: one whole reply
// (and how many bytes it took), not enough bytes yet, or malformed. It
// keeps no state between calls, so a reply split anywhere, even inside
// "\r\n", parses the same as one that arrived whole (reply_parser_test.cc
// splits every reply at every byte). Called again on a longer buffer it
// re-reads only the headers: a bulk's payload is never scanned, so a large
// value arriving in many pieces costs no rescans.
//
//   +OK\r\n   -ERR msg\r\n   :42\r\n   $5\r\nhello\r\n   $-1\r\n
//   *2\r\n$1\r\na\r\n:1\r\n   *-1\r\n
//
// Strict, because kvbench is there to catch servers that get it wrong:
// lines end in exactly "\r\n", integers are decimal without '+' or leading
// junk, bulk lengths are -1 or 0..max_bulk_bytes and the payload is
// followed by "\r\n". Anything else is malformed, and a stream that was
// malformed once cannot be trusted to resynchronise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kv::kvbench {

enum class ReplyType {
  kSimple,     // +text
  kError,      // -text
  kInteger,    // :n
  kBulk,       // $len payload
  kNull,       // $-1
  kArray,      // *n elements
  kNullArray,  // *-1
};

struct Reply {
  ReplyType type = ReplyType::kNull;
  // simple and error text (without the type byte) and bulk payload; points
  // into the buffer given to parse_reply, so it lives as long as those bytes.
  std::string_view text;
  int64_t integer = 0;
  std::vector<Reply> elements;  // kArray only
};

struct ParserLimits {
  size_t max_line_bytes = 64 * 1024;          // a simple, error or header line
  size_t max_bulk_bytes = 512 * 1024 * 1024;  // Redis's proto-max-bulk-len
  size_t max_array_elements = 1024 * 1024;
  int max_depth = 16;  // arrays in arrays
};

enum class ParseStatus { kComplete, kNeedMore, kMalformed };

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  size_t consumed = 0;  // kComplete: the reply's bytes
  std::string error;    // kMalformed: what is wrong, at which byte
};

ParseResult parse_reply(std::string_view buffer, Reply& out,
                        const ParserLimits& limits = {});

// The reply as a person reads it: +OK, -ERR x, :3, "value" (escaped, cut
// at max_bytes), (nil), [2 elements: "a", :1], for error examples.
std::string describe(const Reply& reply, size_t max_bytes = 48);
// Bytes quoted for a message: printable ASCII as is, the rest escaped.
std::string quote(std::string_view bytes, size_t max_bytes = 48);

}  // namespace kv::kvbench
