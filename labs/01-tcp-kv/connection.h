// One client connection: read bytes, cut them into requests, execute each,
// write the replies back in order. Pipelining falls out of the shape of the
// loop: every complete line in the buffer is answered before the next read,
// and all their replies leave in one write.
#pragma once

#include <cstddef>

#include "inline_parser.h"
#include "store.h"

namespace kv::lab01 {

struct ConnectionOptions {
  size_t max_line_bytes = kMaxInlineLineBytes;
};

// Serves the client on the connected, blocking socket fd until it hangs up,
// sends QUIT, sends a line over the limit (after an -ERR ... too long), or
// the socket fails. Does not close fd: its owner (Server) does.
void serve_connection(int fd, Store& store, const ConnectionOptions& options);

}  // namespace kv::lab01
