// See library_driver.h.
#include "library_driver.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "resp_client.h"

namespace kv::grader {
namespace {

using Clock = std::chrono::steady_clock;

std::optional<std::string> unhex(std::string_view text) {
  if (text == "-") return std::string();
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2) {
    unsigned value = 0;
    auto [end, error] =
        std::from_chars(text.data() + i, text.data() + i + 2, value, 16);
    if (error != std::errc() || end != text.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(value));
  }
  return out;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t space = line.find(' ', pos);
    if (space == std::string_view::npos) space = line.size();
    if (space > pos) words.push_back(line.substr(pos, space - pos));
    pos = space + 1;
  }
  return words;
}

// A pipe, not a socket: write(), with SIGPIPE ignored by the grader.
Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::from_errno("write", errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

}  // namespace

std::string driver_hex(std::string_view bytes) {
  if (bytes.empty()) return "-";
  std::string out;
  out.reserve(bytes.size() * 2);
  static const char digits[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string DriverResult::to_string() const {
  if (kind == "value" || kind == "bulk") return quote(text, 40);
  if (kind == "nil" || kind == "null") return "(nil)";
  if (kind == "bool") return integer ? "true" : "false";
  if (kind == "int") return fmt::format("(integer) {}", integer);
  if (kind == "status") return text;
  if (kind == "err") return "(error) " + quote(text, 80);
  if (kind == "error")
    return fmt::format("error {}: {}", error_kind, quote(text, 120));
  if (kind == "not_implemented") return "not implemented: " + text;
  if (kind == "pipeline") return fmt::format("{} replies", replies.size());
  return kind;
}

Result<LibraryDriver> LibraryDriver::start(const std::filesystem::path& binary,
                                           const std::filesystem::path& log) {
  LibraryDriver driver;
  Result<ChildProcess> child =
      ChildProcess::spawn({binary.string()}, log, {}, &driver.pipes_);
  if (!child.ok()) return child.status();
  driver.process_ = std::move(child).value();
  driver.log_ = log;
  return driver;
}

Result<std::string> LibraryDriver::read_line(Clock::time_point until) {
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0)
      return Status::deadline_exceeded("the call did not return");
    pollfd p{pipes_.from_child.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[1 << 16];
    ssize_t n = ::read(pipes_.from_child.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::optional<ExitInfo> ended =
          process_.wait_for(std::chrono::milliseconds(2000));
      return Status::unavailable(fmt::format(
          "the client library's process died ({}); end of its log:\n{}",
          ended ? ended->to_string() : "still running, output closed",
          tail_of_file(log_, 10)));
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

Result<DriverResult> LibraryDriver::parse(std::string_view line,
                                          bool in_pipeline) {
  std::vector<std::string_view> w = split(line);
  auto bad = [&] {
    return Status::data_loss(
        fmt::format("the driver printed {}", quote(line, 100)));
  };
  size_t i = 0;
  DriverResult result;
  if (!in_pipeline) {
    if (w.size() < 2) return bad();
    int64_t us = 0;
    std::from_chars(w[0].data(), w[0].data() + w[0].size(), us);
    result.elapsed = std::chrono::microseconds(us);
    i = 1;
  }
  if (w.size() <= i) return bad();
  result.kind = std::string(w[i]);
  auto bytes_at = [&](size_t k) -> std::optional<std::string> {
    return k < w.size() ? unhex(w[k]) : std::nullopt;
  };
  if (result.kind == "value" || result.kind == "bulk" ||
      result.kind == "status" || result.kind == "err" ||
      result.kind == "not_implemented" || result.kind == "driver_error") {
    std::optional<std::string> text = bytes_at(i + 1);
    if (!text) return bad();
    result.text = std::move(*text);
  } else if (result.kind == "error") {
    std::optional<std::string> text = bytes_at(i + 2);
    if (w.size() <= i + 1 || !text) return bad();
    result.error_kind = std::string(w[i + 1]);
    result.text = std::move(*text);
  } else if (result.kind == "bool" || result.kind == "int" ||
             result.kind == "pipeline") {
    if (w.size() <= i + 1) return bad();
    std::from_chars(w[i + 1].data(), w[i + 1].data() + w[i + 1].size(),
                    result.integer);
  }
  if (result.kind == "driver_error")
    return Status::invalid_argument("grader bug: the driver refused " +
                                    quote(result.text, 100));
  return result;
}

Result<DriverResult> LibraryDriver::run(const std::string& line,
                                        std::chrono::milliseconds limit) {
  if (Status s = send(line); !s.ok()) return s;
  return result(limit);
}

Status LibraryDriver::send(const std::string& line) {
  if (Status s = write_all(pipes_.to_child.get(), line + "\n"); !s.ok())
    return Status::unavailable("the client library's process is gone: " +
                               s.message());
  return Status();
}

Result<DriverResult> LibraryDriver::result(std::chrono::milliseconds limit) {
  Clock::time_point until = Clock::now() + limit;
  Result<std::string> got = read_line(until);
  if (!got.ok()) return got.status();
  Result<DriverResult> result = parse(got.value(), false);
  if (!result.ok() || result.value().kind != "pipeline") return result;
  for (int64_t i = 0; i < result.value().integer; ++i) {
    Result<std::string> reply_line = read_line(until);
    if (!reply_line.ok()) return reply_line.status();
    Result<DriverResult> reply = parse(reply_line.value(), true);
    if (!reply.ok()) return reply.status();
    result.value().replies.push_back(std::move(reply).value());
  }
  return result;
}

Result<DriverResult> LibraryDriver::pipeline(
    std::chrono::milliseconds timeout, const std::vector<std::string>& requests,
    std::chrono::milliseconds limit) {
  std::string text =
      fmt::format("pipeline {} {}", timeout.count(), requests.size());
  for (const std::string& r : requests) text += "\n" + r;
  return run(text, limit);
}

}  // namespace kv::grader
