// See fault_proxy.h. The I/O thread owns the mode, the armed cut and every
// connection; public methods reach it through commands_ and the eventfd,
// and read only stats_. Each connection is two flows, one per direction,
// each a FIFO queue of chunks with the time each may leave.
#include "fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <utility>

#include <fmt/format.h>

namespace kv::grader {
namespace {

using Direction = FaultProxy::Direction;

// epoll tokens: the listener, the eventfd, then 2 * id + side.
constexpr uint64_t kListenerToken = 0;
constexpr uint64_t kWakeToken = 1;

uint64_t token(uint64_t id, bool server_side) {
  return 2 * id + (server_side ? 1 : 0);
}

Direction other(Direction dir) {
  return dir == Direction::kToServer ? Direction::kToClient
                                     : Direction::kToServer;
}

Result<socklen_t> to_sockaddr(const HostPort& address, sockaddr_storage* out) {
  *out = {};
  std::string host = address.host == "localhost" ? "127.0.0.1" : address.host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    return socklen_t{sizeof(sockaddr_in)};
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    return socklen_t{sizeof(sockaddr_in6)};
  }
  return Status::invalid_argument(fmt::format(
      "proxy target '{}' is not an IP address", address.to_string()));
}

void set_nodelay(int fd) {
  // The proxy must not add Nagle's delay to small requests that the
  // client and server themselves send at once.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Closes fd so that the peer reads ECONNRESET rather than end of file.
void reset_fd(UniqueFd& fd) {
  if (!fd.valid()) return;
  linger hard{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  fd.reset();
}

int socket_error(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
    return errno;
  return error;
}

// Bytes written to fd that its kernel has not yet sent to the peer.
int unsent_bytes(int fd) {
  int unsent = 0;
  if (::ioctl(fd, SIOCOUTQNSD, &unsent) != 0) return 0;
  return unsent;
}

std::string flow_to_string(const FaultProxy::FlowStats& f) {
  return fmt::format("{{received={} forwarded={} swallowed={} injected={}}}",
                     f.received_bytes, f.forwarded_bytes, f.swallowed_bytes,
                     f.injected_bytes);
}

}  // namespace

struct FaultProxy::Flow {
  struct Chunk {
    enum class Kind {
      kData,
      kEnd,  // the source's end of stream: shutdown(SHUT_WR) the destination
      kCut,  // cut_after's count was reached: reset both sides once sent
    };
    Kind kind = Kind::kData;
    std::string bytes;
    size_t sent = 0;
    Clock::time_point due;
    bool injected = false;
  };

  static Chunk data(std::string bytes, Clock::time_point due, bool injected) {
    Chunk chunk;
    chunk.bytes = std::move(bytes);
    chunk.due = due;
    chunk.injected = injected;
    return chunk;
  }
  static Chunk marker(Chunk::Kind kind, Clock::time_point due) {
    Chunk chunk;
    chunk.kind = kind;
    chunk.due = due;
    return chunk;
  }

  std::deque<Chunk> queue;
  size_t queued_bytes = 0;        // unsent data bytes in queue
  bool source_ended = false;      // read end of file from the source
  bool end_held = false;          // ... under black_hole(): not queued yet
  bool closed_for_input = false;  // a kEnd or kCut is queued: nothing after
  bool ended = false;             // the destination was shut down for writing
  bool blocked = false;  // the destination's buffer is full: wait for EPOLLOUT
  bool lowat_set = false;  // TCP_NOTSENT_LOWAT, so EPOLLOUT means all sent
};

struct FaultProxy::Connection {
  enum class Upstream { kNone, kConnecting, kConnected };

  uint64_t id = 0;
  UniqueFd client;
  UniqueFd server;
  Upstream upstream = Upstream::kNone;
  Flow to_server;        // read from client, written to server
  Flow to_client;        // read from server, written to client
  bool cutting = false;  // a kCut is queued: read no more from either side
  bool closed = false;   // sockets closed; erased by reap_closed
  uint32_t client_events = 0;  // what epoll watches; 0: not registered
  uint32_t server_events = 0;

  Flow& flow(Direction dir) {
    return dir == Direction::kToServer ? to_server : to_client;
  }
  const Flow& flow(Direction dir) const {
    return dir == Direction::kToServer ? to_server : to_client;
  }
  int source_fd(Direction dir) const {
    return dir == Direction::kToServer ? client.get() : server.get();
  }
  int destination_fd(Direction dir) const {
    return dir == Direction::kToServer ? server.get() : client.get();
  }
  bool connected(bool server_side) const {
    return !server_side || upstream == Upstream::kConnected;
  }
};

std::string FaultProxy::Stats::to_string() const {
  return fmt::format(
      "accepted={} refused={} open={} upstream_failed={} cut={} to_server{} "
      "to_client{}",
      accepted, refused, open, upstream_failed, cut, flow_to_string(to_server),
      flow_to_string(to_client));
}

Result<std::unique_ptr<FaultProxy>> FaultProxy::start(const HostPort& target,
                                                      const HostPort& listen) {
  if (target.port == 0)
    return Status::invalid_argument(
        fmt::format("proxy target {} has no port", target.to_string()));
  sockaddr_storage target_sockaddr;
  Result<socklen_t> length = to_sockaddr(target, &target_sockaddr);
  if (!length.ok()) return length.status();

  Result<UniqueFd> listener = listen_tcp(listen);
  if (!listener.ok()) return listener.status();
  int flags = ::fcntl(listener.value().get(), F_GETFL);
  ::fcntl(listener.value().get(), F_SETFL, flags | O_NONBLOCK);
  Result<HostPort> address = local_address(listener.value().get());
  if (!address.ok()) return address.status();

  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Status::from_errno("epoll_create1", errno);
  UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake.valid()) return Status::from_errno("eventfd", errno);
  epoll_event listener_event{EPOLLIN, {.u64 = kListenerToken}};
  epoll_event wake_event{EPOLLIN, {.u64 = kWakeToken}};
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, listener.value().get(),
                  &listener_event) != 0 ||
      ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &wake_event) != 0)
    return Status::from_errno("epoll_ctl", errno);

  return std::unique_ptr<FaultProxy>(new FaultProxy(
      target, target_sockaddr, length.value(), std::move(listener).value(),
      std::move(address).value(), std::move(epoll), std::move(wake)));
}

