// FollowerLink: a follower's connection to its leader's replication port,
// kept up by one thread. It says where this node's copy ends (REPLICATE),
// takes the leader's answer (CONTINUE, or FULLSYNC and the whole state),
// then applies the stream in order through the Node and acknowledges each
// batch once it is durable here. A link that breaks, or that is silent for
// repl_timeout (a partition swallows bytes without closing anything), is
// dropped and dialled again after a backoff: 50 ms, doubling to 2 s, reset
// once a handshake succeeds. stop() wakes the thread through an eventfd.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "common/net.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace kv::lab04 {

class Node;
using Millis = std::chrono::milliseconds;

class FollowerLink {
 public:
  FollowerLink(Node& node, HostPort leader);  // starts the thread
  ~FollowerLink();                            // stop()
  void stop();                                // idempotent; joins

 private:
  enum class Waited { kReadable, kTimeout, kStopped };
  void run(std::stop_token stop);
  // One connection, from dial to failure; returns why it ended, and sets
  // synced when the handshake completed (the backoff starts over).
  std::string session(std::stop_token stop, bool& synced);
  Waited wait(int fd, Millis timeout);  // fd -1: only the stop
  Status ack(int fd, uint64_t offset);

  Node& node_;
  const HostPort leader_;
  UniqueFd wake_;  // eventfd: stop()
  std::jthread thread_;
};

}  // namespace kv::lab04
