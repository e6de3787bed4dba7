// The lab 02 hidden suite: lab02-server as a black box, crashed with
// SIGKILL, cut off by a simulated power loss (powercut.h), and started on
// files the grader damaged. The one promise under test: a write the server
// acknowledged is never lost, and nothing appears that no client wrote.
//
// The grader reads and damages the server's files by the format the
// handout documents (labs/02-wal/wal_format.h): log.NNNNNNNN files, a
// 16-byte header, records framed by a 4-byte little-endian length.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "powercut.h"
#include "suites.h"

namespace kv::grader {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr size_t kFileHeaderBytes = 16;

// -- what the clients know -------------------------------------------------

// One key as its writer saw it: the last write the server acknowledged
// (nullopt: deleted, or never written), and writes whose fate is unknown
// because the connection died before their reply. After a crash the key
// must hold the acknowledged value or one of those.
struct KeyHistory {
  std::optional<std::string> acked;
  std::vector<std::optional<std::string>> in_flight;
};
using Ledger = std::map<std::string, KeyHistory>;

std::string shown(const std::optional<std::string>& value) {
  return value ? quote(*value, 40) : "(nil)";
}

std::string describe(const std::string& key, const KeyHistory& history) {
  std::string out =
      history.acked ? fmt::format("the last acknowledged write was SET {} {}",
                                  key, quote(*history.acked, 40))
                    : fmt::format(
                          "it was never written, or its last "
                          "acknowledged write was DEL {}",
                          key);
  for (const auto& value : history.in_flight)
    out += fmt::format("; in flight: {}",
                       value ? "SET " + quote(*value, 40) : "DEL");
  return out;
}

// GETs every key of the ledger and fails the test if one holds a value
// that is neither acknowledged nor in flight. Then the ledger takes what
// it found as the new truth: a write in flight that survived is durable
// now, one that did not is gone for good.
void verify(TestContext& t, ServerProcess& server, Ledger& ledger,
            std::string_view after, std::string_view extra = "") {
  Client c = t.connect(server);
  for (auto& [key, history] : ledger) {
    Reply reply = t.call(c, "GET " + key);
    std::optional<std::string> got;
    if (reply.kind == Reply::Kind::kBulk) {
      got = reply.text;
    } else if (!reply.is_null()) {
      t.fail(fmt::format("after {}: GET {} replied {}", after, key,
                         reply.to_string()));
    }
    bool allowed = got == history.acked;
    for (const auto& value : history.in_flight) allowed |= got == value;
    if (!allowed) {
      std::string what =
          history.acked && !got ? fmt::format("acknowledged SET {} {} missing",
                                              key, quote(*history.acked, 40))
          : !history.acked && got
              ? fmt::format(
                    "GET {} returned {}, a value no acknowledged "
                    "write left there",
                    key, quote(*got, 40))
              : fmt::format("GET {} returned {}", key, shown(got));
      t.fail(fmt::format("{} after {} ({}){}{}", what, after,
                         describe(key, history), extra.empty() ? "" : "; ",
                         extra));
    }
    history.acked = got;
    history.in_flight.clear();
  }
}

// -- writers ---------------------------------------------------------------

struct WriterPlan {
  int writers = 16;
  int keys_per_writer = 8;
  size_t value_bytes = 16;  // padding after the unique prefix
  int del_percent = 10;
};

// Concurrent writers, each on keys of its own, until the connection fails
// or stop is set. Counts acknowledgements so that a test can crash the
// server after a chosen number of them: an event, not a delay.
class WriterPool {
 public:
  WriterPool(TestContext& t, ServerProcess& server, const WriterPlan& plan,
             int round)
      : plan_(plan), ledgers_(static_cast<size_t>(plan.writers)) {
    for (int w = 0; w < plan.writers; ++w) {
      seeds_.push_back(t.rng()());
      clients_.push_back(t.connect(server));
    }
    round_ = round;
    for (int w = 0; w < plan.writers; ++w)
      threads_.emplace_back([this, w] { run(w); });
  }

  // Waits until at least n writes were acknowledged; false if the writers
  // stopped first (their error is in error()) or nothing came for 60 s.
  bool wait_for_acks(int n) {
    std::unique_lock lock(mu_);
    return progress_.wait_for(lock, std::chrono::seconds(60), [&] {
      return acks_ >= n || finished_ == plan_.writers;
    }) && acks_ >= n;
  }

  ~WriterPool() { stop_ = true; }  // a failed test: threads_ joins next

  // Stops the writers (after a crash their calls fail on their own) and
  // merges what they saw into ledger.
  std::optional<std::string> finish(Ledger& ledger) {
    stop_ = true;
    threads_.clear();  // joins
    for (Ledger& mine : ledgers_)
      for (auto& [key, history] : mine) {
        KeyHistory& merged = ledger[key];
        if (history.acked_set) merged.acked = history.acked;
        for (auto& value : history.in_flight) merged.in_flight.push_back(value);
      }
    return error_;
  }
  int acks() {
    std::lock_guard lock(mu_);
    return acks_;
  }

