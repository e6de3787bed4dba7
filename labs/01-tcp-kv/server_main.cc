// lab01-server: flags, signals and the Server, wired together. Everything
// the lab teaches is in store, inline_parser, commands, connection,
// event_loop and server; this file only starts it and stops it on
// SIGTERM/SIGINT.
#include <signal.h>

#include <memory>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/flags.h"
#include "common/logging.h"
#include "common/signals.h"
#include "server.h"
#include "server_flags.h"
#include "store.h"

int main(int argc, char** argv) {
  // Before any thread exists, so every thread inherits the blocked mask and
  // the signals reach only the sigwait below.
  kv::block_termination_signals();

  CLI::App app{
      "lab01-server: an in-memory key-value server speaking the inline "
      "protocol with RESP replies (PING, SET, GET, DEL, EXISTS, QUIT).\n"
      "Try: telnet 127.0.0.1 7001"};
  kv::ServerFlags flags;
  kv::add_server_flags(app, flags, "127.0.0.1:7001");
  kv::lab01::ServerOptions options;
  kv::lab01::add_server_options(app, options);
  CLI11_PARSE(app, argc, argv);

  kv::init_logging(flags.log_level);
  options.listen = kv::parse_host_port(flags.listen).value();  // checked above

  kv::lab01::Store store;
  kv::Result<std::unique_ptr<kv::lab01::Server>> server =
      kv::lab01::Server::start(options, store);
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().message());
    return 1;
  }
  spdlog::info("lab01-server listening on {}",
               server.value()->address().to_string());

  int signal_number = kv::wait_for_termination_signal();
  spdlog::info("{}: stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  server.value()->stop();
  spdlog::info("stopped; {} keys were in memory and are gone", store.size());
  return 0;
}
