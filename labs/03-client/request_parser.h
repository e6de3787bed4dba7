// Lab 03's request format (DESIGN §4): lab 01's inline lines, plus RESP
// multibulk arrays, which carry any bytes at all because every argument
// says its length up front instead of ending at a space or a newline:
//
//   *3\r\n $3\r\n SET\r\n $5\r\n k\0 \n1\r\n $0\r\n \r\n
//   ^ 3 arguments  ^ "SET"       ^ 5 bytes, NUL and LF included   ^ ""
//
// (the spaces above are for reading; none are sent). A request that starts
// with '*' is multibulk, anything else is an inline line, so telnet keeps
// working beside redis-cli. Pure: bytes in, a decision out, no I/O; every
// hostile input is a case in request_parser_test.cc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "inline_parser.h"

namespace kv::lab03 {

// DESIGN §4's limits. One argument (a key or a value) may hold 1 MiB; a
// whole request, headers included, 2 MiB, so SET of a 1 MiB value under a
// long key fits and nothing else can make the server buffer more.
inline constexpr size_t kMaxBulkBytes = 1 << 20;
inline constexpr size_t kMaxRequestBytes = 2 << 20;
inline constexpr size_t kMaxArguments = 1 << 20;
// "*1048576\r\n" and "$1048576\r\n" fit; a longer header line is garbage.
inline constexpr size_t kMaxHeaderLineBytes = 32;

struct RequestLimits {
  size_t max_inline_bytes = lab01::kMaxInlineLineBytes;
  size_t max_bulk_bytes = kMaxBulkBytes;
  size_t max_request_bytes = kMaxRequestBytes;
  size_t max_arguments = kMaxArguments;
};

enum class RequestKind {
  kNeedMore,  // no complete request yet: read more bytes
  kRequest,   // words holds one request (empty: a blank line or *0)
  kError,     // reply -ERR error, skip consumed bytes, carry on
  kFatal,     // reply -ERR error and close: the stream cannot be trusted
};

struct Request {
  RequestKind kind = RequestKind::kNeedMore;
  std::vector<std::string> words;
  std::string error;    // kError, kFatal: the message after "-ERR "
  size_t consumed = 0;  // kRequest, kError: bytes of buffer used
};

// Cuts the first request out of buffer.
//
// Errors the stream recovers from (kError): a bad inline line (an unclosed
// quote), and a '*' header that is not a number, since the next line can
// still start a request. Errors it cannot (kFatal): anything wrong inside
// an array (a missing '$', a bad length, a bulk not followed by \r\n),
// since the bytes after it may be the middle of a value, and a line, bulk
// or request over the limits, since skipping it would mean reading it.
Request next_request(std::string_view buffer, const RequestLimits& limits = {});

}  // namespace kv::lab03
