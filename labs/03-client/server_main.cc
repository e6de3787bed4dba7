// lab03-server: lab02-server, speaking RESP multibulk requests beside the
// inline ones (serve.h), so that redis-cli, redis-benchmark and
// kv::lab03::Client can send any bytes. Lab 01's event loop and lab 02's
// DurableStore are linked unchanged.
#include <signal.h>

#include <map>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/flags.h"
#include "common/logging.h"
#include "common/not_implemented.h"
#include "common/signals.h"
#include "durable_store.h"
#include "serve.h"
#include "server.h"
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
  app.add_option("--data-dir", data_dir,
                 "directory holding the log and checkpoints; created if "
                 "missing")
      ->required();
  const std::map<std::string, kv::lab02::FsyncPolicy> policies{
      {"always", kv::lab02::FsyncPolicy::kAlways},
      {"everysec", kv::lab02::FsyncPolicy::kEverySec},
      {"never", kv::lab02::FsyncPolicy::kNever}};
  app.add_option("--fsync", durable.fsync,
                 "always: reply after fdatasync (a power cut loses no "
                 "acknowledged write); everysec: fdatasync once a second "
                 "(loses up to ~2 s); never: leave it to the kernel (loses "
                 "up to ~30 s). A crash of the process alone loses nothing "
                 "acknowledged under any of them")
      ->transform(CLI::CheckedTransformer(policies, CLI::ignore_case))
      ->default_str("always");
  app.add_option("--compact-min-bytes", durable.compact_min_bytes,
                 "compact once the logs since the last checkpoint exceed "
                 "this many bytes ...")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--compact-ratio", durable.compact_ratio,
                 "... and this many times the last checkpoint's size")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  kv::lab01::ServerOptions options;
  kv::lab01::add_server_options(app, options);
  CLI11_PARSE(app, argc, argv);

  kv::init_logging(flags.log_level);
  options.listen = kv::parse_host_port(flags.listen).value();  // checked above
  durable.dir = data_dir;
  options.connection.serve = kv::lab03::serve_requests;

  kv::Result<std::unique_ptr<kv::lab02::DurableStore>> store =
      kv::Status::invalid_argument("not opened");
  try {
    store = kv::lab02::DurableStore::open(durable);
  } catch (const kv::NotImplemented& e) {
    // A starter copy: recovery reached a part not written yet.
    spdlog::critical("{}", e.what());
    return 70;
  }
  if (!store.ok()) {
    spdlog::error("cannot start: {}", store.status().message());
    return 1;
  }
  kv::Result<std::unique_ptr<kv::lab01::Server>> server =
      kv::lab01::Server::start(options, *store.value());
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().message());
    return 1;
  }
  spdlog::info("lab03-server listening on {}, data in {}",
               server.value()->address().to_string(), data_dir);

  int signal_number = kv::wait_for_termination_signal();
  spdlog::info("{}: stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  // Every reply sent was already durable; close() syncs the rest.
  server.value()->stop();
  store.value()->close();
  spdlog::info("stopped; {} keys are safe in {}", store.value()->size(),
               data_dir);
  return 0;
}
