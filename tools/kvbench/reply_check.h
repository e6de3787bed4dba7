// Judges one reply against the request it answers: the pure heart of
// kvbench's checking, with no sockets or clocks, so every verdict is a unit
// test (reply_check_test.cc). The engine counts the verdicts by kind and
// keeps the first few messages as examples.
//
// What is expected:
//   SET  +OK
//   GET  a value value_codec.h decodes, written for the key asked, with
//        --value-size bytes; nil only while the key may never have been
//        written (no preload). Under --verify, exactly the value of the
//        last SET this connection sent for that key before the GET (a
//        connection alone owns its keys and replies come in request order,
//        so this is exact even with pipelining), or nil if it sent none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tools/kvbench/reply_parser.h"

namespace kv::kvbench {

enum class Op : uint8_t { kGet, kSet };

// Every way a reply can be wrong. The first four are judged here; the
// engine adds the last two (and stops the run for them).
enum class ErrorKind {
  kErrorReply,       // -ERR ... (or any error reply)
  kUnexpectedReply,  // a well-formed reply of the wrong type or text
  kWrongValue,       // GET: not a value ever written for that key
  kMissingValue,     // GET: nil for a key known to hold a value
  kStaleRead,        // --verify: an older value of this connection's
  kMalformedReply,   // the bytes are not RESP2; the stream is lost
  kConnection,       // closed, reset, timed out, or a reply nobody asked for
};
inline constexpr int kErrorKinds = 7;

// The JSON / table name of a kind: "error_replies", "stale_reads", ...
std::string_view error_kind_name(ErrorKind kind);

struct RequestInfo {
  Op op = Op::kGet;
  uint64_t key = 0;
  // SET: the seq it wrote. GET under --verify: the seq of the last SET
  // this connection sent for key before the GET, 0 if none.
  uint64_t seq = 0;
};

struct CheckContext {
  uint32_t connection = 0;
  size_t value_size = 64;
  bool verify = false;
  // Every key was written before any GET (the preload finished): a nil is
  // a lost value, not a key never written.
  bool all_keys_written = false;
};

struct Verdict {
  bool ok = true;
  ErrorKind kind = ErrorKind::kErrorReply;  // when !ok
  std::string detail;                       // when !ok: what was wrong
  bool nil = false;                         // a GET answered (nil), ok or not
};

Verdict check_reply(const RequestInfo& request, const Reply& reply,
                    const CheckContext& context);

}  // namespace kv::kvbench