FaultProxy::FaultProxy(const HostPort& target,
                       const sockaddr_storage& target_sockaddr,
                       socklen_t target_sockaddr_length, UniqueFd listener,
                       HostPort address, UniqueFd epoll, UniqueFd wake)
    : target_(target),
      target_sockaddr_(target_sockaddr),
      target_sockaddr_length_(target_sockaddr_length),
      address_(std::move(address)),
      epoll_(std::move(epoll)),
      wake_(std::move(wake)),
      listener_(std::move(listener)),
      listener_watched_(true),
      read_buffer_(kReadChunkBytes, '\0') {
  io_thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

FaultProxy::~FaultProxy() { stop(); }

void FaultProxy::stop() {
  // call_once: a second caller waits until the first has joined, so both
  // return with the proxy stopped, and the thread is joined once.
  std::call_once(stop_once_, [this] {
    io_thread_.request_stop();
    wake();
    io_thread_.join();
  });
}

void FaultProxy::wake() {
  uint64_t one = 1;
  // Cannot fail short of the counter overflowing, which a waiting
  // eventfd with a reader never does.
  (void)!::write(wake_.get(), &one, sizeof one);
}

void FaultProxy::pass() { set_mode(Mode::kPass, std::chrono::milliseconds(0)); }

void FaultProxy::delay(std::chrono::milliseconds d) {
  set_mode(Mode::kDelay, d);
}

void FaultProxy::black_hole() {
  set_mode(Mode::kBlackHole, std::chrono::milliseconds(0));
}

void FaultProxy::refuse() {
  set_mode(Mode::kRefuse, std::chrono::milliseconds(0));
}

void FaultProxy::set_mode(Mode mode, std::chrono::milliseconds d) {
  Command command;
  command.kind = Command::Kind::kSetMode;
  command.mode = mode;
  command.delay = d;
  run_command(std::move(command));
}

void FaultProxy::cut() {
  Command command;
  command.kind = Command::Kind::kCut;
  run_command(std::move(command));
}

void FaultProxy::cut_after(Direction dir, size_t bytes) {
  Command command;
  command.kind = Command::Kind::kCutAfter;
  command.dir = dir;
  command.bytes = bytes;
  run_command(std::move(command));
}

void FaultProxy::inject(Direction dir, std::string bytes) {
  Command command;
  command.kind = Command::Kind::kInject;
  command.dir = dir;
  command.data = std::move(bytes);
  run_command(std::move(command));
}

void FaultProxy::run_command(Command command) {
  std::unique_lock lock(mu_);
  if (io_done_) return;
  commands_.push_back(std::move(command));
  uint64_t mine = ++commands_issued_;
  lock.unlock();
  wake();
  lock.lock();
  command_done_.wait(lock, [&] { return commands_done_ >= mine || io_done_; });
}

FaultProxy::Stats FaultProxy::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string FaultProxy::captured(Direction dir) const {
  std::lock_guard lock(mu_);
  return dir == Direction::kToServer ? captured_to_server_
                                     : captured_to_client_;
}

bool FaultProxy::wait_until(const std::function<bool(const Stats&)>& pred,
                            std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return stats_changed_.wait_for(lock, timeout, [&] { return pred(stats_); });
}

FaultProxy::FlowStats& FaultProxy::flow_stats(Direction dir) {
  return dir == Direction::kToServer ? stats_.to_server : stats_.to_client;
}

FaultProxy::Clock::time_point FaultProxy::due_time(
    Clock::time_point now) const {
  return mode_ == Mode::kDelay ? now + delay_ : now;
}

void FaultProxy::run(std::stop_token stop) {
  std::vector<epoll_event> events(64);
  while (!stop.stop_requested()) {
    // Timers: flush what has come due, then sleep until the next chunk is.
    Clock::time_point now = Clock::now();
    Clock::time_point next = Clock::time_point::max();
    for (auto& [id, c] : connections_) {
      if (c->closed) continue;
      if (has_due_bytes(*c, now)) service(*c);
      if (c->closed) continue;
      for (Direction dir : {Direction::kToServer, Direction::kToClient}) {
        const Flow& f = c->flow(dir);
        // A flow waiting for EPOLLOUT or for its upstream connection is
        // woken by epoll, not by the clock.
        if (!f.queue.empty() && !f.blocked &&
            c->connected(dir == Direction::kToServer))
          next = std::min(next, f.queue.front().due);
      }
    }
    reap_closed();
    int timeout_ms = -1;
    if (next != Clock::time_point::max()) {
      // Rounded up: a chunk must never leave before its time.
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now);
      timeout_ms =
          static_cast<int>(std::clamp<int64_t>(wait.count(), 0, INT_MAX));
    }
    int n = ::epoll_wait(epoll_.get(), events.data(),
                         static_cast<int>(events.size()), timeout_ms);
    if (n < 0) {
      KV_CHECK(errno == EINTR, fmt::format("epoll_wait: {}", strerror(errno)));
      continue;
    }
    for (int i = 0; i < n; ++i) {
      uint64_t t = events[i].data.u64;
      if (t == kListenerToken) {
        accept_pending();
      } else if (t == kWakeToken) {
        uint64_t count;
        (void)!::read(wake_.get(), &count, sizeof count);
        take_commands();
      } else {
        auto it = connections_.find(t / 2);
        // A connection closed earlier in this batch still has events here.
        if (it == connections_.end() || it->second->closed) continue;
        on_socket_event(*it->second, t % 2 == 1, events[i].events);
      }
    }
    reap_closed();
  }

  // The link is gone: reset both sides, so that a peer blocked in a read
  // wakes with an error rather than waiting for bytes that never come.
  for (auto& [id, c] : connections_)
    if (!c->closed) reset_connection(*c, /*count_as_cut=*/false);
  connections_.clear();
  listener_.reset();
  std::lock_guard lock(mu_);
  io_done_ = true;
  command_done_.notify_all();
  stats_changed_.notify_all();
}

