// Lab 01's serve_requests, evolved: the same loop over a connection's
// input, framed by request_parser.h, so one connection may mix inline
// lines (telnet) and multibulk arrays (redis-cli, kv::lab03::Client).
// Plugged into lab 01's event loop through ConnectionOptions::serve.
#pragma once

#include <string>

#include "connection.h"  // lab 01: Served, ConnectionOptions
#include "store.h"

namespace kv::lab03 {

// As lab01::serve_requests, with options.max_line_bytes as the inline limit
// and request_parser.h's limits for multibulk requests.
lab01::Served serve_requests(std::string& input, lab01::Store& store,
                             std::string& output,
                             const lab01::ConnectionOptions& options);

}  // namespace kv::lab03
