// The fault proxy on real sockets: an echo server (or a server that never
// reads) behind it on 127.0.0.1, clients from connect_tcp in front. Each
// test waits for events (bytes, end of file, a reset, the proxy's
// counters) under a deadline that only bounds a hang; the only fixed
// windows are the ones in which nothing may arrive, which cannot fail a
// correct proxy on a slow machine.
#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <list>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/thread_annotations.h"
#include "process.h"

namespace kv::grader {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using Direction = FaultProxy::Direction;
using Stats = FaultProxy::Stats;

// Bounds a hang; never reached by a passing test.
constexpr milliseconds kDeadline{10000};

std::string random_bytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// A server for the proxy to forward to. kEcho: each connection sends back
// what it reads and, at end of file, shuts down its write side. kSink:
// accepts and never reads, the slowest reader there is.
class TestServer {
 public:
  enum class Kind { kEcho, kSink };
  struct Counts {
    int accepted = 0;
    int saw_eof = 0;  // connections that read end of file
    int ended = 0;    // echo connections that stopped: eof, reset, error
    uint64_t received_bytes = 0;
  };

  explicit TestServer(Kind kind = Kind::kEcho) : kind_(kind) {
    listener_ = listen_tcp({"127.0.0.1", 0}).value();
    address_ = local_address(listener_.get()).value();
    acceptor_ = std::jthread([this] { accept_loop(); });
  }
  ~TestServer() {
    // shutdown(2) wakes the blocked accept() and every blocked recv().
    ::shutdown(listener_.get(), SHUT_RDWR);
    acceptor_.join();
    std::list<std::unique_ptr<Connection>> connections;
    {
      std::lock_guard lock(mu_);
      connections.swap(connections_);
      for (auto& c : connections) ::shutdown(c->fd.get(), SHUT_RDWR);
    }
    connections.clear();  // joins the echo threads
  }

  const HostPort& address() const { return address_; }
  Counts counts() const {
    std::lock_guard lock(mu_);
    return counts_;
  }
  bool wait_until(const std::function<bool(const Counts&)>& pred) const {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kDeadline, [&] { return pred(counts_); });
  }

 private:
  struct Connection {
    UniqueFd fd;
    std::jthread thread;  // last: joined before fd is closed
  };

  void accept_loop() {
    while (true) {
      UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!fd.valid()) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // the destructor shut the listener down
      }
      std::lock_guard lock(mu_);
      ++counts_.accepted;
      changed_.notify_all();
      auto c = std::make_unique<Connection>();
      c->fd = std::move(fd);
      if (kind_ == Kind::kEcho) {
        int echo_fd = c->fd.get();
        c->thread = std::jthread([this, echo_fd] { echo(echo_fd); });
      }
      connections_.push_back(std::move(c));
    }
  }

  void echo(int fd) {
    std::vector<char> buffer(64 << 10);
    while (true) {
      ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n == 0) {
          std::lock_guard lock(mu_);
          ++counts_.saw_eof;
        }
        ::shutdown(fd, SHUT_WR);
        break;
      }
      {
        std::lock_guard lock(mu_);
        counts_.received_bytes += static_cast<uint64_t>(n);
      }
      if (!send_all(fd, std::string_view(buffer.data(), n)).ok()) break;
    }
    std::lock_guard lock(mu_);
    ++counts_.ended;
    changed_.notify_all();
  }

  const Kind kind_;
  UniqueFd listener_;
  HostPort address_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  Counts counts_ KV_GUARDED_BY(mu_);
  std::list<std::unique_ptr<Connection>> connections_ KV_GUARDED_BY(mu_);
  std::jthread acceptor_;  // last: started last, joined first
};

std::unique_ptr<FaultProxy> start_proxy(const HostPort& target) {
  Result<std::unique_ptr<FaultProxy>> proxy = FaultProxy::start(target);
  KV_CHECK(proxy.ok(), proxy.status().to_string());
  return std::move(proxy).value();
}

