// kv::Status and kv::Result<T>: expected failures as values (STYLE.md,
// "Errors"). Shaped like Abseil's, with only the codes kvlab needs; why not
// absl::Status is explained in STYLE.md. A broken invariant is not a Status:
// it is a KV_CHECK (check.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/check.h"

namespace kv {

enum class StatusCode {
  kOk,
  kInvalidArgument,
  kNotFound,
  kDataLoss,
  kIoError,
  kUnavailable,
  kDeadlineExceeded,
  kResourceExhausted,
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }
  static Status invalid_argument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status not_found(std::string m) {
    return {StatusCode::kNotFound, std::move(m)};
  }
  static Status data_loss(std::string m) {
    return {StatusCode::kDataLoss, std::move(m)};
  }
  static Status io_error(std::string m) {
    return {StatusCode::kIoError, std::move(m)};
  }
  static Status unavailable(std::string m) {
    return {StatusCode::kUnavailable, std::move(m)};
  }
  static Status deadline_exceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status resource_exhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  // An io_error carrying strerror(errnum), prefixed by what was being done.
  static Status from_errno(std::string_view what, int errnum);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "IO_ERROR: bind 127.0.0.1:80: Permission denied"
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    KV_CHECK(!status_.ok(), "a Result made from a Status must be an error");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & {
    KV_CHECK(ok(), status_.to_string());
    return *value_;
  }
  const T& value() const& {
    KV_CHECK(ok(), status_.to_string());
    return *value_;
  }
  T&& value() && {
    KV_CHECK(ok(), status_.to_string());
    return std::move(*value_);
  }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace kv
