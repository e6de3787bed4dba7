// The Server over real loopback sockets, in-process. The grader's lab 01
// suite runs the same behaviours against the lab01-server process.
#include "server.h"

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kv::lab01 {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Bounds a hang, never paces a test: every read returns as soon as the
// expected bytes or end-of-file arrive.
constexpr milliseconds kHangLimit(10000);

class ServerTest : public ::testing::Test {
 protected:
  // Three loops, so connections land on different threads and share the
  // store as they do in the grader.
  void start() {
    ServerOptions options;
    options.threads = 3;
    start(options);
  }
  void start(ServerOptions options) {
    options.listen = {"127.0.0.1", 0};
    Result<std::unique_ptr<Server>> started = Server::start(options, store_);
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    server_ = std::move(started).value();
  }

  UniqueFd connect() {
    Result<UniqueFd> fd = connect_tcp(server_->address(), kHangLimit);
    EXPECT_TRUE(fd.ok()) << fd.status().to_string();
    return fd.ok() ? std::move(fd).value() : UniqueFd();
  }

  // Reads until want bytes arrived, the peer closed, or the hang limit.
  static std::string read_bytes(int fd, size_t want) {
    std::string got;
    auto deadline = steady_clock::now() + kHangLimit;
    while (got.size() < want && steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buffer[65536];
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      got.append(buffer, static_cast<size_t>(n));
    }
    return got;
  }

  // Reads until the bytes received end with suffix (or EOF, or the limit).
  static std::string read_until(int fd, std::string_view suffix) {
    std::string got;
    auto deadline = steady_clock::now() + kHangLimit;
    while (!got.ends_with(suffix) && steady_clock::now() < deadline) {
      std::string more = read_bytes(fd, 1);
      if (more.empty()) break;
      got += more;
    }
    return got;
  }

  Store store_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, AnswersPingAndKeepsData) {
  start();
  UniqueFd c = connect();
  ASSERT_TRUE(send_all(c.get(), "PING\r\nSET k v\r\nGET k\r\n").ok());
  std::string want = "+PONG\r\n+OK\r\n$1\r\nv\r\n";
  EXPECT_EQ(read_bytes(c.get(), want.size()), want);
}

TEST_F(ServerTest, ThousandPipelinedRequestsInOneWriteAnsweredInOrder) {
  start();
  UniqueFd c = connect();
  std::string requests, want;
  for (int i = 0; i < 1000; ++i) {
    requests += "SET k" + std::to_string(i) + " v" + std::to_string(i) + "\n";
    requests += "GET k" + std::to_string(i) + "\r\n";
    std::string v = "v" + std::to_string(i);
    want += "+OK\r\n$" + std::to_string(v.size()) + "\r\n" + v + "\r\n";
  }
  ASSERT_TRUE(send_all(c.get(), requests).ok());
  EXPECT_EQ(read_bytes(c.get(), want.size()), want);
}

TEST_F(ServerTest, RequestSplitAcrossWritesIsReassembled) {
  start();
  UniqueFd c = connect();
  for (char byte : std::string("SET key \"a b\"\r\nGET key\r\n")) {
    ASSERT_TRUE(send_all(c.get(), std::string(1, byte)).ok());
  }
  std::string want = "+OK\r\n$3\r\na b\r\n";
  EXPECT_EQ(read_bytes(c.get(), want.size()), want);
}

TEST_F(ServerTest, BadLinesGetErrorsAndTheConnectionGoesOn) {
  start();
  UniqueFd c = connect();
  ASSERT_TRUE(send_all(c.get(), "FLY\r\nGET\r\nSET k \"open\r\nPING\r\n").ok());
  std::string got = read_until(c.get(), "+PONG\r\n");
  EXPECT_NE(got.find("-ERR unknown command 'FLY'\r\n"), std::string::npos);
  EXPECT_NE(got.find("-ERR wrong number of arguments"), std::string::npos);
  EXPECT_NE(got.find("-ERR Protocol error: unbalanced quotes"),
            std::string::npos);
  EXPECT_TRUE(got.ends_with("+PONG\r\n")) << got;
}

TEST_F(ServerTest, LineOverTheLimitGetsAnErrorAndIsClosed) {
  ServerOptions options;
  options.threads = 3;
  options.connection.max_line_bytes = 1024;
  start(options);
  UniqueFd c = connect();
  ASSERT_TRUE(send_all(c.get(), std::string(4096, 'x')).ok());
  std::string got = read_bytes(c.get(), SIZE_MAX);
  EXPECT_TRUE(got.starts_with("-ERR Protocol error: line too long")) << got;

  UniqueFd other = connect();  // the server still serves others
  ASSERT_TRUE(send_all(other.get(), "PING\r\n").ok());
  EXPECT_EQ(read_bytes(other.get(), 7), "+PONG\r\n");
}

TEST_F(ServerTest, QuitRepliesThenCloses) {
  start();
  UniqueFd c = connect();
  ASSERT_TRUE(send_all(c.get(), "QUIT\r\nPING\r\n").ok());
  EXPECT_EQ(read_bytes(c.get(), SIZE_MAX), "+OK\r\n");
}

TEST_F(ServerTest, ClientsPastTheBoundAreRefusedWithAnError) {
  ServerOptions options;
  options.threads = 3;
  options.max_connections = 2;
  start(options);
  UniqueFd a = connect(), b = connect();
  // Make sure both are accepted before the third arrives.
  for (int fd : {a.get(), b.get()}) {
    ASSERT_TRUE(send_all(fd, "PING\r\n").ok());
    ASSERT_EQ(read_bytes(fd, 7), "+PONG\r\n");
  }
  UniqueFd refused = connect();
  EXPECT_EQ(read_bytes(refused.get(), SIZE_MAX),
            "-ERR max number of clients reached\r\n");
}

// A client pipelines far more replies than the server may hold for it and
// reads none: the server stops reading its requests (rather than buffering
// 20 MB), keeps serving others, and when the client reads at last every
// reply arrives, in order, none lost or doubled.
TEST_F(ServerTest, ClientThatDoesNotReadIsHeldBackNotDropped) {
  ServerOptions options;
  options.threads = 1;  // both clients on one loop: it must not block
  options.connection.max_output_bytes = 64 * 1024;
  start(options);
  const std::string value(10000, 'v');
  store_.set("big", value);
  UniqueFd greedy = connect(), other = connect();
  constexpr int kRequests = 2000;
  std::string requests;
  for (int i = 0; i < kRequests; ++i) requests += "GET big\r\n";
  ASSERT_TRUE(send_all(greedy.get(), requests).ok());

  ASSERT_TRUE(send_all(other.get(), "PING\r\n").ok());
  EXPECT_EQ(read_bytes(other.get(), 7), "+PONG\r\n");

  const std::string reply = "$10000\r\n" + value + "\r\n";
  std::string got = read_bytes(greedy.get(), kRequests * reply.size());
  ASSERT_EQ(got.size(), kRequests * reply.size());
  for (int i = 0; i < kRequests; ++i)
    ASSERT_EQ(got.compare(i * reply.size(), reply.size(), reply), 0)
        << "reply " << i;
}

TEST_F(ServerTest, StopReturnsWithIdleAndHalfSentClientsConnected) {
  start();
  std::vector<UniqueFd> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(connect());
  UniqueFd half = connect();
  ASSERT_TRUE(send_all(half.get(), "SET k \"unfinished").ok());
  // Wait until the server has certainly accepted them all.
  for (auto& c : idle) {
    ASSERT_TRUE(send_all(c.get(), "PING\r\n").ok());
    ASSERT_EQ(read_bytes(c.get(), 7), "+PONG\r\n");
  }
  server_->stop();  // returns only after every thread has been joined
  for (auto& c : idle) EXPECT_EQ(read_bytes(c.get(), SIZE_MAX), "");
  EXPECT_FALSE(connect_tcp(server_->address(), kHangLimit).ok());
}

}  // namespace
}  // namespace kv::lab01
