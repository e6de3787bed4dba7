// See client.h for the contract; client_test.cc tests it against a real
// server, and the grader's lab 03 suite through a faulty network.
#include "client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "common/not_implemented.h"

namespace kv::lab03 {
namespace {

Error server_error(const Reply& reply) {
  return {ErrorKind::kServer, reply.text};
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left =
      std::chrono::ceil<Millis>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
}

}  // namespace

std::string Error::to_string() const {
  switch (kind) {
    case ErrorKind::kServer:
      return "server error: " + message;
    case ErrorKind::kConnection:
      return "connection failed: " + message;
    case ErrorKind::kUnknown:
      return "outcome unknown: " + message;
  }
  return message;
}

void Pipeline::add(std::initializer_list<std::string_view> words,
                   bool is_write) {
  // LAB03 BEGIN: Pipeline::add — encode one request as a RESP multibulk array
  bytes_ += fmt::format("*{}\r\n", words.size());
  for (std::string_view word : words) {
    bytes_ += fmt::format("${}\r\n", word.size());
    bytes_ += word;
    bytes_ += "\r\n";
  }
  ends_.push_back(bytes_.size());
  has_writes_ = has_writes_ || is_write;
  // LAB03 END
}

Pipeline& Pipeline::ping() {
  add({"PING"}, false);
  return *this;
}
Pipeline& Pipeline::set(std::string_view key, std::string_view value) {
  add({"SET", key, value}, true);
  return *this;
}
Pipeline& Pipeline::get(std::string_view key) {
  add({"GET", key}, false);
  return *this;
}
Pipeline& Pipeline::del(std::string_view key) {
  add({"DEL", key}, true);
  return *this;
}
Pipeline& Pipeline::exists(std::string_view key) {
  add({"EXISTS", key}, false);
  return *this;
}

Client::Client(ClientOptions options)
    : options_(std::move(options)), jitter_(std::random_device{}()) {}

void Client::close() { drop_connection(); }

void Client::drop_connection() {
  // LAB03 BEGIN: drop_connection — close it, and forget what it left unread
  fd_.reset();
  // Whatever the old connection left unread belongs to it, never to the
  // next request's reply.
  input_.clear();
  // LAB03 END
}

// A reply of a type the command never returns: the stream is out of step
// with our requests, so the connection cannot be trusted any more.
Error Client::unexpected(const Reply& reply, std::string_view command) {
  drop_connection();
  note_failure();
  return {ErrorKind::kUnknown,
          fmt::format("unexpected reply to {}: {}", command,
                      reply.to_string().substr(0, 80))};
}

Client::Clock::time_point Client::deadline_of(
    std::optional<Millis> timeout) const {
  return Clock::now() + timeout.value_or(options_.timeout);
}

ClientResult<void> Client::connect(std::optional<Millis> timeout) {
  return ensure_connected(deadline_of(timeout));
}

ClientResult<void> Client::ensure_connected(Clock::time_point deadline) {
  // LAB03 BEGIN: ensure_connected — reuse a live connection or reconnect
  if (fd_.valid()) {
    // Between calls nothing should arrive. Readable now means the server
    // closed the connection (it restarted, say) or sent something nobody
    // asked for: either way, start afresh rather than send into it.
    pollfd p{fd_.get(), POLLIN, 0};
    if (input_.empty() && ::poll(&p, 1, 0) == 0) return {};
    drop_connection();
  }
  if (Clock::now() < next_connect_) {
    if (next_connect_ >= deadline)
      return Error{ErrorKind::kConnection,
                   fmt::format("{} unreachable; next attempt in {} ms",
                               options_.server.to_string(),
                               remaining_ms(next_connect_))};
    std::this_thread::sleep_until(next_connect_);  // backoff, not a poll
  }
  Millis budget = std::min<Millis>(options_.connect_timeout,
                                   Millis(remaining_ms(deadline)));
  if (budget <= Millis(0))
    return Error{ErrorKind::kConnection, "deadline passed before connecting"};
  Result<UniqueFd> fd = connect_tcp(options_.server, budget);
  if (!fd.ok()) {
    note_failure();
    return Error{
        ErrorKind::kConnection,
        fmt::format("cannot connect to {}: {}", options_.server.to_string(),
                    fd.status().message())};
  }
  fd_ = std::move(fd).value();
  ::fcntl(fd_.get(), F_SETFL, ::fcntl(fd_.get(), F_GETFL) | O_NONBLOCK);
  input_.clear();
  return {};
  // LAB03 END
}

void Client::note_failure() {
  // LAB03 BEGIN: note_failure — count failures in a row, schedule the backoff
  ++failures_in_a_row_;
  next_connect_ = Clock::now();
  if (failures_in_a_row_ < 2) return;  // one failure: reconnect at once
  Millis backoff = options_.min_backoff *
                   (int64_t{1} << std::min(failures_in_a_row_ - 2, 20));
  backoff = std::min(backoff, options_.max_backoff);
  // Jitter: clients that lost the same server do not all come back in the
  // same millisecond.
  std::uniform_real_distribution<double> factor(0.5, 1.0);
  next_connect_ +=
      std::chrono::duration_cast<Millis>(backoff * factor(jitter_));
  // LAB03 END
}

void Client::exchange(std::string_view bytes, const std::vector<size_t>& ends,
                      Clock::time_point deadline,
                      std::vector<ClientResult<Reply>>& results) {
  // LAB03 BEGIN: exchange — write and read under one deadline, replies in order
  size_t sent = 0;
  size_t parsed = 0;  // bytes of input_ already turned into replies
  // Every request without a reply gets error: kConnection if none of its
  // bytes left, kUnknown if some did (the server may have acted on it).
  auto fail_rest = [&](const std::string& message) {
    for (size_t i = results.size(); i < ends.size(); ++i) {
      size_t begin = i == 0 ? 0 : ends[i - 1];
      if (sent > begin)
        results.push_back(Error{ErrorKind::kUnknown, message});
      else
        results.push_back(
            Error{ErrorKind::kConnection, message + " (request not sent)"});
    }
    drop_connection();
    note_failure();
  };
  while (results.size() < ends.size()) {
    while (results.size() < ends.size()) {
      ParsedReply reply = parse_reply(std::string_view(input_).substr(parsed));
      if (reply.kind == ParsedReply::Kind::kNeedMore) break;
      if (reply.kind == ParsedReply::Kind::kGarbage)
        return fail_rest("malformed reply: " + reply.error);
      parsed += reply.consumed;
      results.push_back(std::move(reply.reply));
      failures_in_a_row_ = 0;  // the server is there and answering
    }
    if (results.size() == ends.size()) break;

    int wait_ms = remaining_ms(deadline);
    if (wait_ms == 0) return fail_rest("deadline passed before the reply");
    pollfd p{fd_.get(), POLLIN, 0};
    if (sent < bytes.size()) p.events |= POLLOUT;
    int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno != EINTR)
      return fail_rest(fmt::format("poll: {}", std::strerror(errno)));
    if (ready <= 0) continue;
    if (p.revents & POLLOUT) {
      ssize_t n = ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent,
                         MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (errno != EAGAIN && errno != EINTR) {
        return fail_rest(fmt::format("send: {}", std::strerror(errno)));
      }
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[64 * 1024];
      ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
      if (n == 0) return fail_rest("the server closed the connection");
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        return fail_rest(fmt::format("recv: {}", std::strerror(errno)));
      if (n > 0) input_.append(buffer, static_cast<size_t>(n));
    }
  }
  input_.erase(0, parsed);
  // Answered before it was all sent (an error, then a close, from a server
  // refusing a request too large): the rest of it would be read as the
  // start of the next request. This connection is done.
  if (sent < bytes.size()) drop_connection();
  // LAB03 END
}

