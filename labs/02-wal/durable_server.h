// A server on a DurableStore (durable_store.h): its command-line flags and
// its life from recovery to SIGTERM, shared by lab02-server and every later
// server that keeps its data the same way, so that --fsync means the same
// in lab03-server as in lab02-server. Inline, like lab 01's server_flags.h:
// CLI11 is compiled only into each server's main.
#pragma once

#include <signal.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/not_implemented.h"
#include "common/signals.h"
#include "durable_store.h"
#include "server.h"

namespace kv::lab02 {

// Adds --data-dir (required), --fsync, --compact-min-bytes and
// --compact-ratio. The directory goes to data_dir as typed, for messages;
// the caller copies it into options.dir after parsing.
inline void add_durable_options(CLI::App& app, DurableOptions& options,
                                std::string& data_dir) {
  app.add_option("--data-dir", data_dir,
                 "directory holding the log and checkpoints; created if "
                 "missing")
      ->required();
  const std::map<std::string, FsyncPolicy> policies{
      {"always", FsyncPolicy::kAlways},
      {"everysec", FsyncPolicy::kEverySec},
      {"never", FsyncPolicy::kNever}};
  app.add_option("--fsync", options.fsync,
                 "always: reply after fdatasync (a power cut loses no "
                 "acknowledged write); everysec: fdatasync once a second "
                 "(loses up to ~2 s); never: leave it to the kernel (loses "
                 "up to ~30 s). A crash of the process alone loses nothing "
                 "acknowledged under any of them")
      ->transform(CLI::CheckedTransformer(policies, CLI::ignore_case))
      ->default_str("always");
  app.add_option("--compact-min-bytes", options.compact_min_bytes,
                 "compact once the logs since the last checkpoint exceed "
                 "this many bytes ...")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--compact-ratio", options.compact_ratio,
                 "... and this many times the last checkpoint's size")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
}

// Recovers the store, then serves it until SIGTERM or SIGINT (which the
// caller has blocked, before any thread started); returns main's exit
// code. Recovery runs before the port opens, so a server that answers PING
// has already replayed its log.
inline int run_durable_server(std::string_view name,
                              const lab01::ServerOptions& options,
                              const DurableOptions& durable) {
  Result<std::unique_ptr<DurableStore>> store =
      Status::invalid_argument("not opened");
  try {
    store = DurableStore::open(durable);
  } catch (const NotImplemented& e) {
    // A starter copy: recovery reached a part not written yet.
    spdlog::critical("{}", e.what());
    return 70;
  }
  if (!store.ok()) {
    spdlog::error("cannot start: {}", store.status().message());
    return 1;
  }
  Result<std::unique_ptr<lab01::Server>> server =
      lab01::Server::start(options, *store.value());
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().message());
    return 1;
  }
  spdlog::info("{} listening on {}, data in {}", name,
               server.value()->address().to_string(), durable.dir.string());

  int signal_number = wait_for_termination_signal();
  spdlog::info("{}: stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  // Every reply sent was already durable; close() syncs the rest.
  server.value()->stop();
  store.value()->close();
  spdlog::info("stopped; {} keys are safe in {}", store.value()->size(),
               durable.dir.string());
  return 0;
}

}  // namespace kv::lab02
