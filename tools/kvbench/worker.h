// Worker: one thread's share of the connections, driven by one epoll loop
// over non-blocking sockets. It sends requests (preload, then the closed
// or open loop), parses and checks every reply, and records latencies in
// its own Histogram, so the hot path takes no lock. The coordinator
// (engine.cc) owns the thread, tells the worker when to start and stop
// through RunState and wake(), and reads the results after joining it.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/thread_annotations.h"
#include "common/unique_fd.h"
#include "tools/kvbench/histogram.h"
#include "tools/kvbench/options.h"
#include "tools/kvbench/report.h"
#include "tools/kvbench/rng.h"
#include "tools/kvbench/workload.h"

namespace kv::kvbench {

int64_t now_ns();  // steady clock (CLOCK_MONOTONIC), as timerfd uses

// What the coordinator and the workers share.
struct RunState {
  explicit RunState(const Options& o);

  // Wakes the coordinator's poll (eventfd).
  void wake_coordinator();
  // Records why the run must stop (the first reason wins), sets stop.
  void fail(std::string message);
  std::string failure() const;

  const Options& options;
  const UniqueFd coordinator_wake;

  // Written by the coordinator before it sets go (release); read by the
  // workers only after they see go (acquire).
  int64_t warmup_start_ns = 0;
  int64_t measure_start_ns = 0;
  int64_t measure_end_ns = INT64_MAX;  // --duration; INT64_MAX with -n
  std::atomic<bool> go{false};

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> measured_claimed{0};  // -n: requests handed out
  std::atomic<int> preloaded_workers{0};
  std::atomic<int> finished_workers{0};

 private:
  mutable std::mutex mu_;
  std::string failure_ KV_GUARDED_BY(mu_);
};

// One connection as the worker drives it.
struct ConnectionSetup {
  uint32_t id = 0;  // 0..connections-1: the writer id inside its values
  UniqueFd fd;      // connected, non-blocking
  KeySlice draw;    // the keys its requests pick from
  KeySlice owned;   // the keys it preloads (and, under --verify, alone uses)
  std::shared_ptr<const Zipfian> zipf;  // null: uniform
};

class Worker {
 public:
  Worker(RunState& state, std::vector<ConnectionSetup> connections);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run();   // the thread body; returns when finished or stopped
  void wake();  // from another thread: look at RunState now

  // For the progress line, from the coordinator's thread.
  uint64_t replies() const { return replies_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  uint64_t preloaded() const {
    return preloaded_.load(std::memory_order_relaxed);
  }
  // Adds the latest published copy of the measured histogram to into.
  void merge_snapshot(Histogram& into) const;

  // Read by the coordinator only after the thread was joined.
  struct Result {
    Histogram latency;
    uint64_t requests = 0, gets = 0, sets = 0, nils = 0;
    uint64_t warmup_requests = 0, preloaded_keys = 0;
    int64_t last_measured_reply_ns = 0;
    ErrorSummary errors;
    ScheduleStats schedule;
  };
  const Result& result() const { return result_; }

 private:
  struct Pending {
    int64_t start_ns;  // batch write (closed loop) or intended time (open)
    uint64_t key;
    uint64_t seq;
    Op op;
    bool measured;
    bool preload;
  };
  struct Connection {
    Connection(ConnectionSetup s, const Options& options);

    ConnectionSetup setup;
    Rng rng;          // keys and GET/SET
    Rng arrival_rng;  // Poisson gaps
    KeyChooser chooser;
    uint64_t seq = 0;                // SETs sent
    std::vector<uint64_t> last_seq;  // --verify: by index in setup.owned
    uint64_t preload_next = 0;       // next index in setup.owned
    bool preloaded = false;
    std::string out;  // requests not yet written
    size_t out_sent = 0;
    bool want_write = false;      // EPOLLOUT is armed
    std::string in;               // the start of a reply not yet complete
    std::deque<Pending> pending;  // in request order, as replies come
    uint64_t replies = 0;
    int64_t last_progress_ns = 0;  // last reply, or the wait's start
    // Open loop: the schedule.
    uint64_t scheduled = 0;  // requests scheduled so far (uniform arrivals)
    int64_t next_send_ns = 0;
    bool capped = false;  // at --max-outstanding with a request due
    bool sending_done = false;
    bool finished = false;
  };

  bool all(bool Connection::*flag) const;
  void start_measuring(int64_t now);
  void add_request(Connection& c, int64_t start_ns, bool measured, int64_t now);
  void fill_preload(Connection& c, int64_t now);
  void send_batch(Connection& c);
  void send_scheduled(Connection& c, int64_t now);
  void send_due(int64_t now);
  void advance_schedule(Connection& c);
  void flush(Connection& c);
  void on_readable(Connection& c);
  // Parses and judges the replies at the front of bytes; returns how many
  // bytes they took (the rest is an incomplete reply).
  size_t process(Connection& c, std::string_view bytes, int64_t now);
  void after_replies(Connection& c, int64_t now);
  void check_timeouts(int64_t now);
  // Counts the error, stops this worker and, through RunState, the run.
  void fail(ErrorKind kind, std::string message);
  void publish();
  void arm_timer(int64_t at_ns);

  RunState& state_;
  const Options& options_;
  std::vector<Connection> connections_;
  const UniqueFd epoll_;
  const UniqueFd wake_;   // eventfd: wake()
  const UniqueFd timer_;  // timerfd: the next scheduled send (open loop)
  int64_t timer_armed_ns_ = -1;
  size_t preload_window_;
  bool started_ = false;
  bool failed_ = false;
  // Open loop: (next send time, connection), earliest first.
  std::vector<std::pair<int64_t, size_t>> schedule_heap_;
  std::string scratch_;  // recv buffer

  Result result_;
  std::atomic<uint64_t> replies_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> preloaded_{0};
  mutable std::mutex snapshot_mu_;
  Histogram snapshot_ KV_GUARDED_BY(snapshot_mu_);
};

}  // namespace kv::kvbench
