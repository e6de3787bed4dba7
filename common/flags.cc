// See flags.h.
#include "common/flags.h"

#include "common/version.h"

namespace kv {

CLI::Validator host_port_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        Result<HostPort> parsed = parse_host_port(text);
        return parsed.ok() ? std::string() : parsed.status().message();
      },
      "HOST:PORT");
}

void add_server_flags(CLI::App& app, ServerFlags& flags,
                      std::string default_listen) {
  flags.listen = std::move(default_listen);
  app.add_option("--listen", flags.listen,
                 "client address; listens beyond loopback only if asked, "
                 "the protocol has no authentication")
      ->check(host_port_validator())
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "log verbosity, to stderr")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.set_version_flag("--version", std::string(kVersion));
}

}  // namespace kv
