// Server: the listening socket and a few event loops (event_loop.h), one
// thread each, serving every client connection between them. This class
// owns only the threads and stopping them. Used by server_main.cc and, in
// later labs, linked as it is.
#pragma once

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "common/net.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "connection.h"
#include "event_loop.h"
#include "store.h"

namespace kv::lab01 {

struct ServerOptions {
  HostPort listen{"127.0.0.1", 7001};
  // Past this many open connections a new client gets
  // "-ERR max number of clients reached" and is closed.
  size_t max_connections = 1024;
  // Event loops, one thread each; 0 means one per core. One by default,
  // like Redis: see the handout for when more loops pay off.
  size_t threads = 1;
  ConnectionOptions connection;
};

class Server {
 public:
  // Binds the listening socket and starts the loops; store must outlive the
  // server. Fails (address in use, bad address) before any thread starts.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options,
                                               Store& store);
  ~Server();  // stops, if stop() was not called

  // The bound address (the real port when options.listen had port 0).
  const HostPort& address() const { return address_; }
  size_t threads() const { return loops_.size(); }

  // Stops accepting, closes every open connection (replies already computed
  // are sent if the kernel takes them at once) and joins every thread.
  // Idempotent.
  void stop();

 private:
  Server(UniqueFd listener, HostPort address);

  UniqueFd listener_;  // closed by stop(): new clients are refused
  const HostPort address_;
  LoopShared shared_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::jthread> threads_;  // threads_[i] runs loops_[i]
  bool stopped_ = false;
};

}  // namespace kv::lab01