UniqueFd connect_to(const FaultProxy& proxy) {
  Result<UniqueFd> fd = connect_tcp(proxy.address(), kDeadline);
  if (!fd.ok()) {
    ADD_FAILURE() << "connect to the proxy: " << fd.status().to_string();
    return UniqueFd();
  }
  return std::move(fd).value();
}

// connect_tcp, with SO_RCVBUF set before the handshake (when the window
// scale is chosen).
UniqueFd connect_with_receive_buffer(const HostPort& address, int bytes) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(address.port);
  ::inet_pton(AF_INET, address.host.c_str(), &to.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) !=
      0)
    ADD_FAILURE() << "connect: " << strerror(errno);
  return fd;
}

// What a client read before the connection ended or the deadline passed.
struct ReadResult {
  enum class End { kComplete, kEof, kReset, kTimeout, kError };
  std::string bytes;
  End end = End::kComplete;
  int error = 0;

  // "complete: 5 bytes", "reset after 300 bytes", ...: what a failed
  // expectation prints.
  std::string describe() const {
    switch (end) {
      case End::kComplete:
        return fmt::format("complete: {} bytes", bytes.size());
      case End::kEof:
        return fmt::format("end of file after {} bytes", bytes.size());
      case End::kReset:
        return fmt::format("reset after {} bytes", bytes.size());
      case End::kTimeout:
        return fmt::format("timeout after {} bytes", bytes.size());
      case End::kError:
        return fmt::format("error '{}' after {} bytes", strerror(error),
                           bytes.size());
    }
    return "?";
  }
};

// Reads until want bytes arrived, the connection ended, or timeout.
ReadResult read_bytes(int fd, size_t want, milliseconds timeout = kDeadline) {
  ReadResult r;
  Clock::time_point deadline = Clock::now() + timeout;
  std::vector<char> buffer(64 << 10);
  while (r.bytes.size() < want) {
    auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    int n =
        left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.end = n == 0 ? ReadResult::End::kTimeout : ReadResult::End::kError;
      r.error = errno;
      return r;
    }
    size_t room = std::min(buffer.size(), want - r.bytes.size());
    ssize_t got = ::recv(fd, buffer.data(), room, MSG_DONTWAIT);
    if (got > 0) {
      r.bytes.append(buffer.data(), static_cast<size_t>(got));
    } else if (got == 0) {
      r.end = ReadResult::End::kEof;
      return r;
    } else if (errno != EAGAIN && errno != EINTR) {
      r.end = errno == ECONNRESET ? ReadResult::End::kReset
                                  : ReadResult::End::kError;
      r.error = errno;
      return r;
    }
  }
  return r;
}

ReadResult read_until_closed(int fd) {
  return read_bytes(fd, std::string::npos);
}

// Sends bytes and returns what came back, or how the connection ended.
std::string echo(int fd, std::string_view bytes) {
  if (Status s = send_all(fd, bytes); !s.ok()) return "<" + s.to_string() + ">";
  ReadResult r = read_bytes(fd, bytes.size());
  if (r.end != ReadResult::End::kComplete) return "<" + r.describe() + ">";
  return r.bytes;
}

// What a new connection through the proxy reads without sending anything:
// a refused one, "reset after 0 bytes". (Sending first would race the
// reset: the send could fail instead, and consume the error.)
std::string read_on_new_connection(const FaultProxy& proxy) {
  Result<UniqueFd> fd = connect_tcp(proxy.address(), kDeadline);
  if (!fd.ok()) {
    // connect_tcp reads SO_ERROR once the handshake is done; the reset
    // may already have come by then.
    if (fd.status().message().ends_with(strerror(ECONNRESET)))
      return "reset after 0 bytes";
    return "connect failed: " + fd.status().to_string();
  }
  return read_until_closed(fd.value().get()).describe();
}

int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - since).count();
}

// Nothing arrives on fd within window, and it is still open.
bool silent_for(int fd, milliseconds window) {
  pollfd p{fd, POLLIN, 0};
  int n;
  do {
    n = ::poll(&p, 1, static_cast<int>(window.count()));
  } while (n < 0 && errno == EINTR);
  return n == 0;
}

