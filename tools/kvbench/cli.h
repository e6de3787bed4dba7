// kvbench's command line on CLI11: every flag, its default and its check,
// and the help text (why the open loop exists, the histogram's error bound,
// examples). add_flags() binds the flags to a CliFlags; once CLI11 has
// parsed, its callback turns them into flags.options and runs validate(),
// so a bad combination is a CLI11 error like any other (exit 2 in main.cc).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "tools/kvbench/options.h"

namespace kv::kvbench {

struct CliFlags {
  Options options;  // the result, filled after a successful parse
  bool json = false;
  bool quiet = false;

  // As typed, before conversion.
  std::string server = "127.0.0.1:7001";
  int port = 0;
  std::string protocol = "inline";
  std::string duration = "10s";
  uint64_t requests = 0;
  std::string warmup = "1s";
  std::string distribution = "uniform";
  bool preload = false;
  bool no_preload = false;
  double rate = 0;
  std::string arrival = "uniform";
  std::string timeout = "5s";
};

// Adds every flag, the description and the examples to app.
void add_flags(CLI::App& app, CliFlags& flags);

}  // namespace kv::kvbench
