#include "common/net.h"

#include <sys/socket.h>

#include <gtest/gtest.h>

namespace kv {
namespace {

TEST(ParseHostPortTest, AcceptsTheFormsDocumented) {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
  };
  for (const Case& c :
       {Case{"127.0.0.1:7001", "127.0.0.1", 7001},
        Case{":7001", "127.0.0.1", 7001}, Case{"localhost:0", "localhost", 0},
        Case{"[::1]:65535", "::1", 65535}}) {
    SCOPED_TRACE(c.text);
    Result<HostPort> parsed = parse_host_port(c.text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
    EXPECT_EQ(parsed.value().host, c.host);
    EXPECT_EQ(parsed.value().port, c.port);
  }
}

TEST(ParseHostPortTest, RejectsBadInputWithAReason) {
  for (const char* text :
       {"", "7001", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:70x", "::1:7001", "example.com:80", "1.2.3:80"}) {
    SCOPED_TRACE(text);
    Result<HostPort> parsed = parse_host_port(text);
    EXPECT_FALSE(parsed.ok());
  }
  EXPECT_FALSE(parse_host_port("127.0.0.1:0", /*allow_port_zero=*/false).ok());
}

TEST(NetTest, ListenConnectAndSendOnLoopback) {
  Result<UniqueFd> listener = listen_tcp({"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok()) << listener.status().to_string();
  Result<HostPort> bound = local_address(listener.value().get());
  ASSERT_TRUE(bound.ok());
  ASSERT_NE(bound.value().port, 0);

  Result<UniqueFd> client =
      connect_tcp(bound.value(), std::chrono::milliseconds(5000));
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  UniqueFd server(::accept(listener.value().get(), nullptr, nullptr));
  ASSERT_TRUE(server.valid());

  ASSERT_TRUE(send_all(client.value().get(), "hello").ok());
  char buffer[5];
  ASSERT_EQ(::recv(server.get(), buffer, 5, MSG_WAITALL), 5);
  EXPECT_EQ(std::string(buffer, 5), "hello");
}

TEST(NetTest, ConnectToAClosedPortIsAnError) {
  Result<UniqueFd> listener = listen_tcp({"127.0.0.1", 0});
  ASSERT_TRUE(listener.ok());
  HostPort address = local_address(listener.value().get()).value();
  listener.value().reset();  // nothing listens there any more
  Result<UniqueFd> client =
      connect_tcp(address, std::chrono::milliseconds(5000));
  EXPECT_FALSE(client.ok());
}

}  // namespace
}  // namespace kv