 private:
  struct History {
    bool acked_set = false;
    std::optional<std::string> acked;
    std::vector<std::optional<std::string>> in_flight;
  };
  using Ledger = std::map<std::string, History>;

  void run(int w) {
    std::mt19937_64 rng(seeds_[static_cast<size_t>(w)]);
    Ledger& mine = ledgers_[static_cast<size_t>(w)];
    Client& c = clients_[static_cast<size_t>(w)];
    uint64_t seq = 0;
    while (!stop_) {
      std::string key = fmt::format(
          "w{}k{}", w, rng() % static_cast<uint64_t>(plan_.keys_per_writer));
      const bool del = static_cast<int>(rng() % 100) < plan_.del_percent;
      std::string value = fmt::format("r{}w{}s{}", round_, w, ++seq);
      value.resize(std::max(value.size(), plan_.value_bytes),
                   static_cast<char>('a' + seq % 26));
      Result<Reply> reply =
          c.call(del ? "DEL " + key : "SET " + key + " " + value);
      if (!reply.ok()) {
        // Its fate is unknown: the server may have applied and even
        // synced it before it died.
        mine[key].in_flight.push_back(del ? std::nullopt
                                          : std::optional(value));
        break;
      }
      const bool ok = del ? reply.value().kind == Reply::Kind::kInteger
                          : reply.value().is_simple("OK");
      if (!ok) {
        std::lock_guard lock(mu_);
        error_ = fmt::format("{} {} replied {}", del ? "DEL" : "SET", key,
                             reply.value().to_string());
        break;
      }
      History& history = mine[key];
      history.acked_set = true;
      history.acked = del ? std::nullopt : std::optional(value);
      std::lock_guard lock(mu_);
      ++acks_;
      progress_.notify_all();
    }
    std::lock_guard lock(mu_);
    ++finished_;
    progress_.notify_all();
  }

