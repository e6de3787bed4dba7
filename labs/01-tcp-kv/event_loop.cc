// See event_loop.h. Level-triggered epoll: a socket with bytes left unread
// is reported again by the next epoll_wait, so each event is handled with a
// single read, and a busy client cannot starve the others.
#include "event_loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/not_implemented.h"
#include "resp.h"

namespace kv::lab01 {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr int kMaxEvents = 256;
constexpr std::string_view kTooManyClients =
    "-ERR max number of clients reached\r\n";
// After our last reply (QUIT's +OK, "line too long") we shut our side and
// read what the client still sends for a moment before closing. Closing a
// socket with unread input makes the kernel send RST, and an RST can
// destroy that last reply before the client reads it.
constexpr auto kLinger = std::chrono::seconds(1);
constexpr size_t kMaxLingerBytes = 1 << 20;

// epoll_event.data holds the descriptor: a Client pointer could dangle when
// one event of a batch closes a client that a later event names.
epoll_event event_for(int fd, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  return event;
}

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create(LoopShared& shared,
                                                     int listener) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Status::from_errno("epoll_create1", errno);
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return Status::from_errno("eventfd", errno);
  epoll_event event = event_for(wake.get(), EPOLLIN);
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &event) != 0)
    return Status::from_errno("epoll_ctl", errno);
  if (listener >= 0) {
    event = event_for(listener, EPOLLIN);
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, listener, &event) != 0)
      return Status::from_errno("epoll_ctl", errno);
  }
  return std::unique_ptr<EventLoop>(
      new EventLoop(shared, listener, std::move(epoll), std::move(wake)));
}

EventLoop::EventLoop(LoopShared& shared, int listener, UniqueFd epoll,
                     UniqueFd wake)
    : shared_(shared),
      listener_(listener),
      epoll_(std::move(epoll)),
      wake_(std::move(wake)),
      read_buffer_(kReadChunkBytes, '\0') {}

EventLoop::~EventLoop() = default;

void EventLoop::stop() {
  stopping_.store(true, std::memory_order_release);
  uint64_t one = 1;
  // The eventfd counter only grows; a failed write means it is already
  // non-zero, so the loop will wake anyway.
  [[maybe_unused]] ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
}

void EventLoop::adopt(UniqueFd client) {
  {
    std::lock_guard lock(inbox_mu_);
    inbox_.push_back(std::move(client));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
}

void EventLoop::run() {
  // LAB01 BEGIN: EventLoop::run — wait for ready sockets, dispatch, until stop
  epoll_event events[kMaxEvents];
  while (!stopping_.load(std::memory_order_acquire)) {
    int timeout_ms = wait_timeout_ms(Clock::now());
    int ready = ::epoll_wait(epoll_.get(), events, kMaxEvents, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      spdlog::critical("epoll_wait: {}", errno);
      std::_Exit(71);
    }
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_.get()) {
        uint64_t count;
        [[maybe_unused]] ssize_t ignored =
            ::read(wake_.get(), &count, sizeof count);
        take_adopted();
        continue;
      }
      if (fd == listener_) {
        accept_clients();
        continue;
      }
      auto it = clients_.find(fd);
      if (it == clients_.end()) continue;  // closed earlier in this batch
      Client& client = *it->second;
      const uint64_t serial = client.serial;
      // Errors and hang-ups show up as a failed or empty read, so they are
      // handled by on_readable like any other end of the stream.
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(client);
      it = clients_.find(fd);
      if (it == clients_.end() || it->second->serial != serial) continue;
      if (events[i].events & EPOLLOUT) on_writable(client);
    }
    finish_batch();
  }
  close_all();
  // LAB01 END
}

