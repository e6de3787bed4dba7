// See leader_link.h.
#include "leader_link.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/not_implemented.h"
#include "node.h"
#include "stream.h"

namespace kv::lab04 {

struct LeaderLink::Session {
  // The sender starts here, in place, and is never assigned: the ACK
  // reader it starts calls end(), which reads sender, and a
  // move-assignment from the acceptor after the start could still be
  // writing it (a data race tsan reports for every session that ends).
  Session(Node& node, UniqueFd fd, std::string peer)
      : node(node),
        fd(std::move(fd)),
        peer(std::move(peer)),
        sender([this](std::stop_token s) { run_sender_or_exit(s); }) {}
  ~Session() {
    end();
    if (sender.joinable()) sender.join();
    if (acks.joinable()) acks.join();
  }
  // Wakes both threads: send and recv on a shut-down socket fail at once.
  void end() {
    if (!ended.exchange(true)) ::shutdown(fd.get(), SHUT_RDWR);
    sender.request_stop();
  }
  void run_sender_or_exit(std::stop_token stop);
  void run_sender(std::stop_token stop);
  void run_acks(uint64_t follower_id);

  Node& node;
  UniqueFd fd;
  const std::string peer;
  std::atomic<bool> ended{false};
  std::atomic<bool> finished{false};  // the sender returned
  std::jthread acks;
  std::jthread sender;  // last: what it uses exists before it starts
};

namespace {

// Waits until fd is readable or timeout passes. False on timeout.
bool wait_readable(int fd, Millis timeout) {
  pollfd p{fd, POLLIN, 0};
  int n;
  do {
    n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

// Reads more bytes into buffer; false at end of stream or on an error.
bool read_more(int fd, std::string& buffer) {
  char chunk[64 << 10];
  ssize_t n;
  do {
    n = ::recv(fd, chunk, sizeof chunk, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  buffer.append(chunk, static_cast<size_t>(n));
  return true;
}

// "127.0.0.1:50312", for the logs and ROLE.
std::string peer_name(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return fmt::format("{}:{}", host, ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return fmt::format("[{}]:{}", host, ntohs(in6->sin6_port));
  }
  return "?";
}

}  // namespace

Result<std::unique_ptr<LeaderLink>> LeaderLink::start(Node& node,
                                                      const HostPort& listen) {
  Result<UniqueFd> listener = listen_tcp(listen);
  if (!listener.ok())
    return Status::unavailable(fmt::format("replication port {}: {}",
                                           listen.to_string(),
                                           listener.status().message()));
  Result<HostPort> bound = local_address(listener.value().get());
  if (!bound.ok()) return bound.status();
  std::unique_ptr<LeaderLink> link(new LeaderLink(
      node, std::move(listener).value(), std::move(bound).value()));
  link->acceptor_ = std::jthread(
      [raw = link.get()](std::stop_token s) { raw->accept_loop(s); });
  return link;
}

LeaderLink::LeaderLink(Node& node, UniqueFd listener, HostPort address)
    : node_(node),
      listener_(std::move(listener)),
      address_(std::move(address)) {}

LeaderLink::~LeaderLink() { stop(); }

void LeaderLink::stop() {
  std::list<std::unique_ptr<Session>> sessions;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    sessions.swap(sessions_);
  }
  acceptor_.request_stop();
  ::shutdown(listener_.get(), SHUT_RDWR);  // wakes accept(2)
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& session : sessions) session->end();
  sessions.clear();  // joins
}

void LeaderLink::reap_ended() {
  std::list<std::unique_ptr<Session>> ended;
  {
    std::lock_guard lock(mu_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if ((*it)->finished) {
        ended.push_back(std::move(*it));
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  ended.clear();  // joins outside the lock
}

void LeaderLink::accept_loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    // Wakes now and then to reap sessions that ended on their own.
    if (!wait_readable(listener_.get(), Millis(200))) {
      reap_ended();
      continue;
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&addr),
                       &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stop.stop_requested()) return;
      if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN) continue;
      spdlog::error("replication port: accept: {}", std::strerror(errno));
      std::this_thread::sleep_for(Millis(50));  // EMFILE: let fds free up
      continue;
    }
    UniqueFd client(fd);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string peer = peer_name(addr);
    reap_ended();
    std::lock_guard lock(mu_);
    if (stopped_) return;
    sessions_.push_back(
        std::make_unique<Session>(node_, std::move(client), std::move(peer)));
  }
}

void LeaderLink::Session::run_sender_or_exit(std::stop_token stop) {
  try {
    run_sender(stop);
  } catch (const NotImplemented& e) {
    // A starter copy: say what is missing and stop, rather than leave
    // followers waiting for a stream that never comes.
    spdlog::critical("{}", e.what());
    spdlog::default_logger()->flush();
    std::_Exit(70);
  }
}

void LeaderLink::Session::run_sender(std::stop_token stop) {
  const NodeOptions& options = node.options();
  uint64_t follower_id = 0;
  std::string in;
  std::string out;
  auto finish = [&](std::string_view why) {
    spdlog::info("follower {}: {}", peer, why.empty() ? "left" : why);
    end();
    if (acks.joinable()) acks.join();
    if (follower_id != 0) node.follower_gone(follower_id);
    finished = true;
  };

  // The handshake: REPLICATE <history> <offset>, within repl_timeout.
  std::optional<Position> position;
  while (!position) {
    ParsedMessage parsed = parse_message(in);
    if (parsed.kind == ParsedMessage::Kind::kBad)
      return finish(fmt::format("bad handshake: {}", parsed.error));
    if (parsed.kind == ParsedMessage::Kind::kMessage) {
      auto* replicate = std::get_if<ReplicateMsg>(&parsed.message);
      if (!replicate) return finish("the first message was not REPLICATE");
      position = replicate->position;
      in.erase(0, parsed.consumed);
      break;
    }
    if (!wait_readable(fd.get(), options.repl_timeout) ||
        !read_more(fd.get(), in))
      return finish("no handshake");
  }

  Handshake h = node.handshake(*position, peer);
  if (!h.refused.empty()) {
    encode_refused(h.refused, out);
    (void)send_all(fd.get(), out);
    return finish(fmt::format("refused: {}", h.refused));
  }
  follower_id = h.follower_id;
  spdlog::info(
      "follower {} at {}: {} ({})", peer, position->to_string(),
      h.plan.kind == SyncPlan::Kind::kContinue ? "continue" : "full sync",
      h.plan.reason);
  // LAB04 BEGIN: Session::run_sender — durable first: snapshot, then stream
  // What the follower is sent must be durable here first: a follower must
  // never hold a write that a crash of ours could take back.
  node.store().wait_durable();
  if (h.plan.kind == SyncPlan::Kind::kContinue) {
    encode_continue(h.from, h.leader_address, out);
  } else {
    encode_fullsync(h.from, h.snapshot.size(), h.leader_address, out);
    for (const auto& [key, value] : h.snapshot) {
      encode_entry(key, value, out);
      if (out.size() >= (1 << 20)) {
        if (!send_all(fd.get(), out).ok()) return finish("link broke");
        out.clear();
      }
    }
    h.snapshot.clear();
  }
  if (!send_all(fd.get(), out).ok()) return finish("link broke");
  out.clear();
  node.follower_streaming(follower_id);
  acks = std::jthread([this, id = follower_id] { run_acks(id); });

  uint64_t next = h.from.offset + 1;
  std::vector<Write> batch;
  while (!ended) {
    batch.clear();
    switch (node.next_writes(next, h.epoch, stop, batch)) {
      case Node::Next::kEnded:
        return finish("");
      case Node::Next::kFellBehind:
        return finish(fmt::format(
            "fell behind: the backlog no longer holds offset {}", next));
      case Node::Next::kIdle:
        encode_ping(out);
        break;
      case Node::Next::kWrites:
        node.store().wait_durable();
        for (const Write& write : batch) encode_write(write, out);
        next = batch.back().offset + 1;
        break;
    }
    if (!send_all(fd.get(), out).ok()) return finish("link broke");
    out.clear();
  }
  return finish("");
  // LAB04 END
}

void LeaderLink::Session::run_acks(uint64_t follower_id) {
  std::string in;
  while (!ended) {
    if (!wait_readable(fd.get(), node.options().repl_timeout)) {
      spdlog::warn("follower {}: no ACK for {} ms; dropping it", peer,
                   node.options().repl_timeout.count());
      break;
    }
    if (!read_more(fd.get(), in)) break;
    while (true) {
      ParsedMessage parsed = parse_message(in);
      if (parsed.kind == ParsedMessage::Kind::kNeedMore) break;
      auto* ack = parsed.kind == ParsedMessage::Kind::kMessage
                      ? std::get_if<AckMsg>(&parsed.message)
                      : nullptr;
      if (!ack) {
        spdlog::warn("follower {}: expected ACK: {}", peer,
                     parsed.kind == ParsedMessage::Kind::kBad
                         ? parsed.error
                         : "another message");
        end();
        return;
      }
      node.follower_acked(follower_id, ack->offset);
      in.erase(0, parsed.consumed);
    }
  }
  end();
}

}  // namespace kv::lab04