void FaultProxy::take_commands() {
  std::vector<Command> batch;
  uint64_t last;
  {
    std::lock_guard lock(mu_);
    batch.swap(commands_);
    last = commands_issued_;
  }
  for (Command& command : batch) apply(command);
  std::lock_guard lock(mu_);
  commands_done_ = last;
  command_done_.notify_all();
}

void FaultProxy::apply(Command& command) {
  switch (command.kind) {
    case Command::Kind::kSetMode:
      // Connections that completed their handshake before the call are
      // existing connections: they are accepted under the old mode.
      accept_pending();
      mode_ = command.mode;
      delay_ = command.delay;
      // Leaving black_hole: connect the connections accepted under it and
      // pass on the ends of stream it held.
      for (auto& [id, c] : connections_) service(*c);
      return;
    case Command::Kind::kCut:
      accept_pending();
      for (auto& [id, c] : connections_)
        if (!c->closed) reset_connection(*c, /*count_as_cut=*/true);
      return;
    case Command::Kind::kCutAfter:
      cut_armed_ = true;
      cut_dir_ = command.dir;
      cut_budget_ = command.bytes;
      return;
    case Command::Kind::kInject: {
      Clock::time_point now = Clock::now();
      for (auto& [id, c] : connections_) {
        if (c->closed) continue;
        Flow& f = c->flow(command.dir);
        if (f.closed_for_input || command.data.empty()) continue;
        f.queue.push_back(Flow::data(command.data, now, /*injected=*/true));
        f.queued_bytes += command.data.size();
        {
          std::lock_guard lock(mu_);
          flow_stats(command.dir).injected_bytes += command.data.size();
        }
        service(*c);
      }
      std::lock_guard lock(mu_);
      stats_changed_.notify_all();
      return;
    }
  }
}