ClientResult<Reply> Client::call(std::initializer_list<std::string_view> words,
                                 bool is_write, std::optional<Millis> timeout) {
  Clock::time_point deadline = deadline_of(timeout);
  Pipeline request;
  request.add(words, is_write);
  // LAB03 BEGIN: call — one request; resend only when it cannot apply twice
  std::optional<Error> first_failure;
  while (true) {
    if (ClientResult<void> connected = ensure_connected(deadline);
        !connected.ok())
      return first_failure ? *first_failure : connected.error();
    std::vector<ClientResult<Reply>> results;
    exchange(request.bytes_, request.ends_, deadline, results);
    ClientResult<Reply>& result = results.front();
    if (result.ok()) return std::move(result);
    // Once: a read, or a request that never left, on a fresh connection.
    bool safe = !is_write || result.error().kind == ErrorKind::kConnection;
    if (first_failure || !safe || Clock::now() >= deadline) return result;
    first_failure = result.error();
  }
  // LAB03 END
}

std::vector<ClientResult<Reply>> Client::execute(
    const Pipeline& pipeline, std::optional<Millis> timeout) {
  Clock::time_point deadline = deadline_of(timeout);
  std::vector<ClientResult<Reply>> results;
  results.reserve(pipeline.size());
  if (pipeline.size() == 0) return results;
  if (ClientResult<void> connected = ensure_connected(deadline);
      !connected.ok()) {
    for (size_t i = 0; i < pipeline.size(); ++i)
      results.push_back(connected.error());
    return results;
  }
  exchange(pipeline.bytes_, pipeline.ends_, deadline, results);
  return results;
}

