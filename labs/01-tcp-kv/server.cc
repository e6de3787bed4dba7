// See server.h. Loop 0 watches the listening socket and deals accepted
// clients out to all loops in turn; each loop then owns its clients alone,
// so a connection's state is touched by one thread only and needs no lock.
// The store is the one thing the loops share, and it has its own lock.
#include "server.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "common/not_implemented.h"

namespace kv::lab01 {

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options,
                                              Store& store) {
  Result<UniqueFd> listener = listen_tcp(options.listen);
  if (!listener.ok()) return listener.status();
  Result<HostPort> address = local_address(listener.value().get());
  if (!address.ok()) return address.status();
  // Non-blocking, so accept() answers EAGAIN once the queue is empty
  // instead of stopping loop 0 until the next client arrives.
  int flags = ::fcntl(listener.value().get(), F_GETFL);
  if (flags < 0 ||
      ::fcntl(listener.value().get(), F_SETFL, flags | O_NONBLOCK) != 0)
    return Status::from_errno("fcntl O_NONBLOCK", errno);

  std::unique_ptr<Server> server(
      new Server(std::move(listener).value(), address.value()));
  server->shared_.store = &store;
  server->shared_.connection = options.connection;
  server->shared_.max_connections = options.max_connections;
  size_t threads = options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < threads; ++i) {
    Result<std::unique_ptr<EventLoop>> loop = EventLoop::create(
        server->shared_, i == 0 ? server->listener_.get() : -1);
    if (!loop.ok()) return loop.status();
    server->shared_.loops.push_back(loop.value().get());
    server->loops_.push_back(std::move(loop).value());
  }
  for (auto& loop : server->loops_) {
    EventLoop* raw = loop.get();
    server->threads_.emplace_back([raw] {
      try {
        raw->run();
      } catch (const NotImplemented& e) {
        // A starter copy without its event loop cannot serve anyone: say
        // so and exit, rather than sit there ignoring every PING.
        spdlog::critical("{}", e.what());
        spdlog::default_logger()->flush();
        std::_Exit(70);
      }
    });
  }
  return server;
}

Server::Server(UniqueFd listener, HostPort address)
    : listener_(std::move(listener)), address_(std::move(address)) {}

Server::~Server() {
  // A starter copy's stop() throws NotImplemented; a destructor must not.
  try {
    stop();
  } catch (const NotImplemented&) {
    // Still tell the loops to stop, or destroying threads_ would wait
    // forever for loops nobody stopped, and every test of a starter copy
    // would hang at its end instead of failing.
    for (auto& loop : loops_) loop->stop();
  }
}

void Server::stop() {
  if (stopped_ || threads_.empty()) return;
  // LAB01 BEGIN: Server::stop — stop the accepting loop, then the others
  // Loop 0 first: once it is joined nobody hands clients to the others, so
  // each of them closes everything it will ever own.
  for (size_t i = 0; i < loops_.size(); ++i) {
    loops_[i]->stop();
    if (i == 0 && threads_[0].joinable()) threads_[0].join();
  }
  for (std::jthread& thread : threads_)
    if (thread.joinable()) thread.join();
  listener_.reset();  // from here on, connecting clients are refused
  // LAB01 END
  // Only now: a stop() that threw (a starter's stub) has stopped nothing,
  // and the destructor must try again.
  stopped_ = true;
}

}  // namespace kv::lab01
