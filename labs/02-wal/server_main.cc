// lab02-server: lab 01's server (linked, unchanged) on a DurableStore.
// Recovery runs before the port opens, so a server that answers PING has
// already replayed its log.
#include <string>

#include <CLI/CLI.hpp>

#include "common/flags.h"
#include "common/logging.h"
#include "common/signals.h"
#include "durable_server.h"
#include "server_flags.h"

int main(int argc, char** argv) {
  kv::block_termination_signals();

  CLI::App app{
      "lab02-server: lab 01's key-value server made durable by a "
      "write-ahead log. A write is acknowledged once it is on disk "
      "(--fsync always).\n"
      "Try: lab02-server --data-dir /tmp/kv02, then telnet 127.0.0.1 7002"};
  kv::ServerFlags flags;
  kv::add_server_flags(app, flags, "127.0.0.1:7002");
  kv::lab02::DurableOptions durable;
  std::string data_dir;
  kv::lab02::add_durable_options(app, durable, data_dir);
  kv::lab01::ServerOptions options;
  kv::lab01::add_server_options(app, options);
  CLI11_PARSE(app, argc, argv);

  kv::init_logging(flags.log_level);
  options.listen = kv::parse_host_port(flags.listen).value();  // checked above
  durable.dir = data_dir;

  return kv::lab02::run_durable_server("lab02-server", options, durable);
}
