// The grader's side of lab 03's client driver (labs/03-client/
// client_driver.cc): a child process built from the graded copy, which
// makes one kv::lab03::Client call per line it reads. The grader cannot
// link a student's library into itself, and must survive a call that
// never returns, so the library runs in its own process and every call
// here has a limit after which the driver is declared stuck.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net.h"
#include "common/status.h"
#include "process.h"

namespace kv::grader {

// What one call returned, as the driver printed it.
struct DriverResult {
  // ok value nil bool error not_implemented, for a call; in a pipeline
  // reply: status err int bulk null error.
  std::string kind;
  std::string text;        // value, bulk, status or error message (bytes)
  std::string error_kind;  // error: server, connection or unknown
  int64_t integer = 0;     // int; bool: 0 or 1
  std::chrono::microseconds elapsed{0};  // measured inside the driver
  std::vector<DriverResult> replies;     // a pipeline's, in order

  bool is_error(std::string_view kind_wanted) const {
    return kind == "error" && error_kind == kind_wanted;
  }
  // For a diagnosis: ok, "value", (nil), true, error unknown: <message>
  std::string to_string() const;
};

// Hex as the driver reads it ("-" for empty).
std::string driver_hex(std::string_view bytes);

class LibraryDriver {
 public:
  static Result<LibraryDriver> start(const std::filesystem::path& binary,
                                     const std::filesystem::path& log);

  // One request line (see client_driver.cc), and the result line(s). An
  // error when the driver does not answer within limit (the call hangs) or
  // dies; the message says which, in the student's terms.
  Result<DriverResult> run(const std::string& line,
                           std::chrono::milliseconds limit);
  // run() in two halves, so that a test can fault the network while the
  // call is in flight.
  Status send(const std::string& line);
  Result<DriverResult> result(std::chrono::milliseconds limit);
  // pipeline T N and its N request lines.
  Result<DriverResult> pipeline(std::chrono::milliseconds timeout,
                                const std::vector<std::string>& requests,
                                std::chrono::milliseconds limit);

  ChildProcess& process() { return process_; }

 private:
  Result<std::string> read_line(std::chrono::steady_clock::time_point until);
  Result<DriverResult> parse(std::string_view line, bool in_pipeline);

  ChildProcess process_;
  ChildPipes pipes_;
  std::filesystem::path log_;
  std::string buffer_;
};

}  // namespace kv::grader
