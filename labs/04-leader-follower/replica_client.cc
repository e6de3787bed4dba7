// See replica_client.h for the contract; replica_client_test.cc tests it
// against real nodes and against a scripted server for the replies real
// nodes will not give on demand.
#include "replica_client.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "common/check.h"

namespace kv::lab04 {
namespace {

using lab03::Error;
using lab03::ErrorKind;
using lab03::Millis;

bool same_address(const HostPort& a, const HostPort& b) {
  return a.host == b.host && a.port == b.port;
}

bool has_code(const Error& error, std::string_view code) {
  std::string_view text = error.message;
  return error.kind == ErrorKind::kServer && text.starts_with(code) &&
         (text.size() == code.size() || text[code.size()] == ' ');
}

// The leader a -READONLY names (replica_commands.h, Node::refusal_locked),
// or nullopt when it names none.
std::optional<HostPort> named_leader(const Error& error) {
  constexpr std::string_view kLeaderAt = "send writes to the leader at ";
  std::string_view text = error.message;
  size_t at = text.find(kLeaderAt);
  if (at == std::string_view::npos) return std::nullopt;
  Result<HostPort> leader =
      parse_host_port(text.substr(at + kLeaderAt.size()), false);
  if (!leader.ok()) return std::nullopt;
  return std::move(leader).value();
}

// A semi-sync -TIMEOUT reaches lab03::Client as a refusal, but the write
// is on the leader's disk and may survive a failover or not: to the caller
// that is an unknown outcome, and resending it could apply it twice.
Error classified(Error error) {
  if (has_code(error, "TIMEOUT")) error.kind = ErrorKind::kUnknown;
  return error;
}

}  // namespace

ReplicaClient::ReplicaClient(ReplicaClientOptions options)
    : nodes_(std::move(options.nodes)),
      base_(std::move(options.base)),
      read_from_(options.read_from),
      read_node_(options.read_node),
      max_redirects_(options.max_redirects) {
  KV_CHECK(!nodes_.empty(), "ReplicaClient needs at least one node");
  KV_CHECK(read_node_ < nodes_.size(),
           fmt::format("read_node {} of {} nodes", read_node_, nodes_.size()));
  leader_ = nodes_.front();
}

lab03::Client& ReplicaClient::client_for(const HostPort& address) {
  std::string name = address.to_string();
  auto it = clients_.find(name);
  if (it == clients_.end()) {
    lab03::ClientOptions options = base_;
    options.server = address;
    it = clients_.emplace(std::move(name), lab03::Client(options)).first;
  }
  return it->second;
}

void ReplicaClient::try_next_node() {
  // The guess may be an address a redirect named, which is not in nodes_:
  // then the turn goes on from the node last chosen here.
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (same_address(nodes_[i], leader_)) {
      cursor_ = i;
      break;
    }
  }
  cursor_ = (cursor_ + 1) % nodes_.size();
  leader_ = nodes_[cursor_];
}

template <typename T, typename Op>
ClientResult<T> ReplicaClient::to_leader(std::optional<Millis> timeout, Op op) {
  const Clock::time_point deadline =
      Clock::now() + timeout.value_or(base_.timeout);
  int redirects = 0;
  while (true) {
    Millis left = std::chrono::ceil<Millis>(deadline - Clock::now());
    ClientResult<T> result = op(client_for(leader_), std::max(left, Millis(0)));
    if (result.ok()) return result;
    Error error = classified(result.error());
    // Both cases below are certain that nothing was done, which is what
    // makes sending again safe; anything else is the caller's to judge.
    const bool readonly = has_code(error, "READONLY");
    if (!readonly && error.kind != ErrorKind::kConnection) return error;
    if (redirects >= max_redirects_ || Clock::now() >= deadline) return error;
    ++redirects;
    std::optional<HostPort> named =
        readonly ? named_leader(error) : std::nullopt;
    // A follower naming itself (a misconfigured --advertise) would be a
    // loop; take it as naming no one.
    if (named && !same_address(*named, leader_))
      leader_ = std::move(*named);
    else
      try_next_node();
  }
}

template <typename T, typename Op>
ClientResult<T> ReplicaClient::to_reader(std::optional<Millis> timeout, Op op) {
  if (read_from_ == ReadFrom::kLeader) return to_leader<T>(timeout, op);
  lab03::Client& client = client_for(nodes_[read_node_]);
  return op(client, timeout.value_or(base_.timeout));
}

ClientResult<void> ReplicaClient::ping(std::optional<Millis> timeout) {
  return to_reader<void>(timeout, [](lab03::Client& client, Millis left) {
    return client.ping(left);
  });
}

ClientResult<void> ReplicaClient::set(std::string_view key,
                                      std::string_view value,
                                      std::optional<Millis> timeout) {
  return to_leader<void>(timeout, [&](lab03::Client& client, Millis left) {
    return client.set(key, value, left);
  });
}

ClientResult<std::optional<std::string>> ReplicaClient::get(
    std::string_view key, std::optional<Millis> timeout) {
  return to_reader<std::optional<std::string>>(
      timeout, [&](lab03::Client& client, Millis left) {
        return client.get(key, left);
      });
}

ClientResult<bool> ReplicaClient::del(std::string_view key,
                                      std::optional<Millis> timeout) {
  return to_leader<bool>(timeout, [&](lab03::Client& client, Millis left) {
    return client.del(key, left);
  });
}

ClientResult<bool> ReplicaClient::exists(std::string_view key,
                                         std::optional<Millis> timeout) {
  return to_reader<bool>(timeout, [&](lab03::Client& client, Millis left) {
    return client.exists(key, left);
  });
}

}  // namespace kv::lab04
