// FaultProxy: a TCP proxy on loopback that the grader puts on a link it
// wants to fault. Later labs run real processes over real TCP; to make the
// network slow, lossy, partitioned or broken without touching the student's
// code or the kernel, a test points the dialing side (the client, or node A)
// at a proxy whose target is the listening side (the server, or node B),
// and changes at run time what the proxy does with the bytes. This file
// gives the faults and their exact semantics; which faults a test injects,
// and when, is the suite's business.
//
// One proxy per directed link: every connection node A opens to node B goes
// through proxy "A->B", and B's connections to A through a different proxy
// "B->A". A fault then names exactly one link, an asymmetric partition is
// two proxies in different modes, and the proxy needs no idea of who is
// who: every connection it accepts belongs to its link. On each connection
// bytes flow both ways: kToServer carries what the dialing side sends (A's
// requests), kToClient what the listening side sends back (B's replies).
//
// Modes (pass, delay, black_hole, refuse) last until the next mode call and
// apply to bytes as the proxy reads them: the mode in force when a chunk is
// read decides whether it is forwarded, when, or swallowed. A mode call
// returns once the proxy's thread has adopted it, so bytes sent after it
// returns are read under the new mode. Bytes sent just before it may still
// be in the kernel and be read under the new one: wait for them in
// stats().to_server.received_bytes first when it matters. Actions (cut,
// cut_after, inject) are one-shot and leave the mode alone.
//
// Every connection is two sockets, client side and server side, each
// non-blocking, served by the proxy's one I/O thread (epoll, an eventfd to
// wake it, timers for delay). What it queues for a socket is bounded
// (kMaxQueuedBytes), so a slow reader slows the writer down, as TCP does,
// instead of growing the proxy.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/net.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/unique_fd.h"

namespace kv::grader {

class FaultProxy {
 public:
  enum class Direction {
    kToServer,  // client to server: what the dialing side sends
    kToClient,  // server to client: what the listening side sends back
  };

  // Per connection and direction, the most bytes the proxy holds for the
  // destination (delayed or not yet taken by the kernel) before it stops
  // reading from the source. The source's kernel buffers then fill and its
  // writes block, as they would behind a slow reader without a proxy.
  static constexpr size_t kMaxQueuedBytes = size_t{4} << 20;
  // The most one read takes; the queue can pass the limit by this much.
  static constexpr size_t kReadChunkBytes = size_t{64} << 10;

  // Counters for one direction, summed over all connections, since start.
  // The end of a connection (refused, cut, reset, closed) is counted before
  // its peers can see it, but forwarded_bytes just after the write: a peer
  // may read bytes a moment before they are counted, so wait for the count.
  struct FlowStats {
    uint64_t received_bytes = 0;   // read from the source, swallowed included
    uint64_t forwarded_bytes = 0;  // written to the destination (not inject)
    uint64_t swallowed_bytes = 0;  // read and discarded under black_hole()
    uint64_t injected_bytes = 0;   // queued by inject()
  };

  struct Stats {
    uint64_t accepted = 0;  // connections accepted, refused ones included
    uint64_t refused = 0;   // reset at once under refuse()
    uint64_t open = 0;      // connections open now
    // Connections whose target refused or failed to connect; the client
    // side was reset.
    uint64_t upstream_failed = 0;
    uint64_t cut = 0;  // connections reset by cut() or cut_after()
    FlowStats to_server;
    FlowStats to_client;

    const FlowStats& flow(Direction dir) const {
      return dir == Direction::kToServer ? to_server : to_client;
    }
    uint64_t swallowed_bytes() const {
      return to_server.swallowed_bytes + to_client.swallowed_bytes;
    }
    // For diagnoses: "accepted=3 refused=0 open=2 ... to_server{...}".
    std::string to_string() const;
  };