// Sends data from a thread, so that the test can read the echo meanwhile.
std::jthread send_in_background(int fd, std::string data) {
  return std::jthread([fd, data = std::move(data)] {
    (void)send_all(fd, data);  // fails once a test resets the connection
  });
}

TEST(FaultProxyTest, StartRejectsATargetWithoutAddressOrPort) {
  EXPECT_EQ(FaultProxy::start({"example.com", 80}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FaultProxy::start({"127.0.0.1", 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(FaultProxyTest, PassForwardsBothWaysIntact) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  EXPECT_EQ(proxy->address().host, "127.0.0.1");
  EXPECT_NE(proxy->address().port, 0);
  UniqueFd c = connect_to(*proxy);
  EXPECT_EQ(echo(c.get(), "hello"), "hello");

  std::string big = random_bytes(size_t{1} << 20, 1);
  std::jthread writer = send_in_background(c.get(), big);
  ReadResult r = read_bytes(c.get(), big.size());
  ASSERT_EQ(r.describe(), fmt::format("complete: {} bytes", big.size()));
  EXPECT_TRUE(r.bytes == big) << "the megabyte came back changed";

  uint64_t total = 5 + big.size();
  EXPECT_TRUE(proxy->wait_until(
      [&](const Stats& s) {
        return s.to_server.forwarded_bytes == total &&
               s.to_client.forwarded_bytes == total;
      },
      kDeadline))
      << proxy->stats().to_string();
  Stats s = proxy->stats();
  EXPECT_EQ(s.accepted, 1u);
  EXPECT_EQ(s.open, 1u);
  EXPECT_EQ(s.to_server.received_bytes, total);
  EXPECT_EQ(s.swallowed_bytes(), 0u);
}

TEST(FaultProxyTest, DelayHoldsEachChunkAtLeastTheDelayAndKeepsOrder) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  UniqueFd c = connect_to(*proxy);
  EXPECT_EQ(echo(c.get(), "warm"), "warm");  // connected before the delay

  constexpr milliseconds kDelay{150};
  proxy->delay(kDelay);
  std::vector<std::string> messages;
  std::vector<Clock::time_point> sent_at;
  for (int i = 0; i < 10; ++i) {
    messages.push_back(fmt::format("message {:02};", i));
    sent_at.push_back(Clock::now());
    ASSERT_TRUE(send_all(c.get(), messages.back()).ok());
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    ReadResult r = read_bytes(c.get(), messages[i].size());
    ASSERT_EQ(r.describe(),
              fmt::format("complete: {} bytes", messages[i].size()));
    EXPECT_EQ(r.bytes, messages[i]) << "out of order";
    // Delayed on the way to the server and again on the way back.
    EXPECT_GE(elapsed_ms(sent_at[i]), 2 * kDelay.count())
        << messages[i] << " came back early";
  }
}

TEST(FaultProxyTest, PassAfterDelayDeliversTheDelayedBytesFirst) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  UniqueFd c = connect_to(*proxy);
  EXPECT_EQ(echo(c.get(), "warm"), "warm");

  constexpr milliseconds kDelay{300};
  proxy->delay(kDelay);
  Clock::time_point sent_a = Clock::now();
  ASSERT_TRUE(send_all(c.get(), "A").ok());
  // "A" was read under delay before the mode changes.
  ASSERT_TRUE(proxy->wait_until(
      [](const Stats& s) { return s.to_server.received_bytes >= 5; },
      kDeadline));
  proxy->pass();
  ASSERT_TRUE(send_all(c.get(), "B").ok());
  ReadResult r = read_bytes(c.get(), 2);
  EXPECT_EQ(r.describe(), "complete: 2 bytes");
  EXPECT_EQ(r.bytes, "AB") << "B overtook the delayed A";
  EXPECT_GE(elapsed_ms(sent_a), kDelay.count());
}

TEST(FaultProxyTest, BlackHoleSwallowsBothWaysAndPassForwardsAgain) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  UniqueFd c = connect_to(*proxy);
  EXPECT_EQ(echo(c.get(), "ping"), "ping");

  proxy->black_hole();
  ASSERT_TRUE(send_all(c.get(), "lost").ok());
  // From the server's side: its echo of injected bytes is swallowed too.
  proxy->inject(Direction::kToServer, "zz");
  EXPECT_TRUE(proxy->wait_until(
      [](const Stats& s) {
        return s.to_server.swallowed_bytes == 4 &&
               s.to_client.swallowed_bytes == 2;
      },
      kDeadline))
      << proxy->stats().to_string();
  EXPECT_TRUE(silent_for(c.get(), milliseconds(200)))
      << "bytes came through a black hole";
  EXPECT_EQ(proxy->stats().open, 1u);
  EXPECT_EQ(server.counts().ended, 0);

  proxy->pass();
  // Exactly "found": "lost" and "zz" are gone for good.
  EXPECT_EQ(echo(c.get(), "found"), "found");
  EXPECT_TRUE(silent_for(c.get(), milliseconds(50)));
}

TEST(FaultProxyTest, BlackHoleAcceptsButConnectsToTheTargetOnlyAfterPass) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  proxy->black_hole();
  UniqueFd c = connect_to(*proxy);
  ASSERT_TRUE(send_all(c.get(), "lost").ok());
  EXPECT_TRUE(proxy->wait_until(
      [](const Stats& s) {
        return s.accepted == 1 && s.to_server.swallowed_bytes == 4;
      },
      kDeadline))
      << proxy->stats().to_string();
  EXPECT_TRUE(silent_for(c.get(), milliseconds(100)));
  EXPECT_EQ(server.counts().accepted, 0);

  proxy->pass();
  EXPECT_EQ(echo(c.get(), "found"), "found");
  EXPECT_EQ(server.counts().accepted, 1);
}

