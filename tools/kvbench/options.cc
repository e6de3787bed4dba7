// See options.h.
#include "tools/kvbench/options.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "tools/kvbench/value_codec.h"

namespace kv::kvbench {

Status validate(const Options& o) {
  auto bad = [](std::string message) {
    return Status::invalid_argument(std::move(message));
  };
  if (o.server.port == 0) return bad("--server: the port must not be 0");
  if (o.connections < 1 || o.connections > kMaxConnections)
    return bad(fmt::format("--connections must be 1 to {}", kMaxConnections));
  if (o.threads < 1 || o.threads > o.connections)
    return bad(fmt::format(
        "--threads must be 1 to --connections ({}): a thread with no "
        "connection has nothing to do",
        o.connections));
  if (o.pipeline < 1 || o.pipeline > kMaxPipeline)
    return bad(fmt::format("--pipeline must be 1 to {}", kMaxPipeline));
  if (o.open_loop() && o.pipeline != 1)
    return bad(
        "--pipeline is for the closed loop; with --rate, requests pipeline "
        "by themselves when replies are late");
  if (o.requests.has_value() && *o.requests == 0)
    return bad("--requests must be at least 1");
  if (!o.requests.has_value() && o.duration <= std::chrono::nanoseconds(0))
    return bad("--duration must be more than 0");
  if (o.warmup < std::chrono::nanoseconds(0))
    return bad("--warmup must not be negative");
  if (o.keys < 1 || o.keys > kMaxKeys)
    return bad(fmt::format("--keys must be 1 to {}", kMaxKeys));
  size_t max_value =
      o.protocol == Protocol::kInline ? kMaxInlineValueBytes : kMaxValueBytes;
  if (o.value_size < kMinValueBytes || o.value_size > max_value)
    return bad(
        fmt::format("--value-size must be {} to {} bytes with --protocol {}{}",
                    kMinValueBytes, max_value, protocol_name(o.protocol),
                    o.protocol == Protocol::kInline
                        ? " (an inline request is one line, at most 64 KiB)"
                        : ""));
  if (!(o.read_ratio >= 0 && o.read_ratio <= 1))
    return bad("--read-ratio must be from 0 to 1");
  if (!(o.zipf_theta > 0 && o.zipf_theta < 1))
    return bad("--zipf-theta must be between 0 and 1, both excluded");
  if (o.rate.has_value() && !(*o.rate > 0 && std::isfinite(*o.rate)))
    return bad("--rate must be more than 0");
  if (o.max_outstanding < 1) return bad("--max-outstanding must be at least 1");
  if (o.timeout <= std::chrono::nanoseconds(0))
    return bad("--timeout must be more than 0");
  if (o.verify && o.keys < static_cast<uint64_t>(o.connections))
    return bad(fmt::format(
        "--verify gives each connection keys of its own: --keys ({}) must be "
        "at least --connections ({})",
        o.keys, o.connections));
  return Status();
}

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  auto bad = [&] {
    return Status::invalid_argument(
        fmt::format("'{}' is not a duration (try 10s, 500ms, 1.5s, 2m)", text));
  };
  double number = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) return bad();
  std::string_view unit(end,
                        static_cast<size_t>(text.data() + text.size() - end));
  double scale;
  if (unit.empty() || unit == "s") {
    scale = 1e9;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "us") {
    scale = 1e3;
  } else if (unit == "ns") {
    scale = 1;
  } else if (unit == "m" || unit == "min") {
    scale = 60e9;
  } else if (unit == "h") {
    scale = 3600e9;
  } else {
    return bad();
  }
  double ns = number * scale;
  if (!std::isfinite(ns) || ns < 0 || ns > 1e18) return bad();
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(ns)));
}

std::string format_duration(std::chrono::nanoseconds duration) {
  int64_t ns = duration.count();
  if (ns == 0) return "0s";
  if (ns % 1000000000 == 0) return fmt::format("{}s", ns / 1000000000);
  if (ns >= 1000000000 && ns % 1000000 == 0)
    return fmt::format("{}s", static_cast<double>(ns) / 1e9);
  if (ns % 1000000 == 0) return fmt::format("{}ms", ns / 1000000);
  if (ns % 1000 == 0) return fmt::format("{}us", ns / 1000);
  return fmt::format("{}ns", ns);
}

std::string_view protocol_name(Protocol protocol) {
  return protocol == Protocol::kInline ? "inline" : "resp";
}

std::string_view distribution_name(Distribution d) {
  return d == Distribution::kUniform ? "uniform" : "zipfian";
}

std::string_view arrival_name(Arrival arrival) {
  return arrival == Arrival::kUniform ? "uniform" : "poisson";
}

}  // namespace kv::kvbench
