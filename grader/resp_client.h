// The grader's own RESP2 client: sends raw bytes (so tests can send
// anything, hostile bytes included) and parses replies strictly, under a
// deadline, so that a wrong or missing reply is a diagnosis, never a hang.
// It is independent of lab 03's client library on purpose: the grader must
// not trust code that students write.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace kv::grader {

struct Reply {
  enum class Kind { kSimple, kError, kInteger, kBulk, kNull };
  Kind kind = Kind::kNull;
  std::string text;  // simple, error (without the '-') and bulk payload
  int64_t integer = 0;

  bool is_simple(std::string_view s) const {
    return kind == Kind::kSimple && text == s;
  }
  bool is_error() const { return kind == Kind::kError; }
  bool is_bulk(std::string_view s) const {
    return kind == Kind::kBulk && text == s;
  }
  bool is_null() const { return kind == Kind::kNull; }
  bool is_integer(int64_t n) const {
    return kind == Kind::kInteger && integer == n;
  }
  // As a student would read it: +OK, -ERR x, :3, "value" (C-escaped), (nil)
  std::string to_string() const;
};

// Quotes bytes for a diagnosis: printable ASCII as is, the rest as \xHH,
// cut to max_bytes.
std::string quote(std::string_view bytes, size_t max_bytes = 60);

// A request as a RESP multibulk array: any bytes in any word.
std::string multibulk(const std::vector<std::string>& words);

class Client {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{10000};

  static Result<Client> connect(
      const HostPort& address,
      std::chrono::milliseconds timeout = kDefaultTimeout);

  int fd() const { return fd_.get(); }
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

  Status send(std::string_view bytes);
  // The next reply. kUnavailable when the server closed the connection,
  // kDeadlineExceeded after the timeout, kDataLoss for a malformed reply.
  Result<Reply> read_reply();
  // send(line + "\r\n") then read_reply().
  Result<Reply> call(std::string_view line);

  // Waits until the server closes the connection: true if it did within the
  // timeout (bytes that arrive first are returned in *unread).
  bool wait_closed(std::string* unread = nullptr);
  // Half-closes or fully closes from the client side.
  void close() { fd_.reset(); }

 private:
  explicit Client(UniqueFd fd) : fd_(std::move(fd)) {}
  // Reads more bytes into buffer_ before the deadline.
  Status fill(std::chrono::steady_clock::time_point deadline);
  Result<std::string> read_line(std::chrono::steady_clock::time_point deadline);

  UniqueFd fd_;
  std::string buffer_;
  size_t start_ = 0;
  std::chrono::milliseconds timeout_ = kDefaultTimeout;
};

}  // namespace kv::grader