TEST(FaultProxyTest, RefuseResetsNewConnectionsAndKeepsExistingOnes) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  UniqueFd existing = connect_to(*proxy);
  EXPECT_EQ(echo(existing.get(), "before"), "before");

  proxy->refuse();
  EXPECT_EQ(read_on_new_connection(*proxy), "reset after 0 bytes");
  EXPECT_EQ(read_on_new_connection(*proxy), "reset after 0 bytes");
  EXPECT_EQ(echo(existing.get(), "during"), "during");
  Stats s = proxy->stats();
  EXPECT_EQ(s.refused, 2u);
  EXPECT_EQ(s.accepted, 3u);
  EXPECT_EQ(server.counts().accepted, 1);

  proxy->pass();
  UniqueFd later = connect_to(*proxy);
  EXPECT_EQ(echo(later.get(), "new"), "new");
  EXPECT_EQ(echo(existing.get(), "after"), "after");
}

TEST(FaultProxyTest, CutResetsEveryLiveConnectionAndNewOnesWork) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  UniqueFd a = connect_to(*proxy);
  UniqueFd b = connect_to(*proxy);
  EXPECT_EQ(echo(a.get(), "a"), "a");
  EXPECT_EQ(echo(b.get(), "b"), "b");

  proxy->cut();
  EXPECT_EQ(read_until_closed(a.get()).describe(), "reset after 0 bytes");
  EXPECT_EQ(read_until_closed(b.get()).describe(), "reset after 0 bytes");
  // The server's side was reset too.
  EXPECT_TRUE(server.wait_until([](const auto& n) { return n.ended == 2; }));
  EXPECT_EQ(server.counts().saw_eof, 0) << "closed, not reset";
  Stats s = proxy->stats();
  EXPECT_EQ(s.cut, 2u);
  EXPECT_EQ(s.open, 0u);

  UniqueFd c = connect_to(*proxy);
  EXPECT_EQ(echo(c.get(), "new"), "new");
}

