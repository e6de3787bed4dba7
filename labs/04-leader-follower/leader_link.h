// LeaderLink: the replication port (--repl-listen) and one session per
// follower connected to it. Every node listens, so that a follower promoted
// to leader takes followers at once; a node that is not the leader answers
// a follower's REPLICATE with REFUSED. The stream's messages are stream.h's.
//
// Threads: the acceptor (accepts; reaps sessions that ended); per session,
// a sender (handshake, full sync, then the stream and PINGs) and an ACK
// reader. A session ends when either side fails, when the follower is
// silent for repl_timeout, or when the node's role changes; stop() ends
// them all. Sessions block in send(2) and recv(2); they are woken by
// shutdown(2) of their socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/net.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/unique_fd.h"

namespace kv::lab04 {

class Node;

class LeaderLink {
 public:
  static Result<std::unique_ptr<LeaderLink>> start(Node& node,
                                                   const HostPort& listen);
  ~LeaderLink();  // stop()
  const HostPort& address() const { return address_; }
  void stop();  // idempotent

 private:
  struct Session;
  LeaderLink(Node& node, UniqueFd listener, HostPort address);
  void accept_loop(std::stop_token stop);
  void reap_ended();

  Node& node_;
  UniqueFd listener_;
  const HostPort address_;
  std::mutex mu_;
  std::list<std::unique_ptr<Session>> sessions_ KV_GUARDED_BY(mu_);
  bool stopped_ KV_GUARDED_BY(mu_) = false;
  std::jthread acceptor_;  // last: started last, stopped first
};

}  // namespace kv::lab04