void EventLoop::accept_clients() {
  // LAB01 BEGIN: EventLoop::accept_clients — accept all, bound, deal out
  while (true) {
    UniqueFd client(
        ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client.valid()) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        // Out of descriptors: the pending client stays queued and
        // epoll_wait would report it again at once. Stop watching the
        // listener for a moment instead of spinning.
        spdlog::warn("accept: out of resources (errno {}), backing off", errno);
        epoll_event event = event_for(listener_, 0);
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, listener_, &event);
        accept_paused_until_ = Clock::now() + std::chrono::milliseconds(100);
      }
      return;  // EAGAIN: nobody else is waiting
    }
    if (shared_.open_connections.load(std::memory_order_relaxed) >=
        shared_.max_connections) {
      // The socket is non-blocking: a client that does not read cannot
      // stall the loop.
      ::send(client.get(), kTooManyClients.data(), kTooManyClients.size(),
             MSG_NOSIGNAL);
      spdlog::warn("refused a client: {} connections open",
                   shared_.max_connections);
      continue;  // the client is closed here
    }
    int one = 1;
    ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    shared_.open_connections.fetch_add(1, std::memory_order_relaxed);
    EventLoop* owner =
        shared_.loops[shared_.next_loop++ % shared_.loops.size()];
    if (owner == this) {
      register_client(std::move(client));
    } else {
      owner->adopt(std::move(client));
    }
  }
  // LAB01 END
}

void EventLoop::take_adopted() {
  std::vector<UniqueFd> adopted;
  {
    std::lock_guard lock(inbox_mu_);
    adopted.swap(inbox_);
  }
  for (UniqueFd& fd : adopted) register_client(std::move(fd));
}

void EventLoop::register_client(UniqueFd fd) {
  auto client = std::make_unique<Client>();
  client->serial = next_serial_++;
  const int number = fd.get();
  client->fd = std::move(fd);
  client->events = EPOLLIN;
  epoll_event event = event_for(number, client->events);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, number, &event) != 0) {
    spdlog::error("epoll_ctl add: errno {}", errno);
    shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    return;  // closes the socket
  }
  clients_.emplace(number, std::move(client));
}

void EventLoop::on_readable(Client& client) {
  if (client.draining) {
    ssize_t n =
        ::recv(client.fd.get(), read_buffer_.data(), read_buffer_.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    client.drained_bytes += n > 0 ? static_cast<size_t>(n) : 0;
    if (n <= 0 || client.drained_bytes > kMaxLingerBytes)
      close_client(client.fd.get());
    return;
  }
  // LAB01 BEGIN: EventLoop::on_readable — one read, then serve what arrived
  ssize_t n =
      ::recv(client.fd.get(), read_buffer_.data(), read_buffer_.size(), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    // End of stream, or a reset: nobody is left to answer.
    close_client(client.fd.get());
    return;
  }
  client.input.append(read_buffer_.data(), static_cast<size_t>(n));
  serve(client);
  // LAB01 END
}

void EventLoop::on_writable(Client& client) {
  // Replies served in this batch may wait for their writes to be durable;
  // finish_batch sends them.
  if (client.reply_due) return;
  if (!flush(client)) return;
  // The client caught up: answer the requests that waited for room.
  if (client.output_full && client.output.empty()) serve(client);
}

void EventLoop::serve(Client& client) {
  Served served;
  try {
    served = shared_.connection.serve(client.input, *shared_.store,
                                      client.output, shared_.connection);
  } catch (const NotImplemented& e) {
    // A starter copy: tell the client what is missing, then hang up.
    spdlog::error("{}", e.what());
    append_error(client.output, e.what());
    served = Served::kClose;
  }
  client.output_full = served == Served::kOutputFull;
  if (served == Served::kClose) client.close_after_output = true;
  if (!client.reply_due) {
    client.reply_due = true;
    replies_due_.push_back({client.fd.get(), client.serial});
  }
}

void EventLoop::finish_batch() {
  while (!replies_due_.empty()) {
    // One wait for every reply of the batch: in lab 02 this is where many
    // clients' writes share one fsync (group commit).
    shared_.store->wait_durable();
    std::vector<ClientRef> due;
    due.swap(replies_due_);
    for (const ClientRef& ref : due) {
      auto it = clients_.find(ref.fd);
      if (it == clients_.end() || it->second->serial != ref.serial) continue;
      Client& client = *it->second;
      client.reply_due = false;
      if (!flush(client)) continue;
      // The output limit stopped serve_requests and the client took
      // everything: answer the rest now. That queues the client again, and
      // the next round waits for those writes too.
      if (client.output_full && client.output.empty()) serve(client);
    }
  }
  expire_lingering(Clock::now());
}

bool EventLoop::flush(Client& client) {
  // LAB01 BEGIN: EventLoop::flush — write what the kernel takes, watch the rest
  while (client.output_sent < client.output.size()) {
    ssize_t n =
        ::send(client.fd.get(), client.output.data() + client.output_sent,
               client.output.size() - client.output_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;     // the kernel's buffer is full: EPOLLOUT
      close_client(client.fd.get());  // EPIPE, ECONNRESET: the client left
      return false;
    }
    client.output_sent += static_cast<size_t>(n);
  }
  if (client.output_sent == client.output.size()) {
    client.output.clear();
    client.output_sent = 0;
    if (client.close_after_output && !client.draining) {
      linger(client);
      return false;
    }
  }
  watch(client);
  return true;
  // LAB01 END
}

void EventLoop::watch(Client& client) {
  uint32_t wanted = 0;
  // Read requests only while there is room for their replies; a lingering
  // client is read only to discard.
  if (client.draining || (!client.close_after_output && !client.output_full))
    wanted |= EPOLLIN;
  if (client.output_sent < client.output.size()) wanted |= EPOLLOUT;
  if (wanted == client.events) return;
  client.events = wanted;
  epoll_event event = event_for(client.fd.get(), wanted);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, client.fd.get(), &event);
}

