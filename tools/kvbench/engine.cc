// See engine.h. The Coordinator runs on the caller's thread; each Worker
// runs on its own std::jthread. They meet only in RunState: the
// coordinator publishes the schedule and sets go, a worker reports its
// preload done, its end, or a failure, and wakes the coordinator's poll.
#include "tools/kvbench/engine.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/net.h"
#include "tools/kvbench/worker.h"

namespace kv::kvbench {
namespace {

// connect_tcp says "connect 127.0.0.1:7001: Connection refused"; a user
// wants to be told what to do about it.
Status connect_error(const Options& options, const Status& status, int made) {
  std::string address = options.server.to_string();
  std::string why = status.message();
  std::string prefix = fmt::format("connect {}: ", address);
  if (why.starts_with(prefix)) why.erase(0, prefix.size());
  std::string message = fmt::format("cannot connect to {}: {}", address, why);
  if (why == std::strerror(ECONNREFUSED))
    message += " (is the server running?)";
  if (why == std::strerror(EMFILE))
    message += " (each connection is a file descriptor: raise ulimit -n)";
  if (made > 0)
    message += fmt::format(" (after {} of {} connections were made)", made,
                           options.connections);
  return Status::unavailable(std::move(message));
}

int64_t to_ns(std::chrono::nanoseconds d) { return d.count(); }

// Owns the worker threads of one run.
class Coordinator {
 public:
  Coordinator(const Options& options, std::stop_token stop,
              const RunHooks& hooks)
      : options_(options),
        stop_(std::move(stop)),
        hooks_(hooks),
        state_(options) {}
  ~Coordinator() { stop_workers(); }

  Result<Report> run();

 private:
  Status connect_all(std::vector<UniqueFd>& fds);
  void start_workers(std::vector<UniqueFd> fds);
  void start_clock(int64_t now);
  void emit_progress(int64_t now, Phase phase);
  void stop_workers();
  Report collect(Phase phase, bool interrupted, int64_t stop_ns) const;

