// Options: one kvbench run, as the flags describe it (cli.h turns argv into
// Options; tests build them directly). validate() is the one place the
// combinations are checked, so the engine and the command line agree.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/net.h"
#include "common/status.h"
#include "tools/kvbench/request.h"
#include "tools/kvbench/workload.h"

namespace kv::kvbench {

enum class Arrival { kUniform, kPoisson };

inline constexpr int kMaxConnections = 10000;  // < the codec's 46656 writers
inline constexpr int kMaxPipeline = 100000;
inline constexpr uint64_t kMaxKeys = 1000000000;

struct Options {
  HostPort server{"127.0.0.1", 7001};
  Protocol protocol = Protocol::kInline;

  int connections = 16;
  int pipeline = 1;  // closed loop only
  int threads = 1;

  // The measured phase lasts `duration`, or until `requests` measured
  // requests were answered when that is set.
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  std::optional<uint64_t> requests;
  std::chrono::nanoseconds warmup = std::chrono::seconds(1);

  uint64_t keys = 100000;
  size_t value_size = 64;
  double read_ratio = 0.5;
  Distribution distribution = Distribution::kUniform;
  double zipf_theta = 0.99;
  uint64_t seed = 1;
  bool preload = true;  // the command line's default: read_ratio > 0

  // Open loop when set: total requests per second over all connections.
  std::optional<double> rate;
  Arrival arrival = Arrival::kUniform;
  size_t max_outstanding = 10000;

  bool verify = false;
  std::chrono::nanoseconds timeout = std::chrono::seconds(5);

  bool open_loop() const { return rate.has_value(); }
};

// kInvalidArgument naming the flag, for combinations no single flag's check
// can see (threads > connections, --verify with fewer keys than
// connections, an inline value over the line limit, ...).
Status validate(const Options& options);

// "10s", "500ms", "1.5s", "2m", "250us", "0"; a bare number is seconds.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text);
// The shortest exact form: "10s", "500ms", "1.5s".
std::string format_duration(std::chrono::nanoseconds duration);

std::string_view protocol_name(Protocol protocol);   // inline, resp
std::string_view distribution_name(Distribution d);  // uniform, zipfian
std::string_view arrival_name(Arrival arrival);      // uniform, poisson

}  // namespace kv::kvbench