void EventLoop::linger(Client& client) {
  ::shutdown(client.fd.get(), SHUT_WR);
  client.draining = true;
  client.input.clear();
  lingering_.push_back(
      {Clock::now() + kLinger, client.fd.get(), client.serial});
  watch(client);
}

void EventLoop::expire_lingering(Clock::time_point now) {
  while (!lingering_.empty() && lingering_.front().deadline <= now) {
    Lingering expired = lingering_.front();
    lingering_.pop_front();
    auto it = clients_.find(expired.fd);
    if (it != clients_.end() && it->second->serial == expired.serial)
      close_client(expired.fd);
  }
  if (listener_ >= 0 && accept_paused_until_ != Clock::time_point{} &&
      accept_paused_until_ <= now) {
    accept_paused_until_ = {};
    epoll_event event = event_for(listener_, EPOLLIN);
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, listener_, &event);
  }
}

int EventLoop::wait_timeout_ms(Clock::time_point now) const {
  Clock::time_point next = Clock::time_point::max();
  if (!lingering_.empty()) next = lingering_.front().deadline;
  if (accept_paused_until_ != Clock::time_point{})
    next = std::min(next, accept_paused_until_);
  if (next == Clock::time_point::max()) return -1;
  if (next <= now) return 0;
  // Round up, so the loop does not wake a hair early and spin.
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now);
  return static_cast<int>(wait.count());
}

void EventLoop::close_client(int fd) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  // Closing removes it from the epoll set too.
  clients_.erase(it);
  shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void EventLoop::close_all() {
  // Requests already answered get their replies if the kernel takes them
  // now; nobody waits for a client that does not read.
  for (auto& [fd, client] : clients_) {
    if (client->output_sent < client->output.size())
      ::send(fd, client->output.data() + client->output_sent,
             client->output.size() - client->output_sent,
             MSG_NOSIGNAL | MSG_DONTWAIT);
    shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  }
  clients_.clear();
  take_adopted();  // handed over while stopping: close them too
  shared_.open_connections.fetch_sub(clients_.size(),
                                     std::memory_order_relaxed);
  clients_.clear();
}

}  // namespace kv::lab01
