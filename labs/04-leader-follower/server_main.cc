// lab04-server: lab 03's server (lab 01's event loop, lab 02's log, lab 03's
// protocol, all linked unchanged) as a leader or a follower of a
// replicated pair or trio. Recovery runs, then the Node starts replicating,
// then the client port opens: a server that answers PING has its state.
#include <signal.h>

#include <memory>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/flags.h"
#include "common/logging.h"
#include "common/not_implemented.h"
#include "common/signals.h"
#include "durable_server.h"
#include "node.h"
#include "replica_commands.h"
#include "server_flags.h"

int main(int argc, char** argv) {
  kv::block_termination_signals();

  CLI::App app{
      "lab04-server: lab 03's durable server, replicated the simple way: "
      "one leader takes the writes and streams them to its followers.\n"
      "Try (three terminals):\n"
      "  lab04-server --data-dir /tmp/kv04a\n"
      "  lab04-server --data-dir /tmp/kv04b --listen :7014 --repl-listen "
      ":7114 --role follower --leader 127.0.0.1:7104\n"
      "  telnet 127.0.0.1 7004   (and 7014)"};
  kv::ServerFlags flags;
  kv::add_server_flags(app, flags, "127.0.0.1:7004");
  kv::lab02::DurableOptions durable;
  std::string data_dir;
  kv::lab02::add_durable_options(app, durable, data_dir);
  kv::lab01::ServerOptions options;
  kv::lab01::add_server_options(app, options);

  kv::lab04::NodeOptions node_options;
  std::string role = "leader", leader, repl_listen = "127.0.0.1:7104";
  int64_t sync_timeout_ms = 1000, heartbeat_ms = 100, repl_timeout_ms = 1000;
  app.add_option("--role", role,
                 "leader: takes writes; follower: copies the "
                 "leader's and refuses writes")
      ->check(CLI::IsMember({"leader", "follower"}))
      ->capture_default_str();
  app.add_option("--leader", leader,
                 "follower: the leader's replication address (its "
                 "--repl-listen), HOST:PORT")
      ->check(kv::host_port_validator());
  app.add_option("--repl-listen", repl_listen,
                 "where this node accepts followers (every node listens, so "
                 "a promoted follower can lead at once)")
      ->check(kv::host_port_validator())
      ->capture_default_str();
  app.add_option("--advertise", node_options.advertise,
                 "the client address followers name in -READONLY replies "
                 "(default: --listen)")
      ->check(kv::host_port_validator());
  app.add_option("--sync-replicas", node_options.sync_replicas,
                 "0: acknowledge a write once it is durable here "
                 "(asynchronous); N: also once N followers have it durably "
                 "(semi-synchronous)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  app.add_option("--sync-timeout-ms", sync_timeout_ms,
                 "semi-sync: how long a write waits for its followers before "
                 "the client gets -TIMEOUT")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  app.add_option("--backlog-bytes", node_options.backlog_bytes,
                 "recent writes the leader keeps for followers that "
                 "reconnect; one that needs older ones gets a full sync")
      ->check(CLI::Range(size_t{1}, size_t{1} << 34))
      ->capture_default_str();
  app.add_option("--heartbeat-ms", heartbeat_ms,
                 "an idle link carries a PING (leader) or an ACK (follower) "
                 "this often")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  app.add_option("--repl-timeout-ms", repl_timeout_ms,
                 "a link silent this long is dead: the follower dials again, "
                 "the leader stops counting it")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  kv::init_logging(flags.log_level);
  if (role == "follower" && leader.empty()) {
    spdlog::error(
        "--role follower needs --leader HOST:PORT (the leader's "
        "--repl-listen)");
    return 2;
  }
  kv::Result<kv::HostPort> leader_address = kv::parse_host_port(leader, false);
  if (role == "follower" && !leader_address.ok()) {
    spdlog::error("--leader {}: {}", leader, leader_address.status().message());
    return 2;
  }
  if (role == "leader" && !leader.empty()) {
    spdlog::error("--leader is for --role follower");
    return 2;
  }
  options.listen = kv::parse_host_port(flags.listen).value();  // checked above
  options.connection.serve = kv::lab04::serve_requests;
  durable.dir = data_dir;
  node_options.role =
      role == "leader" ? kv::lab04::Role::kLeader : kv::lab04::Role::kFollower;
  if (leader_address.ok()) node_options.leader = leader_address.value();
  node_options.repl_listen = kv::parse_host_port(repl_listen).value();
  if (node_options.advertise.empty())
    node_options.advertise = options.listen.to_string();
  node_options.sync_timeout = kv::lab04::Millis(sync_timeout_ms);
  node_options.heartbeat = kv::lab04::Millis(heartbeat_ms);
  node_options.repl_timeout = kv::lab04::Millis(repl_timeout_ms);

  kv::Result<std::unique_ptr<kv::lab02::DurableStore>> store =
      kv::Status::invalid_argument("not opened");
  kv::Result<std::unique_ptr<kv::lab04::Node>> node =
      kv::Status::invalid_argument("not started");
  try {
    store = kv::lab02::DurableStore::open(durable);
    if (store.ok()) node = kv::lab04::Node::start(node_options, *store.value());
  } catch (const kv::NotImplemented& e) {
    spdlog::critical("{}", e.what());  // a starter copy
    return 70;
  }
  if (!store.ok() || !node.ok()) {
    spdlog::error("cannot start: {}",
                  (!store.ok() ? store.status() : node.status()).message());
    return 1;
  }
  kv::lab04::register_node(*store.value(), *node.value());
  kv::Result<std::unique_ptr<kv::lab01::Server>> server =
      kv::lab01::Server::start(options, *store.value());
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().message());
    return 1;
  }
  spdlog::info("lab04-server listening on {}, replication on {}, data in {}",
               server.value()->address().to_string(),
               node.value()->repl_address().to_string(), durable.dir.string());

  int signal_number = kv::wait_for_termination_signal();
  spdlog::info("{}: stopping", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  server.value()->stop();
  node.value()->stop();
  kv::lab04::unregister_node(*store.value());
  store.value()->close();
  spdlog::info("stopped at {}", node.value()->position().to_string());
  return 0;
}
