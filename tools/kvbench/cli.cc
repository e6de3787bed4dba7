// See cli.h. The help text is the user's manual: each flag says what it
// does and its default in one sentence.
#include "tools/kvbench/cli.h"

#include <fmt/format.h>

#include "common/flags.h"
#include "common/version.h"
#include "tools/kvbench/histogram.h"
#include "tools/kvbench/value_codec.h"

namespace kv::kvbench {
namespace {

constexpr const char* kDescription =
    R"(kvbench: a load generator for servers that speak kvlab's client protocol
(Redis RESP2: lab01-server and the later labs, and redis-server itself), so
that two servers can be measured with the same workload.

Closed loop (the default), as redis-benchmark: each connection writes a batch
of --pipeline requests, waits for all their replies, then sends the next
batch; a request's latency runs from its batch's write to its own reply.

Open loop (--rate): requests go out at their scheduled times whether or not
earlier replies have arrived, and each latency counts from the scheduled
time, not from when it was written. A closed-loop client stops sending while
the server stalls, so a 300 ms stall shows up as one slow request, while the
users who would have arrived during it see hundreds (coordinated omission).
The open loop measures what those users would see.

Every reply is checked: SET must get +OK, and a GET must return a value
written for that key (values carry their key, writer and sequence number).
Latency percentiles come from a log-linear histogram, each within 1/256
(0.4 %) of the true sample; count, min and max are exact.
)";

constexpr const char* kFooter = R"(Examples:
  lab01-server (inline protocol, 127.0.0.1:7001), 16 connections, 10 s:
    kvbench
  redis-server on port 7102, pipelined SETs only:
    kvbench -p 7102 --protocol resp -P 16 --read-ratio 0
  open loop at 20000 ops/s with Poisson arrivals, 30 s:
    kvbench --rate 20000 --arrival poisson -d 30s
  a fixed number of requests, every GET checked against the last SET:
    kvbench -n 200000 --verify --distribution zipfian

Exit status: 0 the run completed without errors; 1 errors or wrong replies
were found, or the run stopped on a failed connection (the partial result is
printed); 2 bad flags, or a connection could not be made; 130 interrupted by
SIGINT or SIGTERM (the partial result is printed).)";

// CLI11 prints each description on one line however long; this wraps it
// into the column beside the flag names, so --help reads in 80 columns.
class WrappingFormatter : public CLI::Formatter {
 public:
  static constexpr size_t kNameColumn = 28;
  static constexpr size_t kWidth = 80;

  std::string make_option_desc(const CLI::Option* option) const override {
    std::string out, line;
    std::string_view text = option->get_description();
    while (!text.empty()) {
      size_t space = text.find(' ');
      std::string_view word = text.substr(0, space);
      if (!line.empty() &&
          line.size() + 1 + word.size() > kWidth - kNameColumn) {
        out += line + "\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + std::string(word);
      text = space == std::string_view::npos ? "" : text.substr(space + 1);
    }
    return out + line;
  }
};

CLI::Validator duration_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        Result<std::chrono::nanoseconds> d = parse_duration(text);
        return d.ok() ? std::string() : d.status().message();
      },
      "DURATION");
}

CLI::Validator open_unit_interval() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || !(value > 0) ||
            !(value < 1))
          return fmt::format("{} is not between 0 and 1 (both excluded)", text);
        return std::string();
      },
      "(0,1)");
}

// After a successful parse: the typed strings to Options, then the checks
// that involve more than one flag.
struct GivenFlags {
  CLI::Option* requests = nullptr;
  CLI::Option* preload = nullptr;
  CLI::Option* no_preload = nullptr;
  CLI::Option* rate = nullptr;
};

void finish(CliFlags& f, const GivenFlags& given) {
  Options& o = f.options;
  o.server = parse_host_port(f.server).value();  // checked by its validator
  if (f.port != 0) o.server.port = static_cast<uint16_t>(f.port);
  o.protocol = f.protocol == "resp" ? Protocol::kResp : Protocol::kInline;
  o.duration = parse_duration(f.duration).value();
  if (given.requests->count() > 0) o.requests = f.requests;
  o.warmup = parse_duration(f.warmup).value();
  o.distribution = f.distribution == "zipfian" ? Distribution::kZipfian
                                               : Distribution::kUniform;
  if (given.preload->count() > 0 && given.no_preload->count() > 0)
    throw CLI::ValidationError(
        "--preload and --no-preload contradict each other");
  o.preload = given.preload->count() > 0      ? true
              : given.no_preload->count() > 0 ? false
                                              : o.read_ratio > 0;
  if (given.rate->count() > 0) o.rate = f.rate;
  o.arrival = f.arrival == "poisson" ? Arrival::kPoisson : Arrival::kUniform;
  o.timeout = parse_duration(f.timeout).value();
  if (Status s = validate(o); !s.ok()) throw CLI::ValidationError(s.message());
}

}  // namespace

