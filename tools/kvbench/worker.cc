// See worker.h. One loop per thread, level-triggered epoll: the wake
// eventfd (the coordinator), a timerfd for the open loop's next send, and
// the connections. Everything a connection does happens on this thread, so
// its state needs no lock; only the counters for the progress line are
// atomics, and the histogram is copied out under a lock every 100 ms.
#include "tools/kvbench/worker.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>

#include <fmt/format.h>

#include "common/check.h"
#include "tools/kvbench/reply_parser.h"
#include "tools/kvbench/request.h"

namespace kv::kvbench {
namespace {

constexpr uint64_t kWakeTag = UINT64_MAX;
constexpr uint64_t kTimerTag = UINT64_MAX - 1;
constexpr size_t kRecvBytes = 64 * 1024;
// Timeouts are checked and the histogram published this often.
constexpr int64_t kHousekeepingNs = 100'000'000;
// The preload keeps about this many bytes of SETs in flight per connection.
constexpr size_t kPreloadBytesInFlight = 1 << 20;
constexpr size_t kMaxPreloadWindow = 256;
// Sent bytes are cut from the front of the output buffer past this size.
constexpr size_t kCompactOutputBytes = 1 << 20;

std::string count_of(uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}
std::string replies_text(uint64_t n) { return count_of(n, "reply", "replies"); }
std::string requests_text(uint64_t n) {
  return count_of(n, "request", "requests");
}

std::string_view op_name(Op op) { return op == Op::kGet ? "GET" : "SET"; }

// -n: takes up to `want` of the measured requests left; false when none.
bool claim(RunState& state, uint64_t total, uint64_t& want) {
  uint64_t before =
      state.measured_claimed.fetch_add(want, std::memory_order_relaxed);
  if (before >= total) return false;
  want = std::min(want, total - before);
  return true;
}

}  // namespace

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

RunState::RunState(const Options& o)
    : options(o), coordinator_wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  KV_CHECK(coordinator_wake.valid(), "eventfd");
}

void RunState::wake_coordinator() {
  uint64_t one = 1;
  // A failed write means the counter is already non-zero: it will wake.
  [[maybe_unused]] ssize_t ignored =
      ::write(coordinator_wake.get(), &one, sizeof one);
}

void RunState::fail(std::string message) {
  {
    std::lock_guard lock(mu_);
    if (failure_.empty()) failure_ = std::move(message);
  }
  stop.store(true, std::memory_order_release);
  wake_coordinator();
}

std::string RunState::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

Worker::Worker(RunState& state, std::vector<ConnectionSetup> setups)
    : state_(state),
      options_(state.options),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)),
      preload_window_(
          std::clamp<size_t>(kPreloadBytesInFlight / (options_.value_size + 64),
                             1, kMaxPreloadWindow)),
      scratch_(kRecvBytes, '\0') {
  KV_CHECK(epoll_.valid() && wake_.valid() && timer_.valid(),
           "epoll_create1, eventfd or timerfd_create failed");
  auto watch = [this](int fd, uint64_t tag) {
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = tag;
    KV_CHECK(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) == 0,
             "epoll_ctl ADD");
  };
  watch(wake_.get(), kWakeTag);
  watch(timer_.get(), kTimerTag);
  connections_.reserve(setups.size());
  for (ConnectionSetup& setup : setups) {
    connections_.emplace_back(std::move(setup), options_);
    watch(connections_.back().setup.fd.get(), connections_.size() - 1);
  }
}

// A connection's random streams depend on the seed and its id only, so a
// run repeats whatever --threads spreads the connections over.
Worker::Connection::Connection(ConnectionSetup s, const Options& options)
    : setup(std::move(s)),
      rng(Rng::for_stream(options.seed, setup.id, 0)),
      arrival_rng(Rng::for_stream(options.seed, setup.id, 1)),
      chooser(setup.draw, setup.zipf) {
  if (options.verify) last_seq.assign(setup.owned.count, 0);
}

Worker::~Worker() = default;

void Worker::wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
}

void Worker::merge_snapshot(Histogram& into) const {
  std::lock_guard lock(snapshot_mu_);
  into.merge(snapshot_);
}

void Worker::publish() {
  std::lock_guard lock(snapshot_mu_);
  snapshot_ = result_.latency;
}

bool Worker::all(bool Connection::*flag) const {
  return std::all_of(connections_.begin(), connections_.end(),
                     [flag](const Connection& c) { return c.*flag; });
}

