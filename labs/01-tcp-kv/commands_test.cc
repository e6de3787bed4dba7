#include "commands.h"

#include <gtest/gtest.h>

namespace kv::lab01 {
namespace {

struct Session {
  Store store;
  // Runs one request and returns its reply bytes.
  std::string run(std::vector<std::string> words, AfterReply* after = nullptr) {
    std::string out;
    AfterReply result = execute(words, store, out);
    if (after) *after = result;
    return out;
  }
};

TEST(ExecuteTest, Table) {
  Session s;
  struct Case {
    std::vector<std::string> words;
    std::string want;
  };
  const Case kCases[] = {
      {{"PING"}, "+PONG\r\n"},
      {{"ping", "hi"}, "$2\r\nhi\r\n"},
      {{"GET", "k"}, "$-1\r\n"},
      {{"SET", "k", "v"}, "+OK\r\n"},
      {{"get", "k"}, "$1\r\nv\r\n"},
      {{"GeT", "k"}, "$1\r\nv\r\n"},
      {{"EXISTS", "k"}, ":1\r\n"},
      {{"EXISTS", "k", "k", "nope"}, ":2\r\n"},
      {{"SET", "k2", ""}, "+OK\r\n"},
      {{"GET", "k2"}, "$0\r\n\r\n"},
      {{"DEL", "k", "k2", "nope"}, ":2\r\n"},
      {{"DEL", "k"}, ":0\r\n"},
      {{"EXISTS", "k"}, ":0\r\n"},
      {{"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
      {{"SET", "k"}, "-ERR wrong number of arguments for 'set' command\r\n"},
      {{"SET", "k", "v", "x"},
       "-ERR wrong number of arguments for 'set' command\r\n"},
      {{"DEL"}, "-ERR wrong number of arguments for 'del' command\r\n"},
      {{"PING", "a", "b"},
       "-ERR wrong number of arguments for 'ping' command\r\n"},
      {{"FLY"}, "-ERR unknown command 'FLY'\r\n"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.words[0]);
    EXPECT_EQ(s.run(c.words), c.want);
  }
}

TEST(ExecuteTest, QuitRepliesOkAndAsksToClose) {
  Session s;
  AfterReply after = AfterReply::kContinue;
  EXPECT_EQ(s.run({"QUIT"}, &after), "+OK\r\n");
  EXPECT_EQ(after, AfterReply::kClose);
  s.run({"PING"}, &after);
  EXPECT_EQ(after, AfterReply::kContinue);
}

TEST(ExecuteTest, BinaryValueComesBackByteForByte) {
  Session s;
  std::string value("a\0\r\n\xff", 5);
  s.run({"SET", "k", value});
  EXPECT_EQ(s.run({"GET", "k"}), "$5\r\n" + value + "\r\n");
}

TEST(ExecuteTest, UnknownCommandErrorCannotBreakFraming) {
  Session s;
  std::string reply = s.run({std::string("X\r\n+OK\0", 7)});
  // One line, ending in the one \r\n: control bytes were replaced.
  EXPECT_EQ(reply.find("\r\n"), reply.size() - 2);
  EXPECT_EQ(reply.rfind("-ERR unknown command", 0), 0u);
}

TEST(ExecuteTest, HugeUnknownCommandNameIsShortenedInTheError) {
  Session s;
  std::string reply = s.run({std::string(10000, 'z')});
  EXPECT_LT(reply.size(), 200u);
}

}  // namespace
}  // namespace kv::lab01