  const Options& options_;
  const std::stop_token stop_;
  const RunHooks& hooks_;
  RunState state_;
  std::vector<std::unique_ptr<Worker>> workers_;
  int64_t run_start_ns_ = 0;
  int64_t last_progress_ns_ = 0;
  uint64_t last_progress_replies_ = 0;
  // One per worker, running Worker::run. Last: started after the workers
  // exist, stopped and joined before they are destroyed.
  std::vector<std::jthread> threads_;
};

Status Coordinator::connect_all(std::vector<UniqueFd>& fds) {
  auto timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout);
  for (int i = 0; i < options_.connections; ++i) {
    if (stop_.stop_requested()) return Status();
    Result<UniqueFd> fd = connect_tcp(options_.server, timeout);
    if (!fd.ok()) return connect_error(options_, fd.status(), i);
    int flags = ::fcntl(fd.value().get(), F_GETFL);
    if (::fcntl(fd.value().get(), F_SETFL, flags | O_NONBLOCK) != 0)
      return Status::from_errno("fcntl O_NONBLOCK", errno);
    fds.push_back(std::move(fd).value());
  }
  return Status();
}

void Coordinator::start_workers(std::vector<UniqueFd> fds) {
  const auto n = static_cast<uint64_t>(options_.connections);
  // Zeta is the costly part of a Zipfian; slices of equal size share one.
  std::map<uint64_t, std::shared_ptr<const Zipfian>> zipfians;
  std::vector<std::vector<ConnectionSetup>> shares(
      static_cast<size_t>(options_.threads));
  for (uint64_t i = 0; i < n; ++i) {
    ConnectionSetup setup;
    setup.id = static_cast<uint32_t>(i);
    setup.fd = std::move(fds[i]);
    setup.owned = owned_keys(options_.keys, n, i);
    setup.draw = options_.verify ? setup.owned : KeySlice{0, 1, options_.keys};
    if (options_.distribution == Distribution::kZipfian) {
      auto& zipf = zipfians[setup.draw.count];
      if (!zipf)
        zipf = std::make_shared<Zipfian>(setup.draw.count, options_.zipf_theta);
      setup.zipf = zipf;
    }
    shares[i % shares.size()].push_back(std::move(setup));
  }
  for (auto& share : shares)
    workers_.push_back(std::make_unique<Worker>(state_, std::move(share)));
  for (auto& worker : workers_)
    threads_.emplace_back([w = worker.get()] { w->run(); });
}

void Coordinator::start_clock(int64_t now) {
  state_.warmup_start_ns = now;
  state_.measure_start_ns = now + to_ns(options_.warmup);
  if (!options_.requests.has_value())
    state_.measure_end_ns = state_.measure_start_ns + to_ns(options_.duration);
  state_.go.store(true, std::memory_order_release);
  for (auto& worker : workers_) worker->wake();
}

void Coordinator::emit_progress(int64_t now, Phase phase) {
  Progress p;
  p.phase = phase;
  p.elapsed_s = static_cast<double>(now - run_start_ns_) / 1e9;
  uint64_t replies = 0;
  Histogram measured;
  for (const auto& worker : workers_) {
    replies += worker->replies();
    p.errors += worker->errors();
    p.preloaded_keys += worker->preloaded();
    worker->merge_snapshot(measured);
  }
  double interval_s = static_cast<double>(now - last_progress_ns_) / 1e9;
  if (interval_s > 0)
    p.ops_per_sec =
        static_cast<double>(replies - last_progress_replies_) / interval_s;
  last_progress_ns_ = now;
  last_progress_replies_ = replies;
  p.measured_requests = measured.count();
  p.p99_ns = measured.percentile(99);
  if (hooks_.on_progress) hooks_.on_progress(p);
}

void Coordinator::stop_workers() {
  state_.stop.store(true, std::memory_order_release);
  for (auto& worker : workers_) worker->wake();
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
}

Result<Report> Coordinator::run() {
  if (Status s = validate(options_); !s.ok()) return s;
  std::vector<UniqueFd> fds;
  if (Status s = connect_all(fds); !s.ok()) return s;
  if (stop_.stop_requested())
    return collect(Phase::kConnect, /*interrupted=*/true, 0);

  std::stop_callback on_stop(stop_, [this] { state_.wake_coordinator(); });
  run_start_ns_ = last_progress_ns_ = now_ns();
  start_workers(std::move(fds));

  const int workers = static_cast<int>(workers_.size());
  Phase phase = options_.preload ? Phase::kPreload : Phase::kWarmup;
  bool interrupted = false;
  int64_t next_progress = run_start_ns_ + to_ns(hooks_.progress_interval);
  while (true) {
    int64_t now = now_ns();
    if (stop_.stop_requested()) {
      interrupted = true;
      break;
    }
    if (state_.stop.load(std::memory_order_acquire)) break;  // a failure
    if (!state_.go.load(std::memory_order_relaxed) &&
        state_.preloaded_workers.load() == workers) {
      start_clock(now);
      phase = Phase::kWarmup;
    }
    if (state_.go.load(std::memory_order_relaxed)) {
      if (phase == Phase::kWarmup && now >= state_.measure_start_ns)
        phase = Phase::kMeasure;
      if (phase == Phase::kMeasure && now >= state_.measure_end_ns)
        phase = Phase::kDrain;
    }
    if (state_.finished_workers.load() == workers) {
      // A worker that failed set stop before it counted itself finished:
      // seen finished, its failure is seen too.
      if (!state_.stop.load()) phase = Phase::kDone;
      break;
    }
    if (now >= next_progress) {
      emit_progress(now, phase);
      next_progress =
          std::max(next_progress + to_ns(hooks_.progress_interval), now + 1);
    }
    // Sleep until something is due: progress, or the next phase.
    int64_t until = next_progress;
    if (phase == Phase::kWarmup)
      until = std::min(until, state_.measure_start_ns);
    if (phase == Phase::kMeasure)
      until = std::min(until, state_.measure_end_ns);
    int timeout_ms = static_cast<int>(
        std::clamp<int64_t>((until - now + 999999) / 1000000, 0, 1000));
    pollfd p{state_.coordinator_wake.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) > 0) {
      uint64_t count;
      [[maybe_unused]] ssize_t ignored =
          ::read(state_.coordinator_wake.get(), &count, sizeof count);
    }
  }
  int64_t stop_ns = now_ns();
  stop_workers();
  return collect(phase, interrupted, stop_ns);
}

Report Coordinator::collect(Phase phase, bool interrupted,
                            int64_t stop_ns) const {
  Report report;
  report.options = options_;
  report.interrupted = interrupted;
  report.failure = state_.failure();
  report.stopped_in = phase;
  int64_t last_reply_ns = 0;
  for (const auto& worker : workers_) {
    const Worker::Result& r = worker->result();
    report.latency.merge(r.latency);
    report.requests += r.requests;
    report.gets += r.gets;
    report.sets += r.sets;
    report.nils += r.nils;
    report.warmup_requests += r.warmup_requests;
    report.preloaded_keys += r.preloaded_keys;
    report.errors.merge(r.errors);
    report.schedule.merge(r.schedule);
    last_reply_ns = std::max(last_reply_ns, r.last_measured_reply_ns);
  }
  if (state_.go.load(std::memory_order_relaxed)) {
    // A completed run ends with its last measured reply; one stopped early
    // ends when it was stopped.
    int64_t end_ns = phase == Phase::kDone && report.failure.empty()
                         ? last_reply_ns
                         : stop_ns;
    report.elapsed_s = static_cast<double>(std::max<int64_t>(
                           0, end_ns - state_.measure_start_ns)) /
                       1e9;
  }
  return report;
}

}  // namespace

Result<Report> run(const Options& options, std::stop_token stop,
                   const RunHooks& hooks) {
  Coordinator coordinator(options, std::move(stop), hooks);
  return coordinator.run();
}

}  // namespace kv::kvbench
