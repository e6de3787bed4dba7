// See resp_client.h.
#include "resp_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "common/escape.h"

namespace kv::grader {

using Clock = std::chrono::steady_clock;

std::string multibulk(const std::vector<std::string>& words) {
  std::string out = fmt::format("*{}\r\n", words.size());
  for (const std::string& w : words)
    out += fmt::format("${}\r\n{}\r\n", w.size(), w);
  return out;
}

std::string quote(std::string_view bytes, size_t max_bytes) {
  std::string out = "\"";
  append_escaped(out, bytes, max_bytes);
  out += '"';
  if (bytes.size() > max_bytes)
    out += fmt::format("... ({} bytes)", bytes.size());
  return out;
}

std::string Reply::to_string() const {
  switch (kind) {
    case Kind::kSimple:
      return "+" + text;
    case Kind::kError:
      return "-" + text;
    case Kind::kInteger:
      return fmt::format(":{}", integer);
    case Kind::kBulk:
      return quote(text);
    case Kind::kNull:
      return "(nil)";
  }
  return "?";
}

Result<Client> Client::connect(const HostPort& address,
                               std::chrono::milliseconds timeout) {
  Result<UniqueFd> fd = connect_tcp(address, timeout);
  if (!fd.ok()) return fd.status();
  return Client(std::move(fd).value());
}

Status Client::send(std::string_view bytes) {
  if (!fd_.valid()) return Status::unavailable("the connection is closed");
  return send_all(fd_.get(), bytes);
}

Status Client::fill(Clock::time_point deadline) {
  if (!fd_.valid()) return Status::unavailable("the connection is closed");
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0)
      return Status::deadline_exceeded(
          fmt::format("no reply within {:.1f} s", timeout_.count() / 1000.0));
    pollfd p{fd_.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // the deadline check above ends it
    char chunk[64 * 1024];
    ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Status::unavailable("the server closed the connection");
    if (n < 0)
      return Status::unavailable(
          fmt::format("the connection failed: {}", std::strerror(errno)));
    buffer_.append(chunk, static_cast<size_t>(n));
    return Status();
  }
}

Result<std::string> Client::read_line(Clock::time_point deadline) {
  while (true) {
    size_t end = buffer_.find("\r\n", start_);
    if (end != std::string::npos) {
      std::string line = buffer_.substr(start_, end - start_);
      start_ = end + 2;
      return line;
    }
    if (buffer_.size() - start_ > (1 << 20))
      return Status::data_loss("a reply line of over 1 MiB without \\r\\n");
    if (Status s = fill(deadline); !s.ok()) {
      if (start_ < buffer_.size() && s.code() == StatusCode::kUnavailable)
        return Status::data_loss(fmt::format(
            "the server closed the connection in the middle of a reply: {}",
            quote(std::string_view(buffer_).substr(start_))));
      return s;
    }
  }
}

Result<Reply> Client::read_reply() {
  auto deadline = Clock::now() + timeout_;
  Result<std::string> header = read_line(deadline);
  if (!header.ok()) return header.status();
  const std::string& line = header.value();
  auto malformed = [&](std::string_view why) {
    return Status::data_loss(
        fmt::format("malformed reply {}: {}", quote(line), why));
  };
  if (line.empty()) return malformed("an empty line is not a RESP reply");
  Reply reply;
  std::string_view body = std::string_view(line).substr(1);
  auto parse_int = [&](int64_t& out) {
    auto [end, ec] =
        std::from_chars(body.data(), body.data() + body.size(), out);
    return ec == std::errc() && end == body.data() + body.size() &&
           !body.empty();
  };
  switch (line[0]) {
    case '+':
      reply.kind = Reply::Kind::kSimple;
      reply.text = body;
      return reply;
    case '-':
      reply.kind = Reply::Kind::kError;
      reply.text = body;
      return reply;
    case ':':
      reply.kind = Reply::Kind::kInteger;
      if (!parse_int(reply.integer)) return malformed("bad integer");
      return reply;
    case '$': {
      int64_t length = 0;
      if (!parse_int(length)) return malformed("bad bulk length");
      if (length == -1) {
        reply.kind = Reply::Kind::kNull;
        return reply;
      }
      if (length < 0 || length > (512 << 20))
        return malformed("bad bulk length");
      size_t need = static_cast<size_t>(length) + 2;
      while (buffer_.size() - start_ < need) {
        if (Status s = fill(deadline); !s.ok()) {
          if (s.code() == StatusCode::kUnavailable)
            return Status::data_loss(
                "the server closed the connection in the middle of a bulk "
                "reply");
          return s;
        }
      }
      reply.kind = Reply::Kind::kBulk;
      reply.text = buffer_.substr(start_, static_cast<size_t>(length));
      if (buffer_.compare(start_ + static_cast<size_t>(length), 2, "\r\n") != 0)
        return malformed("bulk payload not followed by \\r\\n");
      start_ += need;
      return reply;
    }
    default:
      return malformed("a reply starts with + - : or $");
  }
}

Result<Reply> Client::call(std::string_view line) {
  std::string request(line);
  request += "\r\n";
  if (Status s = send(request); !s.ok()) return s;
  return read_reply();
}

bool Client::wait_closed(std::string* unread) {
  auto deadline = Clock::now() + timeout_;
  while (true) {
    Status s = fill(deadline);
    if (s.code() == StatusCode::kUnavailable) break;
    if (s.code() == StatusCode::kDeadlineExceeded) return false;
  }
  if (unread) *unread = buffer_.substr(start_);
  start_ = buffer_.size();
  return true;
}

}  // namespace kv::grader
