// What one client connection does with the bytes it receives: cut them into
// requests, execute each, append the replies in order. Pure — no sockets —
// so the event loop (event_loop.h) decides when to read and write, and the
// unit tests feed it bytes directly. Pipelining falls out of the shape:
// every complete line already received is answered before the next read,
// and their replies leave together, in one write unless they pass the
// output limit.
#pragma once

#include <cstddef>
#include <string>

#include "inline_parser.h"
#include "store.h"

namespace kv::lab01 {

enum class Served {
  kNeedMore,    // every complete request was answered; wait for more bytes
  kOutputFull,  // stopped early: output reached max_output_bytes
  kClose,       // QUIT or a line over the limit: send output, then close
};

struct ConnectionOptions;

// Answers the complete requests at the front of input, in order, appending
// each reply to output, and erases the bytes it used; a request cut short
// stays in input for the next read. Stops early when output holds
// options.max_output_bytes or more.
Served serve_requests(std::string& input, Store& store, std::string& output,
                      const ConnectionOptions& options);

// The protocol the event loop speaks: lab 01's serve_requests (inline
// requests), or a later lab's that reads more (lab 03 adds RESP multibulk
// requests) while linking this lab's event loop unchanged.
using ServeRequestsFn = Served (*)(std::string& input, Store& store,
                                   std::string& output,
                                   const ConnectionOptions& options);

struct ConnectionOptions {
  ServeRequestsFn serve = serve_requests;
  size_t max_line_bytes = kMaxInlineLineBytes;
  // Replies a client has not read yet. Past this, the server stops reading
  // that client's requests until it catches up, so a client that pipelines
  // GETs of big values and never reads cannot make the server buffer
  // without bound.
  size_t max_output_bytes = 1 << 20;
};

}  // namespace kv::lab01
