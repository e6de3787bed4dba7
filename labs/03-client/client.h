// kv::lab03::Client: a C++ client for every kvlab server (and Redis).
//
//   kv::lab03::Client client({.server = {"127.0.0.1", 7003}});
//   auto set = client.set("greeting", "hello\r\nworld");  // any bytes
//   if (!set.ok()) std::cerr << set.error().to_string() << "\n";
//   auto got = client.get("greeting");   // ClientResult<optional<string>>
//   if (got.ok() && !got.value()) std::cout << "absent\n";
//
// What a call can end in, and what the caller may conclude:
//
//   ok                       the server did it and said so
//   ErrorKind::kServer       the server refused it (-ERR ...): nothing
//                            happened, the connection is fine
//   ErrorKind::kConnection   it was never sent (no connection, refused,
//                            broken before the first byte left): certainly
//                            nothing happened, trying again is safe
//   ErrorKind::kUnknown      it was sent, and no complete reply came (the
//                            deadline passed, the connection was cut, the
//                            reply was garbage): it may or may not have
//                            happened, and only the caller can decide
//                            whether doing it again is harmless
//
// Deadlines: every call ends within its timeout (the call's own, else
// ClientOptions::timeout), whatever the network does, counting the wait
// for a reconnection, the connect, the send and the reply.
//
// Connections: one TCP connection, opened by the first call (or connect())
// and kept. After any failure the connection is closed, never reused: a
// late reply on it would be read as the answer to the next request. The
// next call reconnects at once; after k >= 2 failures in a row (a connect
// that failed, or a call that failed on its connection) it first waits
// min_backoff * 2^(k-2), at most max_backoff, times a random factor in
// [0.5, 1], so a thousand clients do not hammer a restarting server in
// step. A reply resets the count. A call whose deadline comes before the
// next allowed attempt fails at once with kConnection.
//
// Retries: a request is sent again on a fresh connection only when that
// cannot apply it twice: reads (GET, EXISTS, PING) whose connection broke,
// and any request that was certainly never sent. A write whose outcome is
// unknown is never resent: it is reported as kUnknown. (Why: the handout's
// "Why not just retry?"; lab 05 makes retries safe with request ids.)
//
// Thread safety: none. A Client is one connection with one read buffer;
// use one Client per thread, or guard one with a mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/check.h"
#include "common/net.h"
#include "common/unique_fd.h"
#include "reply_parser.h"

namespace kv::lab03 {

using Millis = std::chrono::milliseconds;

enum class ErrorKind { kServer, kConnection, kUnknown };

struct Error {
  ErrorKind kind = ErrorKind::kUnknown;
  std::string message;
  // "server error: ERR wrong number of arguments for 'set'",
  // "connection failed: ...", "outcome unknown: no reply within 500 ms"
  std::string to_string() const;
};

// A value or an Error. ClientResult<void> carries only the error.
template <typename T>
class [[nodiscard]] ClientResult {
 public:
  ClientResult(T value) : value_(std::move(value)) {}      // NOLINT: implicit
  ClientResult(Error error) : value_(std::move(error)) {}  // NOLINT
  bool ok() const { return value_.index() == 0; }
  const T& value() const& {
    KV_CHECK(ok(), error().to_string());
    return std::get<0>(value_);
  }
  T&& value() && {
    KV_CHECK(ok(), error().to_string());
    return std::get<0>(std::move(value_));
  }
  const Error& error() const {
    KV_CHECK(!ok(), "error() of a successful ClientResult");
    return std::get<1>(value_);
  }