  const WriterPlan plan_;
  int round_ = 0;
  std::vector<uint64_t> seeds_;
  std::vector<Client> clients_;
  std::vector<Ledger> ledgers_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable progress_;
  int acks_ = 0;
  int finished_ = 0;
  std::optional<std::string> error_;
  std::vector<std::jthread> threads_;  // last: joined first
};

// -- servers ---------------------------------------------------------------

std::vector<std::string> lab02_args(const fs::path& dir,
                                    std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--data-dir", dir.string(), "--threads",
                                   "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// A data directory under this test's folder with its power-cut journal
// and stash beside it.
PowerCutFiles power_cut_files(TestContext& t, const std::string& name) {
  return {t.out_dir() / name, t.out_dir() / (name + ".journal"),
          t.out_dir() / (name + ".stash")};
}

// Starts a server on a data dir that a crash or a power cut left; one that
// does not come up fails the test saying after what.
ServerProcess& start_after(TestContext& t, std::vector<std::string> args,
                           std::vector<std::string> env,
                           std::string_view situation,
                           std::string_view extra = "") {
  Result<ServerProcess*> server =
      t.try_start_server(std::move(args), std::move(env));
  if (!server.ok())
    t.fail(fmt::format("after {}, the server did not start: {}{}{}", situation,
                       server.status().message(), extra.empty() ? "" : "; ",
                       extra));
  return *server.value();
}

// Starts a server under the power-cut interposer. situation, when not
// empty, says what the data dir has been through.
ServerProcess& start_with_power_cut(TestContext& t, const PowerCutFiles& files,
                                    std::vector<std::string> extra = {},
                                    std::optional<CrashPoint> crash_at = {},
                                    std::string_view situation = "",
                                    std::string_view note = "") {
  std::error_code error;
  fs::create_directories(files.data_dir, error);
  Result<std::vector<std::string>> env =
      crash_at ? prepare_power_cut(files, *crash_at) : prepare_power_cut(files);
  if (!env.ok())
    t.fail(fmt::format("grader: power-cut set-up failed: {}",
                       env.status().message()));
  std::vector<std::string> args = lab02_args(files.data_dir, std::move(extra));
  if (situation.empty()) return t.start_server(args, env.value());
  return start_after(t, args, env.value(), situation, note);
}

void restart(TestContext& t, ServerProcess& server, std::string_view after) {
  if (Status s = server.restart(); !s.ok())
    t.fail(fmt::format("the server did not come back after {}: {}", after,
                       s.message()));
}

// Kills the server as a power cut would and writes what the disk would
// hold into files' sibling `next`; returns the summary for diagnoses.
PowerCut cut_power(TestContext& t, ServerProcess& server,
                   const PowerCutFiles& files, const fs::path& next,
                   UnsyncedNames names = UnsyncedNames::kAllUndone) {
  if (server.process().running()) server.kill();
  Result<PowerCut> cut = power_cut_image(files, next, names);
  if (!cut.ok())
    t.fail(fmt::format("grader: power-cut image failed: {}",
                       cut.status().message()));
  return cut.value();
}

// -- files, by the handout's format ----------------------------------------

std::vector<fs::path> files_named(const fs::path& dir,
                                  std::string_view prefix) {
  std::vector<fs::path> out;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && !name.ends_with(".tmp"))
      out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Offsets of the records of a log, walking the length fields.
std::vector<size_t> record_offsets(const std::string& bytes) {
  std::vector<size_t> offsets;
  size_t offset = kFileHeaderBytes;
  while (offset + 8 <= bytes.size()) {
    uint32_t length = 0;
    for (int i = 0; i < 4; ++i)
      length |= uint32_t{static_cast<unsigned char>(bytes[offset + i])}
                << (8 * i);
    if (length == 0 || offset + 8 + length > bytes.size()) break;
    offsets.push_back(offset);
    offset += 8 + length;
  }
  return offsets;
}

// The newest log of a stopped server, with at least min_records records.
fs::path last_log(TestContext& t, const fs::path& dir, size_t min_records) {
  std::vector<fs::path> logs = files_named(dir, "log.");
  if (logs.empty())
    t.fail(
        fmt::format("no log.NNNNNNNN file in {} after writes (the "
                    "handout's file names are part of the contract)",
                    dir.string()));
  std::string bytes = read_bytes(logs.back());
  if (record_offsets(bytes).size() < min_records)
    t.fail(
        fmt::format("{} holds {} records after {} acknowledged writes; "
                    "expected one record per write in the handout's "
                    "format",
                    logs.back().filename().string(),
                    record_offsets(bytes).size(), min_records));
  return logs.back();
}

void copy_dir(const fs::path& from, const fs::path& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

// Runs the server binary on a data dir where it must refuse to start:
// returns its log, or fails if it served, hung, or crashed.
std::string expect_refusal(TestContext& t, const std::vector<std::string>& args,
                           std::string_view situation) {
  static int runs = 0;
  const fs::path log = t.out_dir() / fmt::format("refusal-{}.log", ++runs);
  Result<uint16_t> port = pick_free_port();
  if (!port.ok()) t.fail("grader: no free port");
  std::vector<std::string> argv = {"", "--listen",
                                   fmt::format("127.0.0.1:{}", port.value())};
  argv[0] = t.server_binary().string();
  argv.insert(argv.end(), args.begin(), args.end());
  Result<ChildProcess> child = ChildProcess::spawn(argv, log);
  if (!child.ok()) t.fail("grader: cannot start the server binary");
  // It must exit; if it answers on its port instead, it is serving.
  std::optional<ExitInfo> ended;
  const HostPort address{"127.0.0.1", port.value()};
  for (auto deadline = Clock::now() + std::chrono::seconds(20);
       !ended && Clock::now() < deadline;) {
    ended = child.value().wait_for(milliseconds(50));
    if (!ended && Client::connect(address, milliseconds(200)).ok()) {
      child.value().kill();
      t.fail(
          fmt::format("with {}, the server started and serves clients; "
                      "it must refuse to start with one clear message",
                      situation));
    }
  }
  if (!ended) {
    child.value().kill();
    t.fail(
        fmt::format("with {}, the server kept running for 20 s; it must "
                    "refuse to start with one clear message",
                    situation));
  }
  std::string text = read_bytes(log);
  if (!ended->exited)
    t.fail(
        fmt::format("with {}, the server died by {} instead of exiting "
                    "with an error; its log ends: {}",
                    situation, ended->to_string(), tail_of_file(log, 3)));
  if (ended->code == 0)
    t.fail(
        fmt::format("with {}, the server exited 0; a refusal must exit "
                    "non-zero",
                    situation));
  return text;
}

// -- crashes under load ----------------------------------------------------

// Rounds of concurrent writers, each ended by a crash after a random number
// of acknowledgements; the same data dir carries over from round to round.
void crash_rounds(TestContext& t, const std::string& name,
                  const WriterPlan& plan, bool power_cut,
                  std::vector<std::string> extra = {}) {
  const int rounds = t.quick() ? 2 : 4;
  Ledger ledger;
  PowerCutFiles files = power_cut_files(t, name + "-0");
  ServerProcess* server =
      power_cut ? &start_with_power_cut(t, files, extra)
                : &t.start_server(lab02_args(files.data_dir, extra));
  for (int round = 1; round <= rounds; ++round) {
    const int target = static_cast<int>(t.uniform(20, t.quick() ? 200 : 600));
    WriterPool pool(t, *server, plan, round);
    bool reached = pool.wait_for_acks(target);
    if (!reached) {
      if (std::optional<ExitInfo> ended = server->process().poll())
        t.fail(
            fmt::format("the server died on its own ({}) after {} "
                        "acknowledged writes, before the grader crashed it",
                        ended->to_string(), pool.acks()));
    }
    std::string extra_note;
    if (power_cut) {
      PowerCutFiles next =
          power_cut_files(t, fmt::format("{}-{}", name, round));
      PowerCut cut = cut_power(t, *server, files, next.data_dir);
      if (std::optional<std::string> error = pool.finish(ledger))
        t.fail(*error);
      if (!reached)
        t.fail(fmt::format("only {} writes were acknowledged in 60 s",
                           pool.acks()));
      extra_note = "power cut: " + cut.to_string();
      files = next;
      server = &start_with_power_cut(
          t, files, extra, {},
          fmt::format("a power cut (round {}, after {} acknowledged writes)",
                      round, target),
          extra_note);
    } else {
      server->kill();
      if (std::optional<std::string> error = pool.finish(ledger))
        t.fail(*error);
      if (!reached)
        t.fail(fmt::format("only {} writes were acknowledged in 60 s",
                           pool.acks()));
      restart(t, *server, "kill -9");
    }
    t.note("round {}: crashed after {} acknowledged writes", round, target);
    verify(t, *server, ledger,
           fmt::format("{} (round {}, after {} acknowledged writes)",
                       power_cut ? "a power cut" : "kill -9 and restart", round,
                       target),
           extra_note);
  }
}

void ack_survives_kill(TestContext& t) {
  crash_rounds(t, "data", WriterPlan{}, false);
}

void ack_survives_power_cut(TestContext& t) {
  crash_rounds(t, "data", WriterPlan{}, true);
}

void fsync_policies(TestContext& t) {
  WriterPlan plan;
  plan.writers = 8;
  for (const char* policy : {"everysec", "never"}) {
    t.note("--fsync {}", policy);
    crash_rounds(t, policy, plan, false, {"--fsync", policy});
  }
}

void large_values(TestContext& t) {
  WriterPlan plan;
  plan.writers = 4;
  plan.keys_per_writer = 5;
  plan.value_bytes = 60000;
  plan.del_percent = 5;
  crash_rounds(t, "kill", plan, false);
  crash_rounds(t, "cut", plan, true);
}

// -- one write at a time ---------------------------------------------------

// SET or DEL on client c, which must be acknowledged; recorded in ledger.
void acked_write(TestContext& t, Client& c, Ledger& ledger,
                 const std::string& key, std::optional<std::string> value) {
  if (value) {
    t.expect(c, "SET " + key + " " + *value, "+OK");
  } else {
    Reply reply = t.call(c, "DEL " + key);
    if (reply.kind != Reply::Kind::kInteger)
      t.fail(fmt::format("DEL {} replied {}", key, reply.to_string()));
  }
  ledger[key].acked = std::move(value);
}

void power_cut_after_ack(TestContext& t) {
  Ledger ledger;
  PowerCutFiles files = power_cut_files(t, "data-0");
  ServerProcess* server = &start_with_power_cut(t, files);
  const int rounds = t.quick() ? 3 : 6;
  for (int round = 1; round <= rounds; ++round) {
    Client c = t.connect(*server);
    std::string last;
    for (int i = 0; i < round; ++i) {
      std::string key = fmt::format("k{}", t.uniform(0, 4));
      if (ledger[key].acked && t.uniform(0, 3) == 0) {
        acked_write(t, c, ledger, key, std::nullopt);
        last = "DEL " + key;
      } else {
        std::string value = fmt::format("r{}i{}", round, i);
        acked_write(t, c, ledger, key, value);
        last = "SET " + key + " " + value;
      }
    }
    // The moment the last +OK arrived: anything not yet on stable storage
    // is gone.
    PowerCutFiles next = power_cut_files(t, fmt::format("data-{}", round));
    PowerCut cut = cut_power(t, *server, files, next.data_dir);
    files = next;
    const std::string situation =
        fmt::format("a power cut right after the +OK to {}", last);
    server = &start_with_power_cut(t, files, {}, {}, situation,
                                   "power cut: " + cut.to_string());
    verify(t, *server, ledger, situation, "power cut: " + cut.to_string());
  }
}

void del_survives_crash(TestContext& t) {
  Ledger ledger;
  PowerCutFiles files = power_cut_files(t, "data-0");
  ServerProcess* server = &start_with_power_cut(t, files);
  {
    Client c = t.connect(*server);
    for (int i = 0; i < 6; ++i)
      acked_write(t, c, ledger, fmt::format("d{}", i), fmt::format("v{}", i));
    acked_write(t, c, ledger, "d0", std::nullopt);
    acked_write(t, c, ledger, "d1", std::nullopt);
    acked_write(t, c, ledger, "d1", "again");  // DEL then SET: order kept
    acked_write(t, c, ledger, "d2", std::nullopt);
  }
  server->kill();
  restart(t, *server, "kill -9");
  verify(t, *server, ledger, "DELs, kill -9 and restart");
  {
    Client c = t.connect(*server);
    acked_write(t, c, ledger, "d3", std::nullopt);
    acked_write(t, c, ledger, "d1", std::nullopt);
  }
  PowerCutFiles next = power_cut_files(t, "data-1");
  PowerCut cut = cut_power(t, *server, files, next.data_dir);
  ServerProcess& after = start_with_power_cut(
      t, next, {}, {}, "DELs and a power cut", "power cut: " + cut.to_string());
  verify(t, after, ledger, "DELs and a power cut",
         "power cut: " + cut.to_string());
}

void graceful_stop_keeps_all(TestContext& t) {
  // --fsync never: the writes reach the disk only because the server
  // flushes them when it stops; a power cut right after the exit shows it.
  Ledger ledger;
  PowerCutFiles files = power_cut_files(t, "data-0");
  ServerProcess& server = start_with_power_cut(t, files, {"--fsync", "never"});
  {
    Client c = t.connect(server);
    for (int i = 0; i < 50; ++i)
      acked_write(t, c, ledger, fmt::format("g{}", i % 20),
                  fmt::format("v{}", i));
  }
  auto started = Clock::now();
  std::optional<ExitInfo> ended = server.stop(SIGTERM, milliseconds(5000));
  if (!ended)
    t.fail("the server did not exit within 5 s of SIGTERM (2 s expected)");
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  if (!ended->exited || ended->code != 0)
    t.fail(
        fmt::format("after SIGTERM the server ended with {}, expected "
                    "exit code 0",
                    ended->to_string()));
  if (took > milliseconds(2000))
    t.fail(
        fmt::format("the server took {} ms to exit after SIGTERM "
                    "(2 s allowed)",
                    took.count()));
  PowerCutFiles next = power_cut_files(t, "data-1");
  PowerCut cut = cut_power(t, server, files, next.data_dir);
  ServerProcess& after =
      start_with_power_cut(t, next, {}, {}, "SIGTERM and a power cut",
                           "power cut: " + cut.to_string());
  verify(t, after, ledger,
         "SIGTERM (--fsync never) and a power cut after the exit: stopping "
         "must flush",
         "power cut: " + cut.to_string());
}

void restart_twice(TestContext& t) {
  Ledger ledger;
  const fs::path dir = t.out_dir() / "data";
  ServerProcess& server = t.start_server(lab02_args(dir));
  {
    Client c = t.connect(server);
    for (int i = 0; i < 30; ++i)
      acked_write(t, c, ledger, fmt::format("t{}", i % 10),
                  fmt::format("v{}", i));
  }
  server.kill();
  restart(t, server, "kill -9");
  verify(t, server, ledger, "kill -9 and restart");
  server.kill();
  restart(t, server, "a second kill -9 with no writes between");
  verify(t, server, ledger, "a second kill -9 and restart");
  {
    Client c = t.connect(server);
    for (int i = 30; i < 40; ++i)
      acked_write(t, c, ledger, fmt::format("t{}", i % 10),
                  fmt::format("v{}", i));
  }
  server.stop(SIGTERM, milliseconds(5000));
  restart(t, server, "SIGTERM");
  verify(t, server, ledger, "writes after two restarts, SIGTERM and restart");
}

// -- damaged files ---------------------------------------------------------

// Writes n keys one by one (the last one twice, so that losing its last
// record leaves an older value), stops the server gracefully, and returns
// the ledger and the data dir.
Ledger write_then_stop(TestContext& t, const fs::path& dir, int n) {
  Ledger ledger;
  ServerProcess& server = t.start_server(lab02_args(dir));
  {
    Client c = t.connect(server);
    for (int i = 0; i < n; ++i)
      acked_write(t, c, ledger, fmt::format("f{}", i), fmt::format("v{}", i));
    acked_write(t, c, ledger, fmt::format("f{}", n - 1), "final");
  }
  std::optional<ExitInfo> ended = server.stop(SIGTERM, milliseconds(5000));
  if (!ended) t.fail("the server did not exit after SIGTERM");
  return ledger;
}

void torn_tail_truncated(TestContext& t) {
  const fs::path original = t.out_dir() / "data";
  Ledger written = write_then_stop(t, original, 10);
  const fs::path log = last_log(t, original, 11);
  const std::string bytes = read_bytes(log);
  const size_t last = record_offsets(bytes).back();
  const size_t size = bytes.size() - last;
  // Cut inside the length, right after it, after the checksum, inside the
  // payload, one byte short.
  const size_t cuts[] = {2, 4, 8, size / 2 + 4, size - 1};
  int n = 0;
  for (size_t cut : cuts) {
    const fs::path dir = t.out_dir() / fmt::format("cut-{}", ++n);
    copy_dir(original, dir);
    const fs::path torn = dir / log.filename();
    write_bytes(torn, bytes.substr(0, last + cut));
    Ledger ledger = written;
    ledger["f9"].in_flight.push_back(ledger["f9"].acked);
    ledger["f9"].acked = "v9";  // the record before the torn one
    const std::string situation =
        fmt::format("the last record of {} cut after {} of its {} bytes",
                    log.filename().string(), cut, size);
    ServerProcess& server = start_after(t, lab02_args(dir), {}, situation);
    verify(t, server, ledger, situation);
    // The cut must be real: a record appended after torn bytes would be
    // damage in the middle at the next start.
    {
      Client c = t.connect(server);
      acked_write(t, c, ledger, "after", "cut");
    }
    server.kill();
    restart(t, server, situation + ", a write and kill -9");
    verify(t, server, ledger, situation + ", a write, kill -9 and restart");
  }
}

void damaged_last_record(TestContext& t) {
  const fs::path dir = t.out_dir() / "data";
  Ledger ledger = write_then_stop(t, dir, 10);
  const fs::path log = last_log(t, dir, 11);
  std::string bytes = read_bytes(log);
  bytes.back() = static_cast<char>(bytes.back() ^ 0x5a);  // in the value
  write_bytes(log, bytes);
  ledger["f9"].in_flight.push_back(ledger["f9"].acked);
  ledger["f9"].acked = "v9";
  const std::string situation = fmt::format(
      "a flipped byte in the value of the last record of {} "
      "(its checksum no longer matches: drop it as a torn tail)",
      log.filename().string());
  ServerProcess& server = start_after(t, lab02_args(dir), {}, situation);
  verify(t, server, ledger, situation);
}

void damaged_middle_refused(TestContext& t) {
  const fs::path original = t.out_dir() / "data";
  write_then_stop(t, original, 10);
  const fs::path log = last_log(t, original, 11);
  const std::string bytes = read_bytes(log);
  const std::vector<size_t> offsets = record_offsets(bytes);
  const size_t victim = offsets[offsets.size() / 2];
  const size_t victim_end = offsets[offsets.size() / 2 + 1];
  struct Damage {
    size_t at;
    const char* what;
  };
  const Damage damages[] = {{victim_end - 1, "the last byte of its value"},
                            {victim + 3, "the high byte of its length"},
                            {victim + 5, "its checksum"}};
  int n = 0;
  for (const Damage& damage : damages) {
    const fs::path dir = t.out_dir() / fmt::format("damaged-{}", ++n);
    copy_dir(original, dir);
    std::string damaged = bytes;
    damaged[damage.at] = static_cast<char>(damaged[damage.at] ^ 0x5a);
    write_bytes(dir / log.filename(), damaged);
    const std::string situation = fmt::format(
        "a flipped byte in {} of the record at offset {} of {}, "
        "with {} good records after it",
        damage.what, victim, log.filename().string(), offsets.size() / 2);
    std::string text = expect_refusal(t, lab02_args(dir), situation);
    if (text.find(log.filename().string()) == std::string::npos ||
        text.find(std::to_string(victim)) == std::string::npos)
      t.fail(
          fmt::format("with {}, the server refused to start, but its "
                      "message does not name the file and the offset {}: "
                      "{}",
                      situation, victim, quote(text, 300)));
    if (read_bytes(dir / log.filename()) != damaged)
      t.fail(
          fmt::format("with {}, the server changed {} before refusing; "
                      "it must leave the evidence alone",
                      situation, log.filename().string()));
  }
}

void startup_errors(TestContext& t) {
  const fs::path file = t.out_dir() / "plain-file";
  write_bytes(file, "not a directory\n");
  std::string text =
      expect_refusal(t, lab02_args(file), "--data-dir naming a regular file");
  if (text.find("plain-file") == std::string::npos)
    t.fail(
        "with --data-dir naming a regular file, the message does not "
        "name the path: " +
        quote(text, 200));
  expect_refusal(t, lab02_args(file / "sub"),
                 "--data-dir under a regular file (it cannot be created)");
  const fs::path foreign = t.out_dir() / "foreign";
  fs::create_directories(foreign);
  write_bytes(foreign / "log.00000001",
              "#!/bin/sh\necho this is a shell script, not a log\n");
  text = expect_refusal(t, lab02_args(foreign),
                        "a log.00000001 that is not a log (no header)");
  if (text.find("log.00000001") == std::string::npos)
    t.fail(
        "with a log.00000001 that is not a log, the message does not "
        "name the file: " +
        quote(text, 200));
}

// -- compaction ------------------------------------------------------------

const std::vector<std::string> kSmallCompaction = {
    "--compact-min-bytes", "2048", "--compact-ratio", "2"};

// The sequential workload of the compaction tests: 8 keys, 100-byte
// values, enough writes for one compaction. Stops at the first failure (the
// server died) and records that write as in flight.
void compaction_workload(TestContext& t, ServerProcess& server, Ledger& ledger,
                         bool expect_crash) {
  Result<Client> c = Client::connect(server.address());
  if (!c.ok()) {
    if (expect_crash) return;
    t.fail("cannot connect to the server");
  }
  for (int i = 0; i < 26; ++i) {
    std::string key = fmt::format("c{}", i % 8);
    std::string value = fmt::format("w{}-{}", i, std::string(100, 'x'));
    Result<Reply> reply = c.value().call("SET " + key + " " + value);
    if (!reply.ok()) {
      if (!expect_crash)
        t.fail(fmt::format("SET {}: {}", key, reply.status().message()));
      ledger[key].in_flight.push_back(value);
      return;
    }
    if (!reply.value().is_simple("OK"))
      t.fail(fmt::format("SET {} replied {}", key, reply.value().to_string()));
    ledger[key].acked = value;
  }
}

// Waits until the data dir shows a finished compaction (a checkpoint, no
// .tmp, one log) or the server has died; true for the compaction.
bool compaction_finished(ServerProcess& server, const fs::path& dir) {
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline) {
    bool tmp = false;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error))
      tmp |= entry.path().filename().string().ends_with(".tmp");
    if (!tmp && !files_named(dir, "checkpoint.").empty() &&
        files_named(dir, "log.").size() == 1)
      return true;
    // The disk has no event to wait on; the process's end does.
    if (server.process().wait_for(milliseconds(10))) return false;
  }
  return false;
}

