// See net.h.
#include "common/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace kv {
namespace {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
};

Result<SockAddr> to_sockaddr(const HostPort& address) {
  SockAddr out;
  std::string host = address.host == "localhost" ? "127.0.0.1" : address.host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    out.length = sizeof(sockaddr_in);
    out.family = AF_INET;
    return out;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    out.length = sizeof(sockaddr_in6);
    out.family = AF_INET6;
    return out;
  }
  return Status::invalid_argument(
      fmt::format("'{}' is not an IP address (use 127.0.0.1, ::1 or localhost)",
                  address.host));
}

}  // namespace

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos)
    return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero) {
  auto bad = [&](std::string_view why) {
    return Status::invalid_argument(
        fmt::format("bad address '{}': {} (want HOST:PORT)", text, why));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("an IPv6 host must be in brackets, as [::1]:PORT");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(),
                                   port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() ||
      end != port_text.data() + port_text.size() || port > 65535)
    return bad("the port must be a number from 0 to 65535");
  if (port == 0 && !allow_port_zero) return bad("port 0 is not allowed here");
  HostPort out{host.empty() ? "127.0.0.1" : std::string(host),
               static_cast<uint16_t>(port)};
  if (Result<SockAddr> sa = to_sockaddr(out); !sa.ok()) return sa.status();
  return out;
}

Result<UniqueFd> listen_tcp(const HostPort& address, int backlog) {
  Result<SockAddr> sa = to_sockaddr(address);
  if (!sa.ok()) return sa.status();
  UniqueFd fd(::socket(sa.value().family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::from_errno("socket", errno);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa.value().storage),
             sa.value().length) != 0)
    return Status::from_errno(fmt::format("bind {}", address.to_string()),
                              errno);
  if (::listen(fd.get(), backlog) != 0)
    return Status::from_errno(fmt::format("listen {}", address.to_string()),
                              errno);
  return fd;
}

Result<HostPort> local_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0)
    return Status::from_errno("getsockname", errno);
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return HostPort{text, ntohs(v6->sin6_port)};
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  return HostPort{text, ntohs(v4->sin_port)};
}

Result<UniqueFd> connect_tcp(const HostPort& address,
                             std::chrono::milliseconds timeout) {
  Result<SockAddr> sa = to_sockaddr(address);
  if (!sa.ok()) return sa.status();
  UniqueFd fd(::socket(sa.value().family,
                       SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Status::from_errno("socket", errno);
  std::string what = fmt::format("connect {}", address.to_string());
  if (::connect(fd.get(),
                reinterpret_cast<const sockaddr*>(&sa.value().storage),
                sa.value().length) != 0) {
    if (errno != EINPROGRESS) return Status::from_errno(what, errno);
    pollfd p{fd.get(), POLLOUT, 0};
    int n;
    do {
      n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    if (n == 0)
      return Status::deadline_exceeded(
          fmt::format("{}: no answer within {} ms", what, timeout.count()));
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return Status::from_errno(what, error);
  }
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

Status send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno("send", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

}  // namespace kv
