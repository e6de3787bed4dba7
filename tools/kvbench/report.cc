// See report.h for the fields; this file only renders them.
#include "tools/kvbench/report.h"

#include <fmt/format.h>

namespace kv::kvbench {
namespace {

constexpr ErrorKind kAllKinds[] = {
    ErrorKind::kErrorReply, ErrorKind::kUnexpectedReply,
    ErrorKind::kWrongValue, ErrorKind::kMissingValue,
    ErrorKind::kStaleRead,  ErrorKind::kMalformedReply,
    ErrorKind::kConnection,
};

double to_us(uint64_t ns) { return static_cast<double>(ns) / 1e3; }

// Latency for a person: three significant figures and a unit that fits.
std::string human_latency(double ns) {
  if (ns < 1e3) return fmt::format("{:.0f} ns", ns);
  if (ns < 1e6) return fmt::format("{:.3g} us", ns / 1e3);
  if (ns < 1e9) return fmt::format("{:.3g} ms", ns / 1e6);
  return fmt::format("{:.3g} s", ns / 1e9);
}

std::string mode_text(const Options& o) {
  if (o.open_loop())
    return fmt::format("open loop at {:g} ops/s ({} arrivals)", *o.rate,
                       arrival_name(o.arrival));
  return fmt::format("closed loop, pipeline {}", o.pipeline);
}

}  // namespace

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::kConnect:
      return "connect";
    case Phase::kPreload:
      return "preload";
    case Phase::kWarmup:
      return "warmup";
    case Phase::kMeasure:
      return "measure";
    case Phase::kDrain:
      return "drain";
    case Phase::kDone:
      return "done";
  }
  return "unknown";
}

void ErrorSummary::add(ErrorKind kind, std::string message) {
  auto i = static_cast<size_t>(kind);
  ++counts[i];
  if (examples[i].size() < kExamplesPerKind)
    examples[i].push_back(std::move(message));
}

void ErrorSummary::merge(const ErrorSummary& other) {
  for (size_t i = 0; i < counts.size(); ++i) {
    counts[i] += other.counts[i];
    for (const std::string& example : other.examples[i])
      if (examples[i].size() < kExamplesPerKind) examples[i].push_back(example);
  }
}

uint64_t ErrorSummary::total() const {
  uint64_t sum = 0;
  for (uint64_t c : counts) sum += c;
  return sum;
}

void ScheduleStats::merge(const ScheduleStats& other) {
  max_lag_ns = std::max(max_lag_ns, other.max_lag_ns);
  late_requests += other.late_requests;
  max_outstanding_hits += other.max_outstanding_hits;
}

int exit_code(const Report& report) {
  if (report.interrupted) return 130;
  if (!report.failure.empty() || report.errors.total() > 0) return 1;
  return 0;
}

std::string format_table(const Report& r) {
  const Options& o = r.options;
  std::string out;
  auto line = [&out](std::string_view label, const std::string& text) {
    fmt::format_to(std::back_inserter(out), "  {:<12}{}\n", label, text);
  };
  fmt::format_to(std::back_inserter(out), "kvbench {} ({}), {}\n",
                 o.server.to_string(), protocol_name(o.protocol), mode_text(o));
  line("load", fmt::format("{} connections on {} thread{}", o.connections,
                           o.threads, o.threads == 1 ? "" : "s"));
  line("workload", fmt::format("{} keys ({}{}), {}-byte values, {:g}% GET{}{}",
                               o.keys, distribution_name(o.distribution),
                               o.distribution == Distribution::kZipfian
                                   ? fmt::format(", theta {:g}", o.zipf_theta)
                                   : "",
                               o.value_size, o.read_ratio * 100,
                               o.preload ? ", preloaded" : "",
                               o.verify ? ", verified" : ""));
  line("measured",
       o.requests.has_value()
           ? fmt::format("{} requests after {} of warm-up", *o.requests,
                         format_duration(o.warmup))
           : fmt::format("{} after {} of warm-up", format_duration(o.duration),
                         format_duration(o.warmup)));
  if (r.interrupted || !r.failure.empty())
    line("STOPPED", fmt::format("{} in the {} phase: figures are partial",
                                r.interrupted ? "interrupted" : "on an error",
                                phase_name(r.stopped_in)));
  out += "\n";
  line("throughput",
       o.open_loop()
           ? fmt::format("{:.0f} ops/s (target {:g})", r.ops_per_sec(), *o.rate)
           : fmt::format("{:.0f} ops/s", r.ops_per_sec()));
  line("requests",
       fmt::format("{} in {:.3f} s ({} GET, {} of them nil; {} SET)",
                   r.requests, r.elapsed_s, r.gets, r.nils, r.sets));
  const Histogram& h = r.latency;
  if (h.count() > 0) {
    line("latency",
         fmt::format("p50 {}   p90 {}   p99 {}   p99.9 {}",
                     human_latency(static_cast<double>(h.percentile(50))),
                     human_latency(static_cast<double>(h.percentile(90))),
                     human_latency(static_cast<double>(h.percentile(99))),
                     human_latency(static_cast<double>(h.percentile(99.9)))));
    line("", fmt::format("max {}   mean {}   min {}",
                         human_latency(static_cast<double>(h.max())),
                         human_latency(h.mean()),
                         human_latency(static_cast<double>(h.min()))));
  } else {
    line("latency", "no measured requests");
  }
  if (o.open_loop()) {
    const ScheduleStats& s = r.schedule;
    std::string kept = s.late_requests == 0
                           ? "every request sent within 1 ms of its time"
                           : fmt::format("{} of {} requests sent >= 1 ms late",
                                         s.late_requests, r.requests);
    line("schedule",
         fmt::format("{}, worst {} late", kept,
                     human_latency(static_cast<double>(s.max_lag_ns))));
    // A few late sends are the scheduler's hiccups; many mean the
    // generator could not keep the rate, and latencies include its lag.
    if (s.late_requests * 100 > r.requests)
      line("",
           "BEHIND SCHEDULE: latencies count from the intended time, so "
           "they include the generator's lag; lower --rate or add "
           "--threads");
    if (s.max_outstanding_hits > 0)
      line("cap", fmt::format("--max-outstanding {} reached {} times: "
                              "requests waited for replies before being sent",
                              o.max_outstanding, s.max_outstanding_hits));
  }
  if (r.preloaded_keys > 0 || r.warmup_requests > 0)
    line("unmeasured", fmt::format("{} preload SETs, {} warm-up requests",
                                   r.preloaded_keys, r.warmup_requests));
  if (r.errors.total() == 0) {
    line("errors", "none");
  } else {
    std::string counts;
    for (ErrorKind kind : kAllKinds)
      if (r.errors.count(kind) > 0)
        counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ",
                              r.errors.count(kind), error_kind_name(kind));
    line("ERRORS", counts);
    for (ErrorKind kind : kAllKinds)
      for (const std::string& example :
           r.errors.examples[static_cast<size_t>(kind)])
        line("", fmt::format("{}: {}", error_kind_name(kind), example));
  }
  if (!r.failure.empty()) line("failure", r.failure);
  return out;
}

