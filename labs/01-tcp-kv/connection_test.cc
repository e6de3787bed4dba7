// serve_requests on bytes alone: framing, order, partial requests, the
// output limit and the two reasons to close. No sockets.
#include "connection.h"

#include <gtest/gtest.h>

#include <string>

namespace kv::lab01 {
namespace {

class ServeRequestsTest : public ::testing::Test {
 protected:
  Served serve(std::string bytes) {
    input_ += bytes;
    return serve_requests(input_, store_, output_, options_);
  }

  Store store_;
  ConnectionOptions options_;
  std::string input_;
  std::string output_;
};

TEST_F(ServeRequestsTest, AnswersEveryCompleteLineInOrder) {
  EXPECT_EQ(serve("SET a 1\r\nGET a\nPING\r\nGET b\r\n"), Served::kNeedMore);
  EXPECT_EQ(output_, "+OK\r\n$1\r\n1\r\n+PONG\r\n$-1\r\n");
  EXPECT_EQ(input_, "");
}

TEST_F(ServeRequestsTest, KeepsARequestCutShortForTheNextRead) {
  EXPECT_EQ(serve("PING\r\nSET k hel"), Served::kNeedMore);
  EXPECT_EQ(output_, "+PONG\r\n");
  EXPECT_EQ(input_, "SET k hel");
  EXPECT_EQ(serve("lo\r"), Served::kNeedMore);
  EXPECT_EQ(output_, "+PONG\r\n");
  EXPECT_EQ(serve("\n"), Served::kNeedMore);
  EXPECT_EQ(output_, "+PONG\r\n+OK\r\n");
  EXPECT_EQ(store_.get("k"), "hello");
}

TEST_F(ServeRequestsTest, BadLinesGetAnErrorAndTheNextLineIsServed) {
  EXPECT_EQ(serve("NOPE\r\nSET k \"open\r\n\r\nPING\r\n"), Served::kNeedMore);
  EXPECT_EQ(output_.substr(0, 5), "-ERR ");
  EXPECT_TRUE(output_.ends_with("+PONG\r\n")) << output_;
  EXPECT_EQ(std::count(output_.begin(), output_.end(), '\n'), 3)
      << "one error per bad line, nothing for the blank line: " << output_;
}

TEST_F(ServeRequestsTest, QuitAnswersAndStopsBeforeTheRest) {
  EXPECT_EQ(serve("PING\r\nQUIT\r\nSET after quit\r\n"), Served::kClose);
  EXPECT_EQ(output_, "+PONG\r\n+OK\r\n");
  EXPECT_FALSE(store_.contains("after"));
}

TEST_F(ServeRequestsTest, LineOverTheLimitGetsAnErrorAndCloses) {
  options_.max_line_bytes = 16;
  EXPECT_EQ(serve("PING\r\n" + std::string(17, 'x')), Served::kClose);
  EXPECT_TRUE(
      output_.starts_with("+PONG\r\n-ERR Protocol error: line too long"))
      << output_;
}

TEST_F(ServeRequestsTest, StopsAtTheOutputLimitAndResumesWhereItStopped) {
  store_.set("big", std::string(1000, 'v'));
  options_.max_output_bytes = 4096;
  std::string requests;
  for (int i = 0; i < 10; ++i) requests += "GET big\r\n";
  EXPECT_EQ(serve(requests), Served::kOutputFull);
  const size_t first = output_.size();
  EXPECT_GE(first, options_.max_output_bytes);
  EXPECT_LT(first, 10 * 1009u) << "it should have stopped early";

  // The client read everything: the rest is answered, none twice.
  std::string all = output_;
  while (!input_.empty()) {
    output_.clear();
    Served served = serve("");
    all += output_;
    if (served == Served::kNeedMore) break;
  }
  std::string want;
  for (int i = 0; i < 10; ++i)
    want += "$1000\r\n" + std::string(1000, 'v') + "\r\n";
  EXPECT_EQ(all, want);
  EXPECT_EQ(input_, "");
}

}  // namespace
}  // namespace kv::lab01