void add_flags(CLI::App& app, CliFlags& f) {
  Options& o = f.options;
  app.description(kDescription);
  app.footer(kFooter);
  app.set_version_flag("--version", std::string(kVersion));
  auto formatter = std::make_shared<WrappingFormatter>();
  formatter->column_width(WrappingFormatter::kNameColumn);
  app.formatter(formatter);
  GivenFlags given;

  app.add_option("--server", f.server,
                 "The server's address (default 127.0.0.1:7001, "
                 "lab01-server's).")
      ->option_text("HOST:PORT")
      ->check(host_port_validator());
  app.add_option("-p,--port", f.port,
                 "Overrides the port of --server only, like redis-benchmark's "
                 "-p (default: the port of --server).")
      ->option_text("PORT")
      ->check(CLI::Range(1, 65535));
  app.add_option("--protocol", f.protocol,
                 "inline sends `SET key value` lines (labs 01-02; Redis "
                 "accepts them too), resp sends RESP multibulk arrays (lab 03 "
                 "on, Redis) (default inline).")
      ->option_text("inline|resp")
      ->check(CLI::IsMember({"inline", "resp"}));

  app.add_option("-c,--connections", o.connections,
                 fmt::format("Connections to open, all kept busy (default "
                             "16, at most {}).",
                             kMaxConnections))
      ->option_text("N")
      ->check(CLI::Range(1, kMaxConnections));
  auto* pipeline =
      app.add_option("-P,--pipeline", o.pipeline,
                     "Closed loop: requests each connection writes in one "
                     "batch before it waits for all their replies (default "
                     "1).")
          ->option_text("N")
          ->check(CLI::Range(1, kMaxPipeline));
  app.add_option("--threads", o.threads,
                 "Worker threads, each running one epoll loop over its share "
                 "of the connections (default 1: on a 2-core machine the load "
                 "generator must leave the server a core).")
      ->option_text("N")
      ->check(CLI::Range(1, 1024));

  auto* duration =
      app.add_option("-d,--duration", f.duration,
                     "Length of the measured phase: 10s, 500ms, 2m; a bare "
                     "number is seconds (default 10s).")
          ->option_text("TIME")
          ->check(duration_validator());
  given.requests =
      app.add_option("-n,--requests", f.requests,
                     "Measure exactly N requests instead of a duration "
                     "(default: use --duration).")
          ->option_text("N")
          ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 48))
          ->excludes(duration);
  app.add_option("--warmup", f.warmup,
                 "Time before the measured phase during which requests are "
                 "sent but not counted (default 1s).")
      ->option_text("TIME")
      ->check(duration_validator());
  app.add_option("--timeout", f.timeout,
                 "A connection with requests outstanding and no reply for "
                 "this long stops the run, as does one the server closes "
                 "(default 5s).")
      ->option_text("TIME")
      ->check(duration_validator());

  app.add_option("--keys", o.keys,
                 fmt::format("Size of the key space: key:0 to key:<K-1> "
                             "(default 100000, at most {}).",
                             kMaxKeys))
      ->option_text("K")
      ->check(CLI::Range(uint64_t{1}, kMaxKeys));
  app.add_option(
         "--value-size", o.value_size,
         fmt::format("Bytes per value, at least {}: a value says "
                     "which key, connection and write it is (default "
                     "64; at most {} with resp, {} inline).",
                     kMinValueBytes, kMaxValueBytes, kMaxInlineValueBytes))
      ->option_text("BYTES")
      ->check(CLI::Range(kMinValueBytes, kMaxValueBytes));
  app.add_option("--read-ratio", o.read_ratio,
                 "Fraction of requests that are GETs, the rest SETs: 0 is all "
                 "SET, 1 all GET (default 0.5).")
      ->option_text("R")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--distribution", f.distribution,
                 "How keys are picked: uniform, or zipfian with key:0 the "
                 "most popular (default uniform).")
      ->option_text("uniform|zipfian")
      ->check(CLI::IsMember({"uniform", "zipfian"}));
  app.add_option("--zipf-theta", o.zipf_theta,
                 "Skew of the zipfian distribution, between 0 and 1; larger "
                 "is more skewed (default 0.99, as YCSB).")
      ->option_text("THETA")
      ->check(open_unit_interval());
  app.add_option("--seed", o.seed,
                 "Seed of every random choice, so that a run can be repeated "
                 "(default 1).")
      ->option_text("N");
  given.preload = app.add_flag(
      "--preload", f.preload,
      "Before the warm-up, SET every key once (pipelined, not measured), so "
      "GETs find values and a nil is an error (default: on when --read-ratio "
      "> 0).");
  given.no_preload =
      app.add_flag("--no-preload", f.no_preload,
                   "Skip the preload: GETs of keys not yet written may return "
                   "nil (default: off when --read-ratio > 0).");
  app.add_flag("--verify", o.verify,
               "Give each connection keys of its own and check every GET "
               "against the last SET it sent for that key; stale or missing "
               "values fail the run (default off).");

  given.rate =
      app.add_option("--rate", f.rate,
                     "Open loop: total requests per second, spread evenly "
                     "over the connections and sent on schedule whatever the "
                     "replies do (default: closed loop).")
          ->option_text("OPS")
          ->check(CLI::PositiveNumber)
          ->excludes(pipeline);
  app.add_option("--arrival", f.arrival,
                 "Open loop: uniform sends at even intervals, poisson at "
                 "random exponential gaps of the same mean (default "
                 "uniform).")
      ->option_text("uniform|poisson")
      ->check(CLI::IsMember({"uniform", "poisson"}))
      ->needs(given.rate);
  app.add_option("--max-outstanding", o.max_outstanding,
                 "Open loop: unanswered requests a connection may have; a "
                 "request due beyond that waits, keeping its scheduled time, "
                 "and the report says how often (default 10000).")
      ->option_text("N")
      ->check(CLI::Range(size_t{1}, size_t{10000000}))
      ->needs(given.rate);

  app.add_flag("--json", f.json,
               "Print one JSON object (fields in tools/kvbench/report.h) "
               "instead of the table (default: the table).");
  app.add_flag("-q,--quiet", f.quiet,
               "No progress line on stderr; it is shown once a second when "
               "a run lasts 3 s or more (default: shown).");

  app.callback([&f, given] { finish(f, given); });
}

}  // namespace kv::kvbench