ClientResult<void> Client::ping(std::optional<Millis> timeout) {
  ClientResult<Reply> reply = call({"PING"}, false, timeout);
  if (!reply.ok()) return reply.error();
  const Reply& r = reply.value();
  if (r.type == Reply::Type::kError) return server_error(r);
  if (r.type != Reply::Type::kStatus || r.text != "PONG") {
    return unexpected(r, "PING");
  }
  return {};
}

ClientResult<void> Client::set(std::string_view key, std::string_view value,
                               std::optional<Millis> timeout) {
  ClientResult<Reply> reply = call({"SET", key, value}, true, timeout);
  if (!reply.ok()) return reply.error();
  const Reply& r = reply.value();
  if (r.type == Reply::Type::kError) return server_error(r);
  if (r.type != Reply::Type::kStatus || r.text != "OK") {
    return unexpected(r, "SET");
  }
  return {};
}

ClientResult<std::optional<std::string>> Client::get(
    std::string_view key, std::optional<Millis> timeout) {
  ClientResult<Reply> reply = call({"GET", key}, false, timeout);
  if (!reply.ok()) return reply.error();
  Reply r = std::move(reply).value();
  switch (r.type) {
    case Reply::Type::kBulk:
      return std::optional<std::string>(std::move(r.text));
    case Reply::Type::kNull:
      return std::optional<std::string>();
    case Reply::Type::kError:
      return server_error(r);
    default:
      return unexpected(r, "GET");
  }
}

ClientResult<bool> Client::del(std::string_view key,
                               std::optional<Millis> timeout) {
  ClientResult<Reply> reply = call({"DEL", key}, true, timeout);
  if (!reply.ok()) return reply.error();
  const Reply& r = reply.value();
  if (r.type == Reply::Type::kError) return server_error(r);
  if (r.type != Reply::Type::kInteger || r.integer < 0 || r.integer > 1) {
    return unexpected(r, "DEL");
  }
  return r.integer == 1;
}

ClientResult<bool> Client::exists(std::string_view key,
                                  std::optional<Millis> timeout) {
  ClientResult<Reply> reply = call({"EXISTS", key}, false, timeout);
  if (!reply.ok()) return reply.error();
  const Reply& r = reply.value();
  if (r.type == Reply::Type::kError) return server_error(r);
  if (r.type != Reply::Type::kInteger || r.integer < 0 || r.integer > 1) {
    return unexpected(r, "EXISTS");
  }
  return r.integer == 1;
}

}  // namespace kv::lab03