nlohmann::json to_json(const Report& r) {
  using nlohmann::json;
  const Options& o = r.options;
  json config = {
      {"server", o.server.to_string()},
      {"protocol", protocol_name(o.protocol)},
      {"mode", o.open_loop() ? "open" : "closed"},
      {"connections", o.connections},
      {"pipeline", o.pipeline},
      {"threads", o.threads},
      {"duration_s", o.requests.has_value()
                         ? json(nullptr)
                         : json(static_cast<double>(o.duration.count()) / 1e9)},
      {"requests", o.requests.has_value() ? json(*o.requests) : json(nullptr)},
      {"warmup_s", static_cast<double>(o.warmup.count()) / 1e9},
      {"keys", o.keys},
      {"value_size", o.value_size},
      {"read_ratio", o.read_ratio},
      {"distribution", distribution_name(o.distribution)},
      {"zipf_theta", o.zipf_theta},
      {"seed", o.seed},
      {"preload", o.preload},
      {"rate", o.rate.has_value() ? json(*o.rate) : json(nullptr)},
      {"arrival", arrival_name(o.arrival)},
      {"max_outstanding", o.max_outstanding},
      {"verify", o.verify},
      {"timeout_s", static_cast<double>(o.timeout.count()) / 1e9},
  };
  const Histogram& h = r.latency;
  json errors = {{"total", r.errors.total()}};
  json examples = json::array();
  for (ErrorKind kind : kAllKinds) {
    errors[std::string(error_kind_name(kind))] = r.errors.count(kind);
    for (const std::string& example :
         r.errors.examples[static_cast<size_t>(kind)])
      examples.push_back(
          {{"kind", error_kind_name(kind)}, {"message", example}});
  }
  json schedule = nullptr;
  if (o.open_loop())
    schedule = {
        {"max_ms", static_cast<double>(r.schedule.max_lag_ns) / 1e6},
        {"late_requests", r.schedule.late_requests},
        {"late_threshold_ms", static_cast<double>(kLateThresholdNs) / 1e6},
        {"max_outstanding_hits", r.schedule.max_outstanding_hits},
    };
  return {
      {"config", config},
      {"ops_per_sec", r.ops_per_sec()},
      {"requests", r.requests},
      {"gets", r.gets},
      {"sets", r.sets},
      {"nils", r.nils},
      {"elapsed_s", r.elapsed_s},
      {"latency_us",
       {{"p50", to_us(h.percentile(50))},
        {"p90", to_us(h.percentile(90))},
        {"p99", to_us(h.percentile(99))},
        {"p999", to_us(h.percentile(99.9))},
        {"max", to_us(h.max())},
        {"mean", h.mean() / 1e3},
        {"min", to_us(h.min())}}},
      {"errors", errors},
      {"error_examples", examples},
      {"failure", r.failure.empty() ? json(nullptr) : json(r.failure)},
      {"interrupted", r.interrupted},
      {"stopped_in", phase_name(r.stopped_in)},
      {"preloaded_keys", r.preloaded_keys},
      {"warmup_requests", r.warmup_requests},
      {"behind_schedule", schedule},
      {"exit_code", exit_code(r)},
  };
}

}  // namespace kv::kvbench