TEST(FaultProxyTest, CutAfterToClientDeliversExactlyThatManyBytesThenResets) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  std::string reply = random_bytes(1000, 2);
  proxy->cut_after(Direction::kToClient, 300);
  UniqueFd c = connect_to(*proxy);
  ASSERT_TRUE(send_all(c.get(), reply).ok());
  ReadResult r = read_until_closed(c.get());
  EXPECT_EQ(r.describe(), "reset after 300 bytes");
  EXPECT_TRUE(r.bytes == reply.substr(0, r.bytes.size()));
  EXPECT_TRUE(server.wait_until([](const auto& n) { return n.ended == 1; }));
  EXPECT_TRUE(
      proxy->wait_until([](const Stats& s) { return s.cut == 1; }, kDeadline));

  // One-shot: the next connection gets all of its reply.
  UniqueFd next = connect_to(*proxy);
  EXPECT_TRUE(echo(next.get(), reply) == reply);
}

TEST(FaultProxyTest, CutAfterToServerForwardsExactlyThatManyBytes) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  proxy->cut_after(Direction::kToServer, 10);
  UniqueFd c = connect_to(*proxy);
  ASSERT_TRUE(send_all(c.get(), std::string(100, 'x')).ok());
  // The server's echo may or may not beat the reset back; the reset comes.
  ReadResult r = read_until_closed(c.get());
  EXPECT_EQ(r.end, ReadResult::End::kReset) << r.describe();
  EXPECT_TRUE(server.wait_until([](const auto& n) { return n.ended == 1; }));
  EXPECT_EQ(server.counts().received_bytes, 10u);
  EXPECT_EQ(proxy->stats().to_server.forwarded_bytes, 10u);
}

TEST(FaultProxyTest, CutAfterWaitsUntilALargeCountHasReallyBeenSent) {
  // More than the sockets' buffers hold: the proxy meets the count while
  // the client still has most of it to read, and must not reset before.
  TestServer server;
  auto proxy = start_proxy(server.address());
  const size_t count = (size_t{1} << 20) + 7;
  std::string data = random_bytes(size_t{2} << 20, 3);
  proxy->cut_after(Direction::kToClient, count);
  // A small receive window, so that the proxy's last bytes still wait in
  // its socket's send buffer when it meets the count.
  UniqueFd c = connect_with_receive_buffer(proxy->address(), 4096);
  std::jthread writer = send_in_background(c.get(), data);
  // The client reads only once the proxy has met the count, so most of
  // the bytes are still in the proxy.
  ASSERT_TRUE(proxy->wait_until(
      [&](const Stats& s) { return s.to_client.received_bytes >= count; },
      kDeadline))
      << proxy->stats().to_string();
  ReadResult r = read_until_closed(c.get());
  EXPECT_EQ(r.describe(), fmt::format("reset after {} bytes", count));
  EXPECT_TRUE(r.bytes == data.substr(0, r.bytes.size()));
}

TEST(FaultProxyTest, TargetDownResetsTheClient) {
  Result<uint16_t> port = pick_free_port();
  ASSERT_TRUE(port.ok());
  auto proxy = start_proxy({"127.0.0.1", port.value()});
  EXPECT_EQ(read_on_new_connection(*proxy), "reset after 0 bytes");
  Stats s = proxy->stats();
  EXPECT_EQ(s.upstream_failed, 1u);
  EXPECT_EQ(s.open, 0u);
}

TEST(FaultProxyTest, FiftyConcurrentConnectionsAllEchoTheirOwnBytes) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  constexpr int kConnections = 50;
  std::vector<UniqueFd> clients;
  std::vector<std::string> payloads;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(connect_to(*proxy));
    payloads.push_back(fmt::format("client {};", i) +
                       random_bytes(4000, 100 + i));
  }
  // All open at once, then all sending before any reads.
  EXPECT_TRUE(proxy->wait_until(
      [](const Stats& s) { return s.open == kConnections; }, kDeadline))
      << proxy->stats().to_string();
  for (int i = 0; i < kConnections; ++i)
    ASSERT_TRUE(send_all(clients[i].get(), payloads[i]).ok());
  for (int i = 0; i < kConnections; ++i) {
    ReadResult r = read_bytes(clients[i].get(), payloads[i].size());
    ASSERT_EQ(r.end, ReadResult::End::kComplete) << i << ": " << r.describe();
    EXPECT_TRUE(r.bytes == payloads[i]) << "client " << i << " got others'";
  }
  clients.clear();
  EXPECT_TRUE(
      proxy->wait_until([](const Stats& s) { return s.open == 0; }, kDeadline))
      << proxy->stats().to_string();
}

