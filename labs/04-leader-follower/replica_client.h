// kv::lab04::ReplicaClient: lab 03's Client for a leader-follower group.
//
//   kv::lab04::ReplicaClient client({.nodes = {{"127.0.0.1", 7014},
//                                              {"127.0.0.1", 7004}}});
//   auto set = client.set("greeting", "hello");  // reaches the leader
//   if (!set.ok()) std::cerr << set.error().to_string() << "\n";
//   std::cout << client.leader().to_string() << "\n";  // 127.0.0.1:7004
//
// Where requests go: writes (SET, DEL) to the current guess of the leader,
// at first nodes[0]. Reads (GET, EXISTS) and PING go there too, unless
// read_from is kAny: then to nodes[read_node], which may be a follower
// and answer with a value the leader has since changed. The guess is
// corrected only by what a write (or a failed call) learns, so a client
// whose nodes[0] is a follower reads that follower's copy until its first
// write finds the leader.
//
// Following the leader, within the call's deadline (its own timeout, else
// base.timeout) and at most max_redirects further attempts:
//
//   -READONLY ... send writes to the leader at H:P
//                      the guess becomes H:P and the write is sent there;
//                      safe, since a follower applies no write it refuses
//   -READONLY ... its leader is not known yet, or kConnection (never
//   sent) from the guess
//                      the next node of nodes, in turn, becomes the guess
//                      (the group may have failed over to it)
//
// When the attempts or the deadline run out, the last error is returned;
// every error before it meant that nothing was done. What a call can end
// in is lab03::Client's (client.h), plus what a semi-synchronous leader
// says:
//
//   ok                       done (and, semi-sync, durable on the
//                            followers the leader waits for)
//   ErrorKind::kServer       refused, nothing was written anywhere:
//                            -ERR ..., -NOREPLICAS (too few followers
//                            connected), -READONLY past max_redirects
//   ErrorKind::kConnection   never sent to any node tried
//   ErrorKind::kUnknown      sent, no complete reply: may or may not have
//                            happened; or -TIMEOUT (durable on the leader,
//                            not confirmed by enough followers in time, so
//                            lost or not after a failover). Never resent.
//
// Connections: one lab03::Client per address tried, kept, so a redirect
// does not reconnect, and each address keeps its own backoff (client.h).
// Thread safety: none, like lab03::Client.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client.h"  // lab 03
#include "common/net.h"

namespace kv::lab04 {

using lab03::ClientResult;

enum class ReadFrom {
  kLeader,  // reads follow the writes to the leader guess
  kAny,     // reads go to nodes[read_node], possibly stale
};

struct ReplicaClientOptions {
  std::vector<HostPort> nodes;  // any nodes of the group, preferred first
  lab03::ClientOptions base;    // each connection's; its server is ignored
  ReadFrom read_from = ReadFrom::kLeader;
  size_t read_node = 0;
  int max_redirects = 3;
};

class ReplicaClient {
 public:
  // No I/O. nodes must not be empty, and read_node must index it.
  explicit ReplicaClient(ReplicaClientOptions options);

  ClientResult<void> ping(std::optional<lab03::Millis> timeout = {});
  ClientResult<void> set(std::string_view key, std::string_view value,
                         std::optional<lab03::Millis> timeout = {});
  ClientResult<std::optional<std::string>> get(
      std::string_view key, std::optional<lab03::Millis> timeout = {});
  ClientResult<bool> del(std::string_view key,
                         std::optional<lab03::Millis> timeout = {});
  ClientResult<bool> exists(std::string_view key,
                            std::optional<lab03::Millis> timeout = {});

  // The current guess of the leader's client address.
  HostPort leader() const { return leader_; }

 private:
  using Clock = std::chrono::steady_clock;

  // Calls op(client, time left) on the leader guess, following the leader
  // as the header says.
  template <typename T, typename Op>
  ClientResult<T> to_leader(std::optional<lab03::Millis> timeout, Op op);
  // The reads' node: the leader guess, or nodes[read_node].
  template <typename T, typename Op>
  ClientResult<T> to_reader(std::optional<lab03::Millis> timeout, Op op);
  lab03::Client& client_for(const HostPort& address);
  void try_next_node();

  const std::vector<HostPort> nodes_;
  const lab03::ClientOptions base_;
  const ReadFrom read_from_;
  const size_t read_node_;
  const int max_redirects_;
  HostPort leader_;
  size_t cursor_ = 0;  // the index in nodes_ last made the guess
  std::map<std::string, lab03::Client> clients_;  // by HostPort::to_string
};

}  // namespace kv::lab04