void FaultProxy::accept_pending() {
  while (listener_.valid()) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr,
                          SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        // The listener would stay readable and spin the loop: stop
        // watching it until a connection closes and frees a descriptor.
        if (listener_watched_) {
          ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.get(), nullptr);
          listener_watched_ = false;
        }
      }
      return;  // EAGAIN: nothing more waiting
    }
    {
      std::lock_guard lock(mu_);
      ++stats_.accepted;
      if (mode_ == Mode::kRefuse)
        ++stats_.refused;
      else
        ++stats_.open;
      stats_changed_.notify_all();
    }
    if (mode_ == Mode::kRefuse) {
      reset_fd(fd);
      continue;
    }
    set_nodelay(fd.get());
    auto c = std::make_unique<Connection>();
    c->id = next_id_++;
    c->client = std::move(fd);
    Connection& ref = *c;
    connections_.emplace(ref.id, std::move(c));
    service(ref);
  }
}

void FaultProxy::start_connect(Connection& c) {
  auto fail = [&] {
    {
      std::lock_guard lock(mu_);
      ++stats_.upstream_failed;
    }
    // The client sees what it would see if it had dialed a server that is
    // down: its connection fails.
    reset_connection(c, /*count_as_cut=*/false);
  };
  c.server.reset(::socket(target_sockaddr_.ss_family,
                          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!c.server.valid()) return fail();
  set_nodelay(c.server.get());
  if (::connect(c.server.get(),
                reinterpret_cast<const sockaddr*>(&target_sockaddr_),
                target_sockaddr_length_) == 0) {
    c.upstream = Connection::Upstream::kConnected;
  } else if (errno == EINPROGRESS) {
    c.upstream = Connection::Upstream::kConnecting;
  } else {
    fail();
  }
}

void FaultProxy::finish_connect(Connection& c) {
  if (socket_error(c.server.get()) != 0) {
    {
      std::lock_guard lock(mu_);
      ++stats_.upstream_failed;
    }
    reset_connection(c, /*count_as_cut=*/false);
    return;
  }
  c.upstream = Connection::Upstream::kConnected;
}

void FaultProxy::on_socket_event(Connection& c, bool server_side,
                                 uint32_t events) {
  if (server_side && c.upstream == Connection::Upstream::kConnecting) {
    finish_connect(c);
    if (!c.closed) service(c);
    return;
  }
  int fd = server_side ? c.server.get() : c.client.get();
  // A reset from either peer is passed on: the other side is reset too.
  if ((events & EPOLLERR) && socket_error(fd) != 0) {
    reset_connection(c, /*count_as_cut=*/false);
    return;
  }
  Direction in = server_side ? Direction::kToClient : Direction::kToServer;
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && can_read(c, in)) {
    read_from(c, in);
    if (c.closed) return;
  }
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
    c.flow(other(in)).blocked = false;
  service(c);
}

