// Server: the listening socket, the acceptor thread and one thread per
// client connection, with a bound on how many run at once. Requests are
// served by serve_connection() (connection.h); this class owns only the
// threads and sockets, and stopping them. Used by server_main.cc and, in
// later labs, linked as it is.
#pragma once

#include <atomic>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "common/net.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/unique_fd.h"
#include "connection.h"
#include "store.h"

namespace kv::lab01 {

struct ServerOptions {
  HostPort listen{"127.0.0.1", 7001};
  // Past this many open connections a new client gets
  // "-ERR max number of clients reached" and is closed.
  size_t max_connections = 1024;
  ConnectionOptions connection;
};

class Server {
 public:
  // Binds the listening socket and starts accepting; store must outlive the
  // server. Fails (address in use, bad address) before any thread starts.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options,
                                               Store& store);
  ~Server();  // stops, if stop() was not called

  // The bound address (the real port when options.listen had port 0).
  const HostPort& address() const { return address_; }

  // Stops accepting, shuts every open connection down, so requests in
  // flight are answered or dropped, and joins every thread. Idempotent.
  void stop();

 private:
  // One accepted client. Its thread runs serve_connection; the fd is closed
  // only when the Connection is destroyed, after its thread was joined, so
  // stop() can never shut down a number that a new socket reuses.
  struct Connection {
    UniqueFd fd;
    std::atomic<bool> finished{false};
    std::jthread thread;  // last: started last, joined first
  };

  Server(const ServerOptions& options, Store& store, UniqueFd listener,
         UniqueFd wake, HostPort address);

  void accept_loop(std::stop_token stop);
  // Thread body around serve_connection: catches NotImplemented from a
  // starter copy, closes politely, tells the acceptor it finished.
  void run_connection(Connection& connection);
  // Joins and frees connections whose thread has finished.
  void reap_finished() KV_EXCLUDES(mu_);
  void wake_acceptor();

  const ServerOptions options_;
  Store& store_;
  UniqueFd listener_;    // closed by stop(): new clients are refused
  const UniqueFd wake_;  // eventfd: stop() and finished connections
  const HostPort address_;

  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> connections_ KV_GUARDED_BY(mu_);
  std::atomic<bool> stopping_{false};
  std::jthread acceptor_;  // last: started last, stopped and joined first
};

}  // namespace kv::lab01
