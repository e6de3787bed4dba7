// See follower_link.h.
#include "follower_link.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/not_implemented.h"
#include "node.h"
#include "stream.h"

namespace kv::lab04 {

using Clock = std::chrono::steady_clock;

FollowerLink::FollowerLink(Node& node, HostPort leader)
    : node_(node),
      leader_(std::move(leader)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  thread_ = std::jthread([this](std::stop_token s) { run(s); });
}

FollowerLink::~FollowerLink() { stop(); }

void FollowerLink::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

FollowerLink::Waited FollowerLink::wait(int fd, Millis timeout) {
  pollfd p[2] = {{wake_.get(), POLLIN, 0}, {fd, POLLIN, 0}};
  int n;
  do {
    n = ::poll(p, fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  } while (n < 0 && errno == EINTR);
  if (p[0].revents != 0) return Waited::kStopped;
  if (n > 0) return Waited::kReadable;
  return Waited::kTimeout;
}

Status FollowerLink::ack(int fd, uint64_t offset) {
  std::string out;
  encode_ack(offset, out);
  return send_all(fd, out);
}

void FollowerLink::run(std::stop_token stop) {
  Millis backoff{50};
  constexpr Millis kMaxBackoff{2000};
  while (!stop.stop_requested()) {
    bool synced = false;
    std::string why;
    try {
      why = session(stop, synced);
    } catch (const NotImplemented& e) {
      // A starter copy: say what is missing, once, and stop replicating.
      spdlog::critical("{}", e.what());
      node_.set_link_state("not implemented");
      return;
    }
    if (stop.stop_requested()) break;
    node_.set_link_state("down");
    if (synced) backoff = Millis(50);
    spdlog::info("link to leader {}: {}; again in {} ms", leader_.to_string(),
                 why, backoff.count());
    if (wait(-1, backoff) == Waited::kStopped) break;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  node_.set_link_state("down");
}

std::string FollowerLink::session(std::stop_token stop, bool& synced) {
  const NodeOptions& options = node_.options();
  node_.set_link_state("connecting");
  Result<UniqueFd> dialed = connect_tcp(leader_, options.repl_timeout);
  if (!dialed.ok()) return dialed.status().message();
  const int fd = dialed.value().get();
  std::string out;
  encode_replicate(node_.position(), out);
  if (Status s = send_all(fd, out); !s.ok()) return s.message();

  std::string in;
  // Reads until one message is complete; nullopt (with why set) when the
  // link fails, goes silent, or we are stopped.
  std::string why;
  auto next_message = [&]() -> std::optional<Message> {
    while (true) {
      ParsedMessage parsed = parse_message(in);
      if (parsed.kind == ParsedMessage::Kind::kMessage) {
        in.erase(0, parsed.consumed);
        return std::move(parsed.message);
      }
      if (parsed.kind == ParsedMessage::Kind::kBad) {
        why = fmt::format("the leader sent garbage: {}", parsed.error);
        return std::nullopt;
      }
      switch (wait(fd, options.repl_timeout)) {
        case Waited::kStopped:
          why = "stopped";
          return std::nullopt;
        case Waited::kTimeout:
          why = fmt::format("nothing from the leader for {} ms",
                            options.repl_timeout.count());
          return std::nullopt;
        case Waited::kReadable:
          break;
      }
      char chunk[64 << 10];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        why = n == 0 ? "the leader closed the link"
                     : fmt::format("recv: {}", std::strerror(errno));
        return std::nullopt;
      }
      in.append(chunk, static_cast<size_t>(n));
    }
  };

  // The leader's answer to REPLICATE.
  std::optional<Message> answer = next_message();
  if (!answer) return why;
  if (auto* refused = std::get_if<RefusedMsg>(&*answer))
    return fmt::format("refused: {}", refused->reason);
  if (auto* cont = std::get_if<ContinueMsg>(&*answer)) {
    if (Status s = node_.on_continue(*cont); !s.ok()) return s.message();
    spdlog::info("leader {} continues from {}", leader_.to_string(),
                 cont->position.to_string());
  } else if (auto* full = std::get_if<FullSyncMsg>(&*answer)) {
    node_.set_link_state("full sync");
    spdlog::info("leader {} sends its whole state: {} keys at {}",
                 leader_.to_string(), full->count, full->position.to_string());
    std::vector<std::pair<std::string, std::string>> entries;
    entries.reserve(std::min<uint64_t>(full->count, 1 << 20));
    for (uint64_t i = 0; i < full->count; ++i) {
      std::optional<Message> entry = next_message();
      if (!entry) return why;
      auto* e = std::get_if<EntryMsg>(&*entry);
      if (!e) return "the full sync ended early";
      entries.emplace_back(std::move(e->key), std::move(e->value));
    }
    if (Status s = node_.apply_full_sync(full->position, full->leader_address,
                                         entries);
        !s.ok())
      return s.message();
  } else {
    return "the leader's first message was not CONTINUE or FULLSYNC";
  }
  synced = true;
  node_.set_link_state("streaming");
  if (Status s = ack(fd, node_.position().offset); !s.ok()) return s.message();

  // LAB04 BEGIN: FollowerLink::session — apply each batch in order, then ACK
  auto last_ack = Clock::now();
  std::vector<Write> batch;
  while (!stop.stop_requested()) {
    std::optional<Message> message = next_message();
    if (!message) return why;
    batch.clear();
    // Everything already received goes in one batch: one fsync, one ACK.
    while (true) {
      if (auto* write = std::get_if<Write>(&*message)) {
        batch.push_back(std::move(*write));
      } else if (!std::holds_alternative<PingMsg>(*message)) {
        return "the leader sent a message that is not part of the stream";
      }
      ParsedMessage more = parse_message(in);
      if (more.kind != ParsedMessage::Kind::kMessage) break;
      in.erase(0, more.consumed);
      message = std::move(more.message);
    }
    if (!batch.empty()) {
      if (Status s = node_.apply_stream(batch); !s.ok()) return s.message();
    }
    if (!batch.empty() || Clock::now() - last_ack >= options.heartbeat) {
      if (Status s = ack(fd, node_.position().offset); !s.ok())
        return s.message();
      last_ack = Clock::now();
    }
  }
  return "stopped";
  // LAB04 END
}

}  // namespace kv::lab04
