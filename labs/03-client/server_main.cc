// lab03-server: lab02-server, speaking RESP multibulk requests beside the
// inline ones (serve.h), so that redis-cli, redis-benchmark and
// kv::lab03::Client can send any bytes. Lab 01's event loop and lab 02's
// DurableStore are linked unchanged.
#include <string>

#include <CLI/CLI.hpp>

#include "common/flags.h"
#include "common/logging.h"
#include "common/signals.h"
#include "durable_server.h"
#include "serve.h"
#include "server_flags.h"

int main(int argc, char** argv) {
  kv::block_termination_signals();

  CLI::App app{
      "lab03-server: lab 02's durable key-value server, binary-safe: it "
      "reads RESP multibulk requests as well as inline lines.\n"
      "Try: lab03-server --data-dir /tmp/kv03, then redis-cli -p 7003"};
  kv::ServerFlags flags;
  kv::add_server_flags(app, flags, "127.0.0.1:7003");
  kv::lab02::DurableOptions durable;
  std::string data_dir;
  kv::lab02::add_durable_options(app, durable, data_dir);
  kv::lab01::ServerOptions options;
  kv::lab01::add_server_options(app, options);
  CLI11_PARSE(app, argc, argv);

  kv::init_logging(flags.log_level);
  options.listen = kv::parse_host_port(flags.listen).value();  // checked above
  durable.dir = data_dir;
  options.connection.serve = kv::lab03::serve_requests;

  return kv::lab02::run_durable_server("lab03-server", options, durable);
}
