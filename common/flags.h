// The command-line flags every kvlab server shares (DESIGN §5), on CLI11.
// A lab adds its own flags to the same CLI::App before parsing.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "common/net.h"

namespace kv {

struct ServerFlags {
  std::string listen;  // HOST:PORT, parsed by parse_listen()
  std::string log_level = "info";
};

// Adds --listen (with the lab's default), --log-level and --version.
void add_server_flags(CLI::App& app, ServerFlags& flags,
                      std::string default_listen);

// The CLI11 validator for HOST:PORT, so a bad --listen is rejected with
// CLI11's usage message before the server starts.
CLI::Validator host_port_validator();

}  // namespace kv