TEST(FaultProxyTest, StopResetsLiveConnectionsAndStopsListening) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(connect_to(*proxy));
    EXPECT_EQ(echo(clients.back().get(), "x"), "x");
  }
  proxy->delay(milliseconds(60000));  // bytes held in the proxy: dropped
  ASSERT_TRUE(send_all(clients[0].get(), "held").ok());

  proxy->stop();
  for (UniqueFd& c : clients)
    EXPECT_EQ(read_until_closed(c.get()).describe(), "reset after 0 bytes");
  EXPECT_TRUE(server.wait_until([](const auto& n) { return n.ended == 3; }));
  EXPECT_EQ(proxy->stats().open, 0u);
  EXPECT_FALSE(connect_tcp(proxy->address(), kDeadline).ok());
  proxy->stop();  // idempotent
  proxy->pass();  // does nothing, does not hang
}

TEST(FaultProxyTest, HalfCloseReachesTheServerAndItsEndComesBack) {
  struct Case {
    const char* name;
    std::function<void(FaultProxy&)> mode;
  };
  const Case cases[] = {
      {"pass", [](FaultProxy& p) { p.pass(); }},
      {"delay", [](FaultProxy& p) { p.delay(milliseconds(100)); }},
  };
  for (const auto& [name, mode] : cases) {
    SCOPED_TRACE(name);
    TestServer server;
    auto proxy = start_proxy(server.address());
    mode(*proxy);
    UniqueFd c = connect_to(*proxy);
    ASSERT_TRUE(send_all(c.get(), "hello").ok());
    ::shutdown(c.get(), SHUT_WR);
    // The end of file follows the bytes, both ways.
    ReadResult r = read_until_closed(c.get());
    EXPECT_EQ(r.describe(), "end of file after 5 bytes");
    EXPECT_EQ(r.bytes, "hello");
    EXPECT_EQ(server.counts().saw_eof, 1);
    EXPECT_TRUE(proxy->wait_until([](const Stats& s) { return s.open == 0; },
                                  kDeadline))
        << proxy->stats().to_string();
  }
}

TEST(FaultProxyTest, BlackHoleHoldsAnEndOfFileUntilPass) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  UniqueFd c = connect_to(*proxy);
  EXPECT_EQ(echo(c.get(), "ping"), "ping");
  proxy->black_hole();
  ::shutdown(c.get(), SHUT_WR);
  EXPECT_TRUE(silent_for(c.get(), milliseconds(100)));
  EXPECT_EQ(server.counts().saw_eof, 0);
  proxy->pass();
  EXPECT_EQ(read_until_closed(c.get()).describe(), "end of file after 0 bytes");
  EXPECT_EQ(server.counts().saw_eof, 1);
}

TEST(FaultProxyTest, InjectSendsBytesOnEveryConnection) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  UniqueFd a = connect_to(*proxy);
  UniqueFd b = connect_to(*proxy);
  EXPECT_EQ(echo(a.get(), "a"), "a");
  EXPECT_EQ(echo(b.get(), "b"), "b");

  proxy->inject(Direction::kToClient, "-ERR garbage\r\n");
  EXPECT_EQ(read_bytes(a.get(), 14).bytes, "-ERR garbage\r\n");
  EXPECT_EQ(read_bytes(b.get(), 14).bytes, "-ERR garbage\r\n");
  // Toward the server, as if the client had sent it: the echo comes back.
  proxy->inject(Direction::kToServer, "PING\r\n");
  EXPECT_EQ(read_bytes(a.get(), 6).bytes, "PING\r\n");
  EXPECT_EQ(read_bytes(b.get(), 6).bytes, "PING\r\n");
  Stats s = proxy->stats();
  EXPECT_EQ(s.to_client.injected_bytes, 28u);
  EXPECT_EQ(s.to_server.injected_bytes, 12u);
  EXPECT_EQ(s.to_server.forwarded_bytes, 2u);  // injected bytes not counted
}