  // Listens on listen (port 0: a free port, see address()) and forwards
  // each accepted connection to target, in pass mode. The target need not
  // be up: a connection is made to it for each client, when the client
  // comes. Fails if listen cannot be bound or target is not an IP address
  // with a port.
  static Result<std::unique_ptr<FaultProxy>> start(
      const HostPort& target,
      const HostPort& listen = HostPort{"127.0.0.1", 0});
  ~FaultProxy();  // stop()
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Where clients connect: the bound address, with the real port.
  const HostPort& address() const { return address_; }
  const HostPort& target() const { return target_; }

  // Forwards every chunk as soon as it is read (the initial mode). Bytes
  // that an earlier delay() queued still leave at their scheduled time and
  // new bytes queue behind them: a direction is never reordered.
  void pass();
  // Every chunk read from now on, in either direction, is written to its
  // destination no earlier than d after the proxy read it; order within a
  // direction is kept (a chunk also waits for the chunks before it, so a
  // shorter delay than the last one takes effect once those have left).
  // An end of stream (a shutdown or close) is delayed like a chunk.
  void delay(std::chrono::milliseconds d);
  // A network that silently eats packets. Connections stay open; bytes
  // read from now on, in either direction, are discarded (counted in
  // swallowed_bytes) and are gone for good: pass() later forwards only
  // bytes read after it. A peer's end of stream is not lost: it is held
  // and passed on once the mode is no longer black_hole. New connections
  // are accepted (the client's connect succeeds), but the proxy does not
  // connect them to the target until the mode changes, so the server does
  // not see them and a target that is down does not give itself away.
  // Bytes queued before the call (by delay()) and inject() still go out.
  // A reset from either peer is not hidden: it resets the other side too.
  void black_hole();
  // New connections are refused: each one is accepted and reset at once
  // (SO_LINGER 0), so the client's connect succeeds and its first read or
  // write fails with ECONNRESET. The proxy keeps listening rather than
  // closing its port, so that pass() later needs no rebind that another
  // process could win, and a refusal is immediate rather than a connect
  // that hangs in the listen backlog. Existing connections forward as in
  // pass(). A connection counts as existing once stats().accepted counts
  // it; a mode call first accepts what is waiting, under the old mode.
  void refuse();

  // Resets every open connection now, both sides (SO_LINGER 0: the client
  // and the server read ECONNRESET), including connections waiting to be
  // accepted. The mode is unchanged: new connections work afterwards if it
  // allows. Returns after the resets were sent.
  void cut();
  // Arms a one-shot cut: at most `bytes` more bytes, summed over all
  // connections, are forwarded in direction dir; the connection whose bytes
  // reach that count gets them (all of them, before the reset: the proxy
  // waits until its kernel has sent them) and then is reset on both sides,
  // and the rest of its chunk is dropped. Bytes swallowed by black_hole()
  // do not count. With bytes == 0, the next connection that receives a byte
  // in direction dir is reset without forwarding it. A later cut_after
  // replaces an armed one; the cut shows in stats().cut.
  void cut_after(Direction dir, size_t bytes);
  // Queues bytes toward the destination of dir on every open connection
  // (kToClient: as if the server had sent them), behind what is already
  // queued there, whatever the mode. Skips a direction whose end of stream
  // (or cut) is already queued. Returns once queued, not once sent.
  void inject(Direction dir, std::string bytes);

  // What the proxy forwarded in dir since start, all connections together
  // in the order it wrote them: the bytes that forwarded_bytes counts (not
  // swallowed, dropped or injected ones), up to the first
  // kMaxCapturedBytes. For a test that asks what the server saw, such as
  // how many times a request reached it. (A request is captured before the
  // server can answer it, so once its reply came back the request is in.)
  std::string captured(Direction dir) const;
  static constexpr size_t kMaxCapturedBytes = size_t{16} << 20;

  Stats stats() const;
  // Blocks until pred(stats()) holds (true) or timeout passes (false).
  // pred runs under the proxy's lock: it must not call the proxy.
  bool wait_until(const std::function<bool(const Stats&)>& pred,
                  std::chrono::milliseconds timeout) const;