bool FaultProxy::can_read(const Connection& c, Direction dir) const {
  const Flow& f = c.flow(dir);
  return c.connected(dir == Direction::kToClient) && !f.source_ended &&
         !c.cutting && f.queued_bytes < kMaxQueuedBytes;
}

void FaultProxy::read_from(Connection& c, Direction dir) {
  ssize_t n =
      ::recv(c.source_fd(dir), read_buffer_.data(), read_buffer_.size(), 0);
  if (n > 0) {
    on_bytes(c, dir,
             std::string_view(read_buffer_.data(), static_cast<size_t>(n)));
  } else if (n == 0) {
    on_end_of_stream(c, dir);
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    reset_connection(c, /*count_as_cut=*/false);
  }
}

void FaultProxy::on_bytes(Connection& c, Direction dir,
                          std::string_view bytes) {
  Flow& f = c.flow(dir);
  size_t take = bytes.size();
  bool fire = false;
  {
    std::lock_guard lock(mu_);
    flow_stats(dir).received_bytes += bytes.size();
    if (mode_ == Mode::kBlackHole) {
      flow_stats(dir).swallowed_bytes += bytes.size();
      stats_changed_.notify_all();
      return;
    }
    stats_changed_.notify_all();
  }
  if (cut_armed_ && cut_dir_ == dir) {
    take = std::min(take, cut_budget_);
    cut_budget_ -= take;
    if (cut_budget_ == 0) {
      fire = true;
      cut_armed_ = false;
    }
  }
  Clock::time_point due = due_time(Clock::now());
  if (take > 0) {
    f.queue.push_back(Flow::data(std::string(bytes.substr(0, take)), due,
                                 /*injected=*/false));
    f.queued_bytes += take;
  }
  if (fire) {
    c.cutting = true;
    f.closed_for_input = true;
    f.queue.push_back(Flow::marker(Flow::Chunk::Kind::kCut, due));
  }
}

void FaultProxy::on_end_of_stream(Connection& c, Direction dir) {
  Flow& f = c.flow(dir);
  f.source_ended = true;
  if (f.closed_for_input) return;  // a cut is queued: it ends the flow
  if (mode_ == Mode::kBlackHole) {
    f.end_held = true;
    return;
  }
  f.closed_for_input = true;
  f.queue.push_back(
      Flow::marker(Flow::Chunk::Kind::kEnd, due_time(Clock::now())));
}

void FaultProxy::service(Connection& c) {
  if (c.closed) return;
  if (mode_ != Mode::kBlackHole) {
    if (c.upstream == Connection::Upstream::kNone) {
      start_connect(c);
      if (c.closed) return;
    }
    for (Direction dir : {Direction::kToServer, Direction::kToClient}) {
      Flow& f = c.flow(dir);
      if (f.end_held && !f.closed_for_input) {
        f.end_held = false;
        f.closed_for_input = true;
        f.queue.push_back(
            Flow::marker(Flow::Chunk::Kind::kEnd, due_time(Clock::now())));
      }
    }
  }
  flush(c, Direction::kToServer);
  if (c.closed) return;
  flush(c, Direction::kToClient);
  if (c.closed) return;
  if (c.to_server.ended && c.to_client.ended) {
    close_connection(c);
    return;
  }
  update_interest(c);
}