void Worker::run() {
  // The open loop sleeps until each request's intended time; the default
  // 50 us of timer slack would add up to 50 us to every latency.
  if (options_.open_loop()) ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

  int64_t now = now_ns();
  for (Connection& c : connections_) {
    if (options_.preload) {
      fill_preload(c, now);
    } else {
      c.preloaded = true;
    }
    if (failed_) break;
  }
  bool preload_reported = false;
  int64_t next_housekeeping = now + kHousekeepingNs;
  epoll_event events[64];
  while (!failed_ && !state_.stop.load(std::memory_order_acquire)) {
    now = now_ns();
    if (!preload_reported && all(&Connection::preloaded)) {
      preload_reported = true;
      state_.preloaded_workers.fetch_add(1);
      state_.wake_coordinator();
    }
    if (preload_reported && !started_ &&
        state_.go.load(std::memory_order_acquire))
      start_measuring(now);
    if (started_ && !failed_) {
      if (options_.open_loop()) send_due(now);
      if (all(&Connection::finished)) break;
    }
    if (now >= next_housekeeping) {
      check_timeouts(now);
      publish();
      next_housekeeping = now + kHousekeepingNs;
    }
    if (failed_) break;

    int timeout_ms = static_cast<int>(
        std::max<int64_t>(0, (next_housekeeping - now + 999999) / 1000000));
    int n = ::epoll_wait(epoll_.get(), events, std::size(events), timeout_ms);
    if (n < 0) {
      KV_CHECK(errno == EINTR,
               fmt::format("epoll_wait: {}", std::strerror(errno)));
      continue;
    }
    for (int i = 0; i < n && !failed_; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kWakeTag || tag == kTimerTag) {
        uint64_t count;
        [[maybe_unused]] ssize_t ignored = ::read(
            tag == kWakeTag ? wake_.get() : timer_.get(), &count, sizeof count);
        continue;
      }
      Connection& c = connections_[tag];
      if (c.finished) continue;
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        on_readable(c);
      if (!failed_ && (events[i].events & EPOLLOUT)) flush(c);
    }
  }
  publish();
  state_.finished_workers.fetch_add(1);
  state_.wake_coordinator();
}

void Worker::start_measuring(int64_t now) {
  started_ = true;
  if (!options_.open_loop()) {
    for (Connection& c : connections_) {
      send_batch(c);
      if (failed_) return;
    }
    return;
  }
  for (size_t i = 0; i < connections_.size(); ++i) {
    advance_schedule(connections_[i]);
    schedule_heap_.emplace_back(connections_[i].next_send_ns, i);
  }
  std::make_heap(schedule_heap_.begin(), schedule_heap_.end(),
                 std::greater<>());
  send_due(now);
}

void Worker::add_request(Connection& c, int64_t start_ns, bool measured,
                         int64_t now) {
  bool get = options_.read_ratio >= 1 ||
             (options_.read_ratio > 0 && c.rng.uniform() < options_.read_ratio);
  uint64_t key = c.chooser.next(c.rng);
  Pending p{start_ns, key, 0, get ? Op::kGet : Op::kSet, measured, false};
  if (get) {
    // Under --verify only this connection writes key, and the server
    // answers in request order: the GET must see exactly this SET.
    if (options_.verify) p.seq = c.last_seq[c.setup.owned.index_of(key)];
    append_get(c.out, options_.protocol, key);
  } else {
    p.seq = ++c.seq;
    append_set(c.out, options_.protocol, ValueId{key, c.setup.id, p.seq},
               options_.value_size);
    if (options_.verify) c.last_seq[c.setup.owned.index_of(key)] = p.seq;
  }
  if (c.pending.empty()) c.last_progress_ns = now;
  c.pending.push_back(p);
}

void Worker::fill_preload(Connection& c, int64_t now) {
  bool any = false;
  while (c.pending.size() < preload_window_ &&
         c.preload_next < c.setup.owned.count) {
    uint64_t index = c.preload_next++;
    uint64_t key = c.setup.owned.key_at(index);
    uint64_t seq = ++c.seq;
    append_set(c.out, options_.protocol, ValueId{key, c.setup.id, seq},
               options_.value_size);
    if (options_.verify) c.last_seq[index] = seq;
    if (c.pending.empty()) c.last_progress_ns = now;
    c.pending.push_back(Pending{now, key, seq, Op::kSet, false, true});
    any = true;
  }
  if (any) flush(c);
  if (c.preload_next == c.setup.owned.count && c.pending.empty())
    c.preloaded = true;
}

void Worker::send_batch(Connection& c) {
  int64_t now = now_ns();
  if (now >= state_.measure_end_ns) {
    c.sending_done = true;
  } else {
    bool measured = now >= state_.measure_start_ns;
    auto count = static_cast<uint64_t>(options_.pipeline);
    if (measured && options_.requests.has_value() &&
        !claim(state_, *options_.requests, count))
      c.sending_done = true;
    if (!c.sending_done) {
      for (uint64_t i = 0; i < count; ++i) add_request(c, 0, measured, now);
      // As redis-benchmark: each request's latency runs from the moment
      // its batch is written.
      int64_t sent_at = now_ns();
      for (Pending& p : c.pending) p.start_ns = sent_at;
      flush(c);
      return;
    }
  }
  if (c.pending.empty()) {
    c.finished = true;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.setup.fd.get(), nullptr);
  }
}

