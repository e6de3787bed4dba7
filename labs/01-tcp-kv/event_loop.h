// EventLoop: one thread serving many connections with epoll, instead of one
// thread per connection. Every socket is non-blocking; the loop sleeps in
// epoll_wait until some socket is ready, then does only what that socket
// can do without waiting: one read, as many requests as arrived, one write.
// A slow or silent client therefore costs a few bytes of state, never a
// thread. Server (server.h) runs one loop, or --threads N of them; loop 0
// also accepts and hands new connections out round-robin.
//
// Replies leave at the end of each batch of events, not one client at a
// time: finish_batch asks the store to make the batch's writes durable
// (nothing to do in lab 01; one fsync for all of them in lab 02), then
// writes every reply the batch produced.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/unique_fd.h"
#include "connection.h"
#include "store.h"

namespace kv::lab01 {

class EventLoop;

// What the loops of one server share. Filled in before any loop runs.
struct LoopShared {
  Store* store = nullptr;
  ConnectionOptions connection;
  size_t max_connections = 1024;
  std::atomic<size_t> open_connections{0};
  std::vector<EventLoop*> loops;  // loop 0 accepts and deals clients out
  size_t next_loop = 0;           // touched by loop 0's thread only
};

class EventLoop {
 public:
  // listener is the listening socket for the loop that accepts, else -1.
  static Result<std::unique_ptr<EventLoop>> create(LoopShared& shared,
                                                   int listener);
  ~EventLoop();

  // Serves until stop(); then closes every connection it owns. Runs on the
  // loop's own thread.
  void run();
  // From any thread: makes run() return soon. Idempotent.
  void stop();
  // From any thread: this loop takes over an accepted, non-blocking client.
  void adopt(UniqueFd client);

 private:
  using Clock = std::chrono::steady_clock;

  struct Client {
    UniqueFd fd;
    uint64_t serial = 0;  // tells a reused descriptor number apart
    std::string input;    // received, not yet a complete request
    std::string output;   // replies; output_sent of them already written
    size_t output_sent = 0;
    bool output_full = false;         // serve_requests stopped at the limit
    bool close_after_output = false;  // QUIT or a line over the limit
    bool draining = false;   // our side is shut; discarding input, see linger
    bool reply_due = false;  // in replies_due_: output waits for finish_batch
    size_t drained_bytes = 0;
    uint32_t events = 0;  // what epoll watches for it now
  };

  EventLoop(LoopShared& shared, int listener, UniqueFd epoll, UniqueFd wake);

  void accept_clients();
  void register_client(UniqueFd fd);
  void on_readable(Client& client);
  void on_writable(Client& client);
  // Answers the requests that input holds; the replies wait in output for
  // finish_batch.
  void serve(Client& client);
  // After each batch of events: waits until the store has made the batch's
  // writes durable, then writes the replies, serving again a client whose
  // output limit had stopped it once it has caught up; then closes
  // lingering clients whose time is up.
  void finish_batch();
  // Writes what the kernel takes now. False when the client is gone or
  // closing, so the caller must not serve it any more.
  bool flush(Client& client);
  void watch(Client& client);  // epoll interest from the client's state
  void linger(Client& client);
  void close_client(int fd);
  void take_adopted();
  void expire_lingering(Clock::time_point now);
  int wait_timeout_ms(Clock::time_point now) const;
  void close_all();

  LoopShared& shared_;
  const int listener_;  // -1 unless this loop accepts
  const UniqueFd epoll_;
  const UniqueFd wake_;  // eventfd: stop() and adopt()
  std::atomic<bool> stopping_{false};

  std::mutex inbox_mu_;
  std::vector<UniqueFd> inbox_ KV_GUARDED_BY(inbox_mu_);

  // Owned by the loop's thread.
  std::unordered_map<int, std::unique_ptr<Client>> clients_;
  uint64_t next_serial_ = 1;
  struct ClientRef {
    int fd;
    uint64_t serial;
  };
  std::vector<ClientRef> replies_due_;  // served in this batch, not flushed
  struct Lingering {
    Clock::time_point deadline;
    int fd;
    uint64_t serial;
  };
  std::deque<Lingering> lingering_;  // deadlines in order: all wait the same
  Clock::time_point accept_paused_until_{};
  std::string read_buffer_;
};

}  // namespace kv::lab01