  // Stops listening, resets every connection (both sides, as cut() does:
  // the link is gone, and a blocked peer wakes with an error) and joins the
  // I/O thread. Idempotent; later calls of the mode and action methods do
  // nothing.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  enum class Mode { kPass, kDelay, kBlackHole, kRefuse };

  // A request from a public method to the I/O thread, which owns the mode
  // and the connections.
  struct Command {
    enum class Kind { kSetMode, kCut, kCutAfter, kInject };
    Kind kind = Kind::kSetMode;
    Mode mode = Mode::kPass;
    std::chrono::milliseconds delay{0};
    Direction dir = Direction::kToServer;
    size_t bytes = 0;
    std::string data;
  };

  struct Connection;  // in fault_proxy.cc: two sockets, two queues
  struct Flow;

  FaultProxy(const HostPort& target, const sockaddr_storage& target_sockaddr,
             socklen_t target_sockaddr_length, UniqueFd listener,
             HostPort address, UniqueFd epoll, UniqueFd wake);

  void set_mode(Mode mode, std::chrono::milliseconds d);
  // Queues command for the I/O thread and waits until it ran it.
  void run_command(Command command);
  void wake();

  // The I/O thread and what only it calls.
  void run(std::stop_token stop);
  void take_commands();
  void apply(Command& command);
  void accept_pending();
  void on_socket_event(Connection& c, bool server_side, uint32_t events);
  void start_connect(Connection& c);
  void finish_connect(Connection& c);
  void read_from(Connection& c, Direction dir);
  void on_bytes(Connection& c, Direction dir, std::string_view bytes);
  void on_end_of_stream(Connection& c, Direction dir);
  // Everything a connection can do now: connect, flush what is due, close
  // when both directions ended, and update what epoll watches.
  void service(Connection& c);
  void flush(Connection& c, Direction dir);
  void update_interest(Connection& c);
  bool can_read(const Connection& c, Direction dir) const;
  bool has_due_bytes(const Connection& c, Clock::time_point now) const;
  void reset_connection(Connection& c, bool count_as_cut);
  void close_connection(Connection& c);
  void reap_closed();
  Clock::time_point due_time(Clock::time_point now) const;
  FlowStats& flow_stats(Direction dir) KV_REQUIRES(mu_);

  const HostPort target_;
  const sockaddr_storage target_sockaddr_;
  const socklen_t target_sockaddr_length_;
  const HostPort address_;
  const UniqueFd epoll_;
  const UniqueFd wake_;  // eventfd: a command or stop() is waiting

  // Owned by the I/O thread.
  UniqueFd listener_;
  bool listener_watched_ = false;  // false while accept4 runs out of fds
  Mode mode_ = Mode::kPass;
  std::chrono::milliseconds delay_{0};
  bool cut_armed_ = false;
  Direction cut_dir_ = Direction::kToServer;
  size_t cut_budget_ = 0;
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;
  uint64_t next_id_ = 1;
  std::string read_buffer_;

  mutable std::mutex mu_;
  mutable std::condition_variable stats_changed_;
  std::condition_variable command_done_;
  Stats stats_ KV_GUARDED_BY(mu_);
  std::string captured_to_server_ KV_GUARDED_BY(mu_);
  std::string captured_to_client_ KV_GUARDED_BY(mu_);
  std::vector<Command> commands_ KV_GUARDED_BY(mu_);
  uint64_t commands_issued_ KV_GUARDED_BY(mu_) = 0;
  uint64_t commands_done_ KV_GUARDED_BY(mu_) = 0;
  bool io_done_ KV_GUARDED_BY(mu_) = false;  // the I/O thread has ended

  std::once_flag stop_once_;
  // Runs run(): accepts, connects, reads, queues, writes and resets.
  std::jthread io_thread_;  // last: started last, stopped and joined first
};

}  // namespace kv::grader