void Worker::advance_schedule(Connection& c) {
  const double n = options_.connections;
  const double gap_ns = 1e9 / *options_.rate;  // between any two requests
  if (options_.arrival == Arrival::kUniform) {
    // Connection i sends at i, i + n, i + 2n, ... gaps: together, an even
    // stream. From the index, not by adding, so no rounding accumulates.
    double offset =
        (c.setup.id + static_cast<double>(c.scheduled) * n) * gap_ns;
    c.next_send_ns = state_.warmup_start_ns + std::llround(offset);
  } else {
    double gap = c.arrival_rng.exponential(gap_ns * n);
    int64_t from = c.scheduled == 0 ? state_.warmup_start_ns : c.next_send_ns;
    c.next_send_ns = from + std::llround(gap);
  }
  ++c.scheduled;
}

void Worker::send_scheduled(Connection& c, int64_t now) {
  bool any = false;
  while (!c.sending_done && c.next_send_ns <= now) {
    int64_t intended = c.next_send_ns;
    if (intended >= state_.measure_end_ns) {
      c.sending_done = true;
      break;
    }
    if (c.pending.size() >= options_.max_outstanding) {
      // The request waits for a reply, keeping its intended time: its
      // latency will include the wait, as a user's would.
      if (!c.capped && intended >= state_.measure_start_ns)
        ++result_.schedule.max_outstanding_hits;
      c.capped = true;
      break;
    }
    bool measured = intended >= state_.measure_start_ns;
    uint64_t one = 1;
    if (measured && options_.requests.has_value() &&
        !claim(state_, *options_.requests, one)) {
      c.sending_done = true;
      break;
    }
    add_request(c, intended, measured, now);
    if (measured) {
      int64_t lag = now - intended;
      result_.schedule.max_lag_ns = std::max(result_.schedule.max_lag_ns, lag);
      if (lag >= kLateThresholdNs) ++result_.schedule.late_requests;
    }
    advance_schedule(c);
    any = true;
  }
  if (any) flush(c);
  if (failed_) return;
  if (c.sending_done) {
    if (c.pending.empty()) {
      c.finished = true;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.setup.fd.get(), nullptr);
    }
    return;
  }
  if (!c.capped) {
    schedule_heap_.emplace_back(c.next_send_ns,
                                static_cast<size_t>(&c - connections_.data()));
    std::push_heap(schedule_heap_.begin(), schedule_heap_.end(),
                   std::greater<>());
  }
}

void Worker::send_due(int64_t now) {
  while (!schedule_heap_.empty() && schedule_heap_.front().first <= now) {
    std::pop_heap(schedule_heap_.begin(), schedule_heap_.end(),
                  std::greater<>());
    size_t index = schedule_heap_.back().second;
    schedule_heap_.pop_back();
    send_scheduled(connections_[index], now);
    if (failed_) return;
  }
  arm_timer(schedule_heap_.empty() ? -1 : schedule_heap_.front().first);
}

void Worker::arm_timer(int64_t at_ns) {
  if (at_ns == timer_armed_ns_) return;
  timer_armed_ns_ = at_ns;
  itimerspec spec{};
  if (at_ns >= 0) {
    int64_t at = std::max<int64_t>(at_ns, 1);  // all zeros would disarm
    spec.it_value.tv_sec = at / 1000000000;
    spec.it_value.tv_nsec = at % 1000000000;
  }
  KV_CHECK(
      ::timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) == 0,
      "timerfd_settime");
}

void Worker::flush(Connection& c) {
  while (c.out_sent < c.out.size()) {
    ssize_t n = ::send(c.setup.fd.get(), c.out.data() + c.out_sent,
                       c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    int error = errno;
    bool closed = error == EPIPE || error == ECONNRESET;
    fail(ErrorKind::kConnection,
         fmt::format(
             "connection {} {} after {} ({} outstanding)", c.setup.id,
             closed ? "was closed by the server"
                    : fmt::format("failed to send: {}", std::strerror(error)),
             replies_text(c.replies), requests_text(c.pending.size())));
    return;
  }
  bool more = c.out_sent < c.out.size();
  if (!more) {
    c.out.clear();
    c.out_sent = 0;
  } else if (c.out_sent > kCompactOutputBytes) {
    c.out.erase(0, c.out_sent);
    c.out_sent = 0;
  }
  if (more != c.want_write) {
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | (more ? uint32_t{EPOLLOUT} : 0);
    event.data.u64 = static_cast<uint64_t>(&c - connections_.data());
    KV_CHECK(
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.setup.fd.get(), &event) == 0,
        "epoll_ctl MOD");
    c.want_write = more;
  }
}