void compaction_every_step(TestContext& t, bool power_cut) {
  // A run without faults: which operations does a compaction make?
  PowerCutFiles probe = power_cut_files(t, "probe");
  {
    Ledger ledger;
    ServerProcess& server = start_with_power_cut(t, probe, kSmallCompaction);
    compaction_workload(t, server, ledger, false);
    if (!compaction_finished(server, probe.data_dir))
      t.fail(
          "with --compact-min-bytes 2048, 26 SETs of 100-byte values did "
          "not end in a compaction (a checkpoint.NNNNNNNN file and a "
          "single log.NNNNNNNN, no .tmp) within 20 s");
    server.kill();
  }
  Result<std::vector<FsOp>> ops = journal_ops(probe.journal);
  if (!ops.ok()) t.fail("grader: " + ops.status().message());
  // The compaction starts at its first operation on a file other than the
  // first log and the LOCK: its checkpoint or the next log.
  size_t first = 0;
  for (size_t i = 0; i < ops.value().size(); ++i) {
    const std::string& path = ops.value()[i].name;
    if (path.starts_with("checkpoint") ||
        (path.starts_with("log.") && path != "log.00000001")) {
      first = i;
      break;
    }
  }
  if (first == 0) t.fail("grader: no compaction operation in the journal");
  const size_t last = ops.value().size();
  t.note("compaction: ops {} to {} of {}", first + 1, last, last);
  size_t step = t.quick() ? 2 : 1;
  for (size_t n = first + 1; n <= last + 1; n += step) {
    const std::string name = fmt::format("crash-{}", n);
    PowerCutFiles files = power_cut_files(t, name);
    Ledger ledger;
    // Named by kind, file and occurrence, not by number: the client's
    // writes interleave with the compaction differently in every run.
    std::optional<CrashPoint> point;
    if (n <= last) point = crash_point_of(ops.value(), n - 1);
    ServerProcess& server =
        start_with_power_cut(t, files, kSmallCompaction, point);
    compaction_workload(t, server, ledger, true);
    if (compaction_finished(server, files.data_dir))
      server.kill();  // the point was not reached in this run: crash anyway
    const std::string at =
        point ? "just before " + point->to_string() : "after the compaction";
    if (!power_cut) {
      // A fresh process without the fault: the same one would crash
      // again at op n of its own run.
      const std::string situation = "kill -9 " + at + " of a compaction";
      ServerProcess& after = start_after(
          t, lab02_args(files.data_dir, kSmallCompaction), {}, situation);
      verify(t, after, ledger, situation);
      after.kill();
      continue;
    }
    for (UnsyncedNames names :
         {UnsyncedNames::kAllUndone, UnsyncedNames::kRemovalsKept}) {
      const fs::path image =
          t.out_dir() /
          fmt::format("{}-{}", name,
                      names == UnsyncedNames::kAllUndone ? "cut" : "cut-rm");
      Result<PowerCut> cut = power_cut_image(files, image, names);
      if (!cut.ok()) t.fail("grader: " + cut.status().message());
      Ledger copy = ledger;
      const std::string situation = fmt::format(
          "a power cut {} of a compaction{}", at,
          names == UnsyncedNames::kAllUndone
              ? ""
              : " (unsynced removals kept, unsynced renames and creates "
                "undone)");
      const std::string note = "power cut: " + cut.value().to_string();
      ServerProcess& after = start_after(t, lab02_args(image, kSmallCompaction),
                                         {}, situation, note);
      verify(t, after, copy, situation, note);
      after.kill();
    }
    server.kill();
  }
}

