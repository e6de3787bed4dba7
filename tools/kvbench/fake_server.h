// FakeServer: a small server for engine tests, on a real loopback socket,
// whose replies a test writes, so it can be wrong on purpose (another key's
// value, an older value, a malformed reply, a stall, a hang-up). It reads
// inline lines and RESP multibulk arrays, one thread per connection, and
// calls the handler for each request under one lock, in arrival order.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/net.h"
#include "common/thread_annotations.h"
#include "common/unique_fd.h"

namespace kv::kvbench {

class FakeServer {
 public:
  struct Request {
    int connection = 0;  // in accept order, from 0
    uint64_t index = 0;  // on this connection, from 0
    std::vector<std::string> words;
  };
  // The reply bytes ("" sends nothing), or nullopt to close the connection.
  using Handler = std::function<std::optional<std::string>(const Request&)>;

  explicit FakeServer(Handler handler);
  ~FakeServer();  // closes every connection and joins every thread

  const HostPort& address() const { return address_; }
  uint64_t requests() const;
  // Waits until n requests were handled; false if limit passed first.
  bool wait_for_requests(uint64_t n, std::chrono::milliseconds limit) const;

 private:
  struct Connection {
    int id = 0;
    UniqueFd fd;
    std::jthread thread;  // last: joined before fd is closed
  };
  void accept_loop(std::stop_token stop);
  void serve(Connection& connection);

  Handler handler_;
  UniqueFd listener_;
  UniqueFd wake_;  // eventfd: stop the acceptor
  HostPort address_;
  std::mutex handler_mu_;  // one handler call at a time

  mutable std::mutex mu_;
  mutable std::condition_variable handled_;
  uint64_t requests_ KV_GUARDED_BY(mu_) = 0;
  bool stopping_ KV_GUARDED_BY(mu_) = false;
  std::list<std::unique_ptr<Connection>> connections_ KV_GUARDED_BY(mu_);
  std::jthread acceptor_;  // last: started last, joined first
};

// The shape of a RESP reply, for handlers.
inline std::string bulk_reply(std::string_view value) {
  return "$" + std::to_string(value.size()) + "\r\n" + std::string(value) +
         "\r\n";
}
inline const std::string kNilReply = "$-1\r\n";
inline const std::string kOkReply = "+OK\r\n";

}  // namespace kv::kvbench
