// See server.h. Threads: acceptor_ runs accept_loop; each Connection's
// thread runs serve_connection. Nothing is detached: stop() joins them all.
#include "server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/not_implemented.h"
#include "resp.h"

namespace kv::lab01 {
namespace {

constexpr std::string_view kTooManyClients =
    "-ERR max number of clients reached\r\n";

// After our last reply, send FIN and read what the client still sends for a
// moment before closing. Closing a socket with unread input makes the
// kernel send RST, and an RST can destroy our last reply (QUIT's +OK, the
// "line too long" error) before the client reads it.
void close_politely(int fd) {
  ::shutdown(fd, SHUT_WR);
  constexpr int kLingerMs = 1000;
  constexpr size_t kMaxDrainBytes = 1 << 20;
  size_t drained = 0;
  char sink[4096];
  pollfd p{fd, POLLIN, 0};
  while (drained < kMaxDrainBytes) {
    if (::poll(&p, 1, kLingerMs) <= 0) break;
    ssize_t n = ::recv(fd, sink, sizeof sink, 0);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options,
                                              Store& store) {
  Result<UniqueFd> listener = listen_tcp(options.listen);
  if (!listener.ok()) return listener.status();
  Result<HostPort> address = local_address(listener.value().get());
  if (!address.ok()) return address.status();
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return Status::from_errno("eventfd", errno);
  std::unique_ptr<Server> server(new Server(options, store,
                                            std::move(listener).value(),
                                            std::move(wake), address.value()));
  Server* self = server.get();
  server->acceptor_ = std::jthread([self](std::stop_token stop) {
    try {
      self->accept_loop(stop);
    } catch (const NotImplemented& e) {
      // A starter copy without its accept loop cannot serve anyone: say so
      // and exit, rather than sit there refusing every PING.
      spdlog::critical("{}", e.what());
      spdlog::default_logger()->flush();
      std::_Exit(70);
    }
  });
  return server;
}

Server::Server(const ServerOptions& options, Store& store, UniqueFd listener,
               UniqueFd wake, HostPort address)
    : options_(options),
      store_(store),
      listener_(std::move(listener)),
      wake_(std::move(wake)),
      address_(std::move(address)) {}

Server::~Server() {
  // A starter copy's stop() throws NotImplemented; a destructor must not.
  try {
    stop();
  } catch (const NotImplemented&) {
  }
}

void Server::wake_acceptor() {
  uint64_t one = 1;
  // The eventfd counter only grows; a failed write means it is already
  // non-zero, so the acceptor will wake anyway.
  [[maybe_unused]] ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
}

void Server::reap_finished() {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if ((*it)->finished.load(std::memory_order_acquire))
        finished.splice(finished.end(), connections_, it);
      it = next;
    }
  }
  // Destroying them joins their threads: outside the lock, since a join
  // waits for another thread.
}

void Server::run_connection(Connection& connection) {
  try {
    serve_connection(connection.fd.get(), store_, options_.connection);
  } catch (const NotImplemented& e) {
    spdlog::error("{}", e.what());
    std::string reply;
    append_error(reply, e.what());
    (void)send_all(connection.fd.get(), reply);
  }
  close_politely(connection.fd.get());
  connection.finished.store(true, std::memory_order_release);
  wake_acceptor();
}

void Server::accept_loop(std::stop_token stop) {
  // LAB01 BEGIN: Server::accept_loop — accept, enforce the bound, a thread each
  pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (!stop.stop_requested()) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::critical("poll on the listening socket: {}", errno);
      std::_Exit(71);
    }
    if (fds[1].revents & POLLIN) {
      uint64_t count;
      [[maybe_unused]] ssize_t ignored =
          ::read(wake_.get(), &count, sizeof count);
      reap_finished();
      continue;  // re-check stop before accepting
    }
    if (!(fds[0].revents & POLLIN)) continue;

    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client.valid()) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        // Out of descriptors: the pending client stays queued and poll()
        // would report it again at once. Wait for a connection to finish
        // (the wake fd), or a moment, instead of spinning.
        spdlog::warn("accept: out of resources (errno {}), backing off", errno);
        ::poll(&fds[1], 1, 100);
      }
      continue;  // ECONNABORTED and the like: that client is already gone
    }
    int one = 1;
    ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    reap_finished();  // a client that just left must not count
    std::lock_guard lock(mu_);
    if (connections_.size() >= options_.max_connections) {
      // Non-blocking: a client that does not read must not stall accept.
      ::send(client.get(), kTooManyClients.data(), kTooManyClients.size(),
             MSG_NOSIGNAL | MSG_DONTWAIT);
      spdlog::warn("refused a client: {} connections open",
                   connections_.size());
      continue;  // client closes here
    }
    auto& connection =
        connections_.emplace_back(std::make_unique<Connection>());
    connection->fd = std::move(client);
    Connection* raw = connection.get();
    connection->thread = std::jthread([this, raw] { run_connection(*raw); });
  }
  // LAB01 END
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  // LAB01 BEGIN: Server::stop — stop accepting, wake and join every connection
  acceptor_.request_stop();
  wake_acceptor();
  if (acceptor_.joinable()) acceptor_.join();
  listener_.reset();  // from here on, connecting clients are refused
  // The acceptor is gone, so the list no longer changes; take it whole.
  std::list<std::unique_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    open.swap(connections_);
  }
  // SHUT_RDWR wakes a thread blocked in recv() (it reads end-of-file) or in
  // send() to a client that stopped reading (it gets EPIPE).
  for (auto& connection : open) ::shutdown(connection->fd.get(), SHUT_RDWR);
  open.clear();  // joins each thread, then closes its socket
  // LAB01 END
}

}  // namespace kv::lab01