void compaction_crash_every_step(TestContext& t) {
  compaction_every_step(t, false);
}
void compaction_power_cut_every_step(TestContext& t) {
  compaction_every_step(t, true);
}

uint64_t disk_usage(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

void disk_bounded(TestContext& t) {
  const fs::path dir = t.out_dir() / "data";
  ServerProcess& server = t.start_server(lab02_args(
      dir, {"--compact-min-bytes", "65536", "--compact-ratio", "2"}));
  // 100 keys of 200 bytes: about 25 KB of live data, overwritten until
  // some 4 MB have gone through the log.
  Ledger ledger;
  const int writes = t.quick() ? 8000 : 16000;
  uint64_t worst = 0;
  {
    Client c = t.connect(server);
    for (int i = 0; i < writes; ++i) {
      std::string value = fmt::format("{}-{}", i, std::string(200, 'd'));
      t.send(c, fmt::format("SET b{} {}\r\n", i % 100, value), "SET");
      ledger[fmt::format("b{}", i % 100)].acked = value;
      if (i % 50 == 49) {
        for (int j = 0; j < 50; ++j) {
          Reply reply = t.next_reply(c, "a pipelined SET");
          if (!reply.is_simple("OK"))
            t.fail("SET replied " + reply.to_string());
        }
        worst = std::max(worst, disk_usage(dir));
      }
    }
  }
  const uint64_t bound = 1 << 20;
  if (worst > bound)
    t.fail(
        fmt::format("the data dir grew to {} bytes for about 25 KB of "
                    "live data, with --compact-min-bytes 65536 "
                    "--compact-ratio 2 (allowed: {}); is compaction "
                    "running and removing the logs it covers?",
                    worst, bound));
  server.kill();
  restart(t, server, "kill -9");
  verify(t, server, ledger, "an overwrite-heavy run with compactions");
}

void recovery_after_compaction(TestContext& t) {
  WriterPlan plan;
  plan.writers = 4;
  plan.value_bytes = 100;
  crash_rounds(t, "data", plan, false, kSmallCompaction);
  if (files_named(t.out_dir() / "data-0", "checkpoint.").empty())
    t.fail(
        "no checkpoint.NNNNNNNN file after writing far past "
        "--compact-min-bytes 2048: the compactions did not happen");
}

}  // namespace

