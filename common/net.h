// TCP plumbing that no lab teaches: parsing HOST:PORT, opening a listening
// socket, connecting with a deadline, writing a whole buffer. IPv4 and IPv6
// literals and "localhost"; no other name resolution, since every kvlab
// process talks over loopback or to addresses given on its command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/unique_fd.h"

namespace kv {

struct HostPort {
  std::string host;  // "127.0.0.1", "::1", "0.0.0.0", "localhost"
  uint16_t port = 0;

  std::string to_string() const;  // "[::1]:7001" for IPv6
};

// Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (host 127.0.0.1). The port may
// be 0 (any free port) only when allow_port_zero.
Result<HostPort> parse_host_port(std::string_view text,
                                 bool allow_port_zero = true);

// A listening TCP socket with SO_REUSEADDR, close-on-exec, bound to address.
Result<UniqueFd> listen_tcp(const HostPort& address, int backlog = 511);

// The address a bound socket actually has (to learn the port after port 0).
Result<HostPort> local_address(int fd);

// Connects within timeout. The socket is left blocking, close-on-exec, with
// TCP_NODELAY set (kvlab's requests are small and latency-sensitive).
Result<UniqueFd> connect_tcp(const HostPort& address,
                             std::chrono::milliseconds timeout);

// Writes all of data, retrying short writes and EINTR; never raises SIGPIPE.
Status send_all(int fd, std::string_view data);

}  // namespace kv