void FaultProxy::flush(Connection& c, Direction dir) {
  Flow& f = c.flow(dir);
  if (!c.connected(dir == Direction::kToServer)) return;
  int fd = c.destination_fd(dir);
  Clock::time_point now = Clock::now();
  while (!f.queue.empty() && !f.blocked && f.queue.front().due <= now) {
    Flow::Chunk& head = f.queue.front();
    if (head.kind == Flow::Chunk::Kind::kEnd) {
      // Half-close: the peer reads end of file after the bytes before it.
      ::shutdown(fd, SHUT_WR);
      f.ended = true;
      f.queue.pop_front();
      continue;
    }
    if (head.kind == Flow::Chunk::Kind::kCut) {
      // close() with SO_LINGER 0 discards what the kernel has not sent
      // yet; the reset waits until all of it left, or the peer would get
      // fewer bytes than cut_after promised. With TCP_NOTSENT_LOWAT 1,
      // EPOLLOUT means exactly that nothing is left unsent.
      if (unsent_bytes(fd) > 0) {
        if (!f.lowat_set) {
          int one = 1;
          ::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &one, sizeof one);
          f.lowat_set = true;
          continue;  // unsent_bytes may have reached 0 meanwhile
        }
        f.blocked = true;
        break;
      }
      reset_connection(c, /*count_as_cut=*/true);
      return;
    }
    ssize_t n =
        ::send(fd, head.bytes.data() + head.sent, head.bytes.size() - head.sent,
               MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        f.blocked = true;
        break;
      }
      reset_connection(c, /*count_as_cut=*/false);
      return;
    }
    head.sent += static_cast<size_t>(n);
    f.queued_bytes -= static_cast<size_t>(n);
    if (!head.injected) {
      std::lock_guard lock(mu_);
      flow_stats(dir).forwarded_bytes += static_cast<uint64_t>(n);
      std::string& captured = dir == Direction::kToServer ? captured_to_server_
                                                          : captured_to_client_;
      size_t room = kMaxCapturedBytes - captured.size();
      captured.append(head.bytes, head.sent - static_cast<size_t>(n),
                      std::min(room, static_cast<size_t>(n)));
      stats_changed_.notify_all();
    }
    if (head.sent == head.bytes.size()) f.queue.pop_front();
  }
}

void FaultProxy::update_interest(Connection& c) {
  auto watch = [&](int fd, bool server_side, uint32_t& current, uint32_t want) {
    if (want == current) return;
    epoll_event event{want, {.u64 = token(c.id, server_side)}};
    // Deregistered rather than watched for nothing: epoll reports EPOLLHUP
    // whatever the mask, and a socket both shut down would spin the loop.
    int op = current == 0 ? EPOLL_CTL_ADD
             : want == 0  ? EPOLL_CTL_DEL
                          : EPOLL_CTL_MOD;
    KV_CHECK(::epoll_ctl(epoll_.get(), op, fd, &event) == 0,
             fmt::format("epoll_ctl: {}", strerror(errno)));
    current = want;
  };
  uint32_t client = 0;
  if (can_read(c, Direction::kToServer)) client |= EPOLLIN;
  if (c.to_client.blocked) client |= EPOLLOUT;
  watch(c.client.get(), false, c.client_events, client);
  if (!c.server.valid()) return;
  uint32_t server = 0;
  if (c.upstream == Connection::Upstream::kConnecting) {
    server = EPOLLOUT;
  } else {
    if (can_read(c, Direction::kToClient)) server |= EPOLLIN;
    if (c.to_server.blocked) server |= EPOLLOUT;
  }
  watch(c.server.get(), true, c.server_events, server);
}

bool FaultProxy::has_due_bytes(const Connection& c,
                               Clock::time_point now) const {
  for (Direction dir : {Direction::kToServer, Direction::kToClient}) {
    const Flow& f = c.flow(dir);
    if (!f.queue.empty() && !f.blocked && f.queue.front().due <= now &&
        c.connected(dir == Direction::kToServer))
      return true;
  }
  return false;
}

// Both count before the sockets close, so that a test that saw its
// connection end also sees it counted.
void FaultProxy::reset_connection(Connection& c, bool count_as_cut) {
  {
    std::lock_guard lock(mu_);
    --stats_.open;
    if (count_as_cut) ++stats_.cut;
    stats_changed_.notify_all();
  }
  reset_fd(c.client);
  reset_fd(c.server);
  c.closed = true;
}

void FaultProxy::close_connection(Connection& c) {
  {
    std::lock_guard lock(mu_);
    --stats_.open;
    stats_changed_.notify_all();
  }
  c.client.reset();
  c.server.reset();
  c.closed = true;
}

void FaultProxy::reap_closed() {
  bool reaped = false;
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->second->closed) {
      it = connections_.erase(it);
      reaped = true;
    } else {
      ++it;
    }
  }
  if (reaped && !listener_watched_ && listener_.valid()) {
    epoll_event event{EPOLLIN, {.u64 = kListenerToken}};
    listener_watched_ =
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), &event) == 0;
  }
}

}  // namespace kv::grader