std::vector<TestCase> lab02_suite() {
  return {
      {"ack_survives_kill",
       "16 writers, kill -9 at random: every acknowledged write survives",
       ack_survives_kill, 2},
      {"ack_survives_power_cut",
       "16 writers, a power cut at random: every acknowledged write survives",
       ack_survives_power_cut, 2},
      {"power_cut_after_ack", "a power cut right after a +OK keeps that write",
       power_cut_after_ack, 2},
      {"del_survives_crash", "an acknowledged DEL stays deleted",
       del_survives_crash},
      {"graceful_stop_keeps_all",
       "SIGTERM exits 0 within 2 s and flushes, even with --fsync never",
       graceful_stop_keeps_all},
      {"restart_twice", "recovery twice in a row, then more writes",
       restart_twice},
      {"torn_tail_truncated",
       "a last record cut short is dropped and cut off the file",
       torn_tail_truncated},
      {"damaged_last_record",
       "a last record failing its checksum is dropped, never served",
       damaged_last_record},
      {"damaged_middle_refused",
       "damage before good records: refuse to start, naming file and offset",
       damaged_middle_refused},
      {"startup_errors", "a bad data dir: one clear message, exit non-zero",
       startup_errors},
      {"large_values", "60 KB values survive kill -9 and power cuts",
       large_values},
      {"fsync_policies", "everysec and never still survive kill -9",
       fsync_policies},
      {"disk_bounded", "compaction keeps the data dir near the live data",
       disk_bounded},
      {"recovery_after_compaction", "crashes between compactions lose nothing",
       recovery_after_compaction},
      {"compaction_crash_every_step",
       "kill -9 before every file operation of a compaction loses nothing",
       compaction_crash_every_step, 2},
      {"compaction_power_cut_every_step",
       "a power cut at every step of a compaction loses nothing",
       compaction_power_cut_every_step, 2},
  };
}

}  // namespace kv::grader
