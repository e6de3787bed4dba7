// See server_flags.h.
#include "server_flags.h"

namespace kv::lab01 {

void add_server_options(CLI::App& app, ServerOptions& options) {
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
