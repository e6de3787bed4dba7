// The command-line flags of lab 01's Server (server.h), shared with every
// later lab's server that runs on it, so that --threads means the same in
// lab02-server as in lab01-server. Inline, so that CLI11, a heavy header,
// is compiled only into each server's main, not into the lab's library
// (the grader's selftest builds that library once per known bug).
#pragma once

#include <CLI/CLI.hpp>

#include "server.h"

namespace kv::lab01 {

// Adds --max-connections, --max-output-bytes and --threads, filling options.
inline void add_server_options(CLI::App& app, ServerOptions& options) {
  app.add_option("--max-connections", options.max_connections,
                 "clients served at once; more get an -ERR and are closed")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--max-output-bytes", options.connection.max_output_bytes,
                 "replies held for a client that does not read them; past "
                 "this, its further requests wait. 1 means a write after "
                 "every reply")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--threads", options.threads,
                 "event loops, one thread each, sharing the store; 0 means one "
                 "per core")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
}

}  // namespace kv::lab01