void Worker::on_readable(Connection& c) {
  ssize_t n;
  do {
    n = ::recv(c.setup.fd.get(), scratch_.data(), scratch_.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n <= 0) {
    int error = errno;
    bool closed = n == 0 || error == ECONNRESET;
    fail(ErrorKind::kConnection,
         fmt::format("connection {} {} after {} ({} outstanding)", c.setup.id,
                     closed ? "was closed by the server"
                            : fmt::format("failed to receive: {}",
                                          std::strerror(error)),
                     replies_text(c.replies), requests_text(c.pending.size())));
    return;
  }
  int64_t now = now_ns();
  std::string_view bytes(scratch_.data(), static_cast<size_t>(n));
  // Most reads end on a reply boundary: parse them in place, and keep only
  // an incomplete tail in c.in.
  if (c.in.empty()) {
    size_t used = process(c, bytes, now);
    if (!failed_ && used < bytes.size()) c.in.assign(bytes.substr(used));
  } else {
    c.in.append(bytes);
    size_t used = process(c, c.in, now);
    c.in.erase(0, used);
  }
}

size_t Worker::process(Connection& c, std::string_view bytes, int64_t now) {
  size_t used = 0;
  uint64_t replies = 0;
  Reply reply;
  CheckContext context;
  context.connection = c.setup.id;
  context.value_size = options_.value_size;
  context.verify = options_.verify;
  // GETs start only after every connection's preload was answered.
  context.all_keys_written = options_.preload;
  while (used < bytes.size()) {
    ParseResult parsed = parse_reply(bytes.substr(used), reply);
    if (parsed.status == ParseStatus::kNeedMore) break;
    if (parsed.status == ParseStatus::kMalformed) {
      fail(ErrorKind::kMalformedReply,
           fmt::format("connection {} got a malformed reply after {}: {} "
                       "(bytes: {})",
                       c.setup.id,
                       count_of(c.replies, "good reply", "good replies"),
                       parsed.error, quote(bytes.substr(used), 40)));
      return used;
    }
    used += parsed.consumed;
    if (c.pending.empty()) {
      fail(ErrorKind::kConnection,
           fmt::format("connection {} got a reply with no request "
                       "outstanding, after {}: {}",
                       c.setup.id, replies_text(c.replies), describe(reply)));
      return used;
    }
    Pending p = c.pending.front();
    c.pending.pop_front();
    ++c.replies;
    ++replies;

    Verdict verdict =
        check_reply(RequestInfo{p.op, p.key, p.seq}, reply, context);
    if (!verdict.ok) {
      result_.errors.add(verdict.kind,
                         fmt::format("connection {} {} key:{}: {}", c.setup.id,
                                     op_name(p.op), p.key, verdict.detail));
      errors_.fetch_add(1, std::memory_order_relaxed);
    }
    if (p.measured) {
      result_.latency.record(
          static_cast<uint64_t>(std::max<int64_t>(0, now - p.start_ns)));
      ++result_.requests;
      ++(p.op == Op::kGet ? result_.gets : result_.sets);
      if (verdict.nil) ++result_.nils;
      result_.last_measured_reply_ns = now;
    } else if (p.preload) {
      ++result_.preloaded_keys;
      preloaded_.fetch_add(1, std::memory_order_relaxed);
    } else {
      ++result_.warmup_requests;
    }
  }
  if (replies > 0) {
    c.last_progress_ns = now;
    replies_.fetch_add(replies, std::memory_order_relaxed);
    after_replies(c, now);
  }
  return used;
}

void Worker::after_replies(Connection& c, int64_t now) {
  if (!started_) {
    if (!c.preloaded) fill_preload(c, now);
    return;
  }
  if (options_.open_loop()) {
    if (c.capped && c.pending.size() < options_.max_outstanding) {
      c.capped = false;
      send_scheduled(c, now);
    } else if (c.sending_done && c.pending.empty()) {
      c.finished = true;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.setup.fd.get(), nullptr);
    }
    return;
  }
  if (c.pending.empty()) send_batch(c);
}

void Worker::check_timeouts(int64_t now) {
  for (Connection& c : connections_) {
    if (c.finished || c.pending.empty()) continue;
    if (now - c.last_progress_ns <= options_.timeout.count()) continue;
    fail(ErrorKind::kConnection,
         fmt::format("connection {} got no reply within {} ({} outstanding, "
                     "{} so far)",
                     c.setup.id, format_duration(options_.timeout),
                     requests_text(c.pending.size()), replies_text(c.replies)));
    return;
  }
}

void Worker::fail(ErrorKind kind, std::string message) {
  result_.errors.add(kind, message);
  errors_.fetch_add(1, std::memory_order_relaxed);
  failed_ = true;
  state_.fail(std::move(message));
}

}  // namespace kv::kvbench
