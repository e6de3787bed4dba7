// The command-line flags of lab 01's Server (server.h), shared with every
// later lab's server that runs on it, so that --threads means the same in
// lab02-server as in lab01-server.
#pragma once

#include <CLI/CLI.hpp>

#include "server.h"

namespace kv::lab01 {

// Adds --max-connections, --max-output-bytes and --threads, filling options.
void add_server_options(CLI::App& app, ServerOptions& options);

}  // namespace kv::lab01