// A request swallowed by the black hole answered by the test instead: how
// lab 03's suite fakes a server error or a garbage reply.
TEST(FaultProxyTest, InjectReachesTheClientInABlackHole) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  UniqueFd a = connect_to(*proxy);
  EXPECT_EQ(echo(a.get(), "a"), "a");
  proxy->black_hole();
  ASSERT_TRUE(send_all(a.get(), "request").ok());
  ASSERT_TRUE(proxy->wait_until(
      [](const Stats& s) { return s.to_server.swallowed_bytes == 7; },
      kDeadline));
  proxy->inject(Direction::kToClient, "-ERR injected\r\n");
  EXPECT_EQ(read_bytes(a.get(), 15).bytes, "-ERR injected\r\n");
}

TEST(FaultProxyTest, ASlowReaderMakesTheProxyStopReadingAtTheLimit) {
  TestServer server(TestServer::Kind::kSink);
  auto proxy = start_proxy(server.address());
  UniqueFd c = connect_to(*proxy);
  // More than every buffer on the way together can hold.
  std::jthread writer =
      send_in_background(c.get(), std::string(size_t{64} << 20, 'x'));
  auto queued = [](const Stats& s) {
    return s.to_server.received_bytes - s.to_server.forwarded_bytes;
  };
  // The proxy queues up to the limit for a server that does not read...
  EXPECT_TRUE(proxy->wait_until(
      [&](const Stats& s) { return queued(s) >= FaultProxy::kMaxQueuedBytes; },
      kDeadline))
      << proxy->stats().to_string();
  // ... and no further while the client keeps writing.
  EXPECT_FALSE(proxy->wait_until(
      [&](const Stats& s) {
        return queued(s) >
               FaultProxy::kMaxQueuedBytes + FaultProxy::kReadChunkBytes;
      },
      milliseconds(500)))
      << proxy->stats().to_string();
  proxy->stop();  // resets the client: the writer's send fails and it ends
}

TEST(FaultProxyTest, CapturedHoldsExactlyWhatWasForwarded) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  UniqueFd a = connect_to(*proxy);
  UniqueFd b = connect_to(*proxy);
  EXPECT_EQ(echo(a.get(), "SET k 1\r\n"), "SET k 1\r\n");
  EXPECT_EQ(echo(b.get(), "GET k\r\n"), "GET k\r\n");
  proxy->black_hole();
  ASSERT_TRUE(send_all(a.get(), "lost").ok());
  ASSERT_TRUE(proxy->wait_until(
      [](const Stats& s) { return s.to_server.swallowed_bytes == 4; },
      kDeadline));
  proxy->pass();
  b.reset();  // so that inject reaches one connection only
  ASSERT_TRUE(
      proxy->wait_until([](const Stats& s) { return s.open == 1; }, kDeadline));
  proxy->inject(Direction::kToServer, "injected");
  EXPECT_EQ(read_bytes(a.get(), 8).bytes, "injected");
  // Counted just after the write: the client may read before that.
  ASSERT_TRUE(proxy->wait_until(
      [](const Stats& s) { return s.to_client.forwarded_bytes == 24; },
      kDeadline));

  EXPECT_EQ(proxy->captured(Direction::kToServer), "SET k 1\r\nGET k\r\n");
  EXPECT_EQ(proxy->captured(Direction::kToClient),
            "SET k 1\r\nGET k\r\ninjected");
}

TEST(FaultProxyTest, WaitUntilReturnsFalseAtTheTimeout) {
  TestServer server;
  auto proxy = start_proxy(server.address());
  EXPECT_FALSE(proxy->wait_until([](const Stats& s) { return s.accepted > 0; },
                                 milliseconds(20)));
}

}  // namespace
}  // namespace kv::grader
