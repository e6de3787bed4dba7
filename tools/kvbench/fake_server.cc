// See fake_server.h.
#include "tools/kvbench/fake_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <charconv>

#include "common/check.h"

namespace kv::kvbench {
namespace {

// One request from the front of buffer: a multibulk array if it starts
// with '*', else an inline line split on spaces. nullopt: incomplete.
std::optional<std::vector<std::string>> next_request(std::string& buffer) {
  if (buffer.empty()) return std::nullopt;
  if (buffer[0] != '*') {
    size_t newline = buffer.find('\n');
    if (newline == std::string::npos) return std::nullopt;
    std::string line = buffer.substr(0, newline);
    buffer.erase(0, newline + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> words;
    size_t at = 0;
    while (at < line.size()) {
      size_t space = line.find(' ', at);
      if (space == std::string::npos) space = line.size();
      if (space > at) words.push_back(line.substr(at, space - at));
      at = space + 1;
    }
    return words;
  }
  auto read_number = [&](size_t& at, char type, size_t& value) {
    if (at >= buffer.size()) return false;
    KV_CHECK(buffer[at] == type, "fake server: bad multibulk");
    size_t end = buffer.find("\r\n", at);
    if (end == std::string::npos) return false;
    std::from_chars(buffer.data() + at + 1, buffer.data() + end, value);
    at = end + 2;
    return true;
  };
  size_t at = 0, count = 0;
  if (!read_number(at, '*', count)) return std::nullopt;
  std::vector<std::string> words;
  for (size_t i = 0; i < count; ++i) {
    size_t length = 0;
    if (!read_number(at, '$', length)) return std::nullopt;
    if (buffer.size() < at + length + 2) return std::nullopt;
    words.push_back(buffer.substr(at, length));
    at += length + 2;
  }
  buffer.erase(0, at);
  return words;
}

}  // namespace

FakeServer::FakeServer(Handler handler) : handler_(std::move(handler)) {
  Result<UniqueFd> listener = listen_tcp({"127.0.0.1", 0});
  KV_CHECK(listener.ok(), listener.status().to_string());
  listener_ = std::move(listener).value();
  address_ = local_address(listener_.get()).value();
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  KV_CHECK(wake_.valid(), "eventfd");
  acceptor_ = std::jthread([this](std::stop_token stop) { accept_loop(stop); });
}

FakeServer::~FakeServer() {
  acceptor_.request_stop();
  uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
  acceptor_.join();
  std::list<std::unique_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    open.swap(connections_);
  }
  // Wakes each thread from recv(); the sockets close after the joins.
  for (auto& c : open) ::shutdown(c->fd.get(), SHUT_RDWR);
  open.clear();
}

uint64_t FakeServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

bool FakeServer::wait_for_requests(uint64_t n,
                                   std::chrono::milliseconds limit) const {
  std::unique_lock lock(mu_);
  return handled_.wait_for(lock, limit, [&] { return requests_ >= n; });
}

void FakeServer::accept_loop(std::stop_token stop) {
  pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  int next_id = 0;
  while (!stop.stop_requested()) {
    if (::poll(fds, 2, -1) <= 0 || (fds[1].revents & POLLIN)) continue;
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd.valid()) continue;
    std::lock_guard lock(mu_);
    if (stopping_) return;
    auto& c = connections_.emplace_back(std::make_unique<Connection>());
    c->id = next_id++;
    c->fd = std::move(fd);
    Connection* raw = c.get();
    c->thread = std::jthread([this, raw] { serve(*raw); });
  }
}

void FakeServer::serve(Connection& connection) {
  std::string buffer;
  uint64_t index = 0;
  char chunk[16384];
  while (true) {
    ssize_t n = ::recv(connection.fd.get(), chunk, sizeof chunk, 0);
    if (n <= 0) return;
    buffer.append(chunk, static_cast<size_t>(n));
    std::string replies;
    bool close = false;
    while (!close) {
      std::optional<std::vector<std::string>> words = next_request(buffer);
      if (!words) break;
      std::optional<std::string> reply;
      {
        std::lock_guard lock(handler_mu_);
        reply = handler_(Request{connection.id, index++, std::move(*words)});
      }
      {
        std::lock_guard lock(mu_);
        ++requests_;
      }
      handled_.notify_all();
      if (!reply) {
        close = true;
      } else {
        replies += *reply;
      }
    }
    if (!replies.empty() && !send_all(connection.fd.get(), replies).ok())
      return;
    if (close) {
      ::shutdown(connection.fd.get(), SHUT_RDWR);
      return;
    }
  }
}

}  // namespace kv::kvbench
