// The grader's RESP client against a scripted peer on a real socket: a
// reply cut short, garbage, a close, silence.
#include "resp_client.h"

#include <sys/socket.h>

#include <thread>

#include <gtest/gtest.h>

namespace kv::grader {
namespace {

// A one-connection server that writes `script` and then closes (or, with
// hold_open, waits until the client goes away).
class ScriptedPeer {
 public:
  ScriptedPeer(std::string script, bool hold_open = false) {
    listener_ = listen_tcp({"127.0.0.1", 0}).value();
    address_ = local_address(listener_.get()).value();
    thread_ = std::jthread([this, script, hold_open] {
      UniqueFd peer(::accept(listener_.get(), nullptr, nullptr));
      (void)send_all(peer.get(), script);
      if (hold_open) {
        char c;
        while (::recv(peer.get(), &c, 1, 0) > 0) {
        }
      }
    });
  }
  const HostPort& address() const { return address_; }

 private:
  UniqueFd listener_;
  HostPort address_;
  std::jthread thread_;
};

Client connect_to(const ScriptedPeer& peer) {
  return Client::connect(peer.address()).value();
}

TEST(ClientTest, ParsesEveryReplyKind) {
  ScriptedPeer peer(
      "+OK\r\n-ERR no\r\n:42\r\n$5\r\na\r\nbc\r\n$-1\r\n$0\r\n\r\n");
  Client c = connect_to(peer);
  EXPECT_TRUE(c.read_reply().value().is_simple("OK"));
  Reply error = c.read_reply().value();
  EXPECT_TRUE(error.is_error());
  EXPECT_EQ(error.text, "ERR no");
  EXPECT_TRUE(c.read_reply().value().is_integer(42));
  EXPECT_TRUE(c.read_reply().value().is_bulk("a\r\nbc"));
  EXPECT_TRUE(c.read_reply().value().is_null());
  EXPECT_TRUE(c.read_reply().value().is_bulk(""));
  EXPECT_EQ(c.read_reply().status().code(), StatusCode::kUnavailable);
}

TEST(ClientTest, MalformedRepliesAreDataLoss) {
  for (const char* script :
       {"?what\r\n", ":12x\r\n", "$abc\r\n", "$3\r\nabcd\r\n", "\r\n"}) {
    SCOPED_TRACE(script);
    ScriptedPeer peer(script);
    Client c = connect_to(peer);
    EXPECT_EQ(c.read_reply().status().code(), StatusCode::kDataLoss);
  }
}

TEST(ClientTest, CloseInTheMiddleOfABulkIsDataLoss) {
  ScriptedPeer peer("$10\r\nabc");
  Client c = connect_to(peer);
  EXPECT_EQ(c.read_reply().status().code(), StatusCode::kDataLoss);
}

TEST(ClientTest, SilenceEndsAtTheDeadline) {
  ScriptedPeer peer("", /*hold_open=*/true);
  Client c = connect_to(peer);
  c.set_timeout(std::chrono::milliseconds(50));
  EXPECT_EQ(c.read_reply().status().code(), StatusCode::kDeadlineExceeded);
}

TEST(QuoteTest, ShowsBytesReadably) {
  EXPECT_EQ(quote("ab"), "\"ab\"");
  EXPECT_EQ(quote(std::string("\r\n\0\xff\"", 5)), R"("\r\n\x00\xff\"")");
  EXPECT_EQ(quote(std::string(100, 'x'), 3), "\"xxx\"... (100 bytes)");
}

}  // namespace
}  // namespace kv::grader