 private:
  std::variant<T, Error> value_;
};

template <>
class [[nodiscard]] ClientResult<void> {
 public:
  ClientResult() = default;
  ClientResult(Error error) : error_(std::move(error)) {}  // NOLINT
  bool ok() const { return !error_; }
  const Error& error() const {
    KV_CHECK(!ok(), "error() of a successful ClientResult");
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

// Requests to send together: written back to back without waiting for
// replies (pipelining), so N requests cost about one round trip instead
// of N. Build it, then Client::execute it.
class Pipeline {
 public:
  Pipeline& ping();
  Pipeline& set(std::string_view key, std::string_view value);
  Pipeline& get(std::string_view key);
  Pipeline& del(std::string_view key);
  Pipeline& exists(std::string_view key);
  size_t size() const { return ends_.size(); }

 private:
  friend class Client;
  void add(std::initializer_list<std::string_view> words, bool is_write);

  std::string bytes_;         // every request, RESP-encoded, in order
  std::vector<size_t> ends_;  // ends_[i]: offset just past request i
  bool has_writes_ = false;
};

struct ClientOptions {
  HostPort server{"127.0.0.1", 7003};
  Millis connect_timeout{1000};  // at most this for one connect attempt
  Millis timeout{2000};          // a call's deadline unless it gives one
  // Reconnect backoff (see "Connections" above): the wait after two
  // failures in a row, doubling with each further one up to max_backoff.
  Millis min_backoff{50};
  Millis max_backoff{2000};
};

class Client {
 public:
  // No I/O: the first call (or connect()) opens the connection.
  explicit Client(ClientOptions options);
  Client(Client&&) = default;
  Client& operator=(Client&&) = default;

  // Opens the connection now, if it is not open; kConnection if it cannot.
  ClientResult<void> connect(std::optional<Millis> timeout = {});
  bool connected() const { return fd_.valid(); }
  void close();

  ClientResult<void> ping(std::optional<Millis> timeout = {});
  ClientResult<void> set(std::string_view key, std::string_view value,
                         std::optional<Millis> timeout = {});
  // The value, or nullopt when the key is absent (not an error).
  ClientResult<std::optional<std::string>> get(
      std::string_view key, std::optional<Millis> timeout = {});
  // Whether the key existed (and now does not).
  ClientResult<bool> del(std::string_view key,
                         std::optional<Millis> timeout = {});
  ClientResult<bool> exists(std::string_view key,
                            std::optional<Millis> timeout = {});

  // Sends every request of the pipeline, reading replies while it writes
  // (so a long pipeline cannot deadlock against a server that stops reading
  // when its replies pile up), and returns one result per request, in
  // order. Each is the server's Reply (a kError reply is a Reply here, not
  // an Error), or, after a failure, an Error for this request: kConnection
  // if none of its bytes were sent, kUnknown if they were. Never resent.
  std::vector<ClientResult<Reply>> execute(const Pipeline& pipeline,
                                           std::optional<Millis> timeout = {});

 private:
  using Clock = std::chrono::steady_clock;

  // One request whose reply decides the result; retried as the header says.
  ClientResult<Reply> call(std::initializer_list<std::string_view> words,
                           bool is_write, std::optional<Millis> timeout);
  Clock::time_point deadline_of(std::optional<Millis> timeout) const;
  // Opens a connection unless one is open and alive, waiting out the
  // backoff if the deadline allows.
  ClientResult<void> ensure_connected(Clock::time_point deadline);
  // Writes bytes (requests ending at ends) and reads one reply per request
  // into results, until done, a failure, or the deadline.
  void exchange(std::string_view bytes, const std::vector<size_t>& ends,
                Clock::time_point deadline,
                std::vector<ClientResult<Reply>>& results);
  void drop_connection();
  // Drops the connection after a reply that does not fit the command.
  Error unexpected(const Reply& reply, std::string_view command);
  // A call failed on its connection (or could not connect): count it and
  // schedule the earliest next connect.
  void note_failure();

  ClientOptions options_;
  UniqueFd fd_;
  std::string input_;  // bytes received and not yet parsed
  int failures_in_a_row_ = 0;
  Clock::time_point next_connect_{};
  std::minstd_rand jitter_;
};

}  // namespace kv::lab03
