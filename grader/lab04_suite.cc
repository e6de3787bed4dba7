// The lab 04 suite: a leader and its followers as real processes, every
// replication link through a FaultProxy of the grader's (a follower's
// --leader is a proxy whose target is the leader's --repl-listen), so that
// a test can delay, black-hole and cut one follower's link while the
// others run. Two kinds of test:
//  - requirements: followers converge to the leader's exact state after
//    restarts, partitions, cuts, long outages and power cuts; writes to
//    followers are refused; semi-sync acknowledges only what N followers
//    hold durably, and says so when it cannot;
//  - demonstrations (demo_*): the design's weaknesses, shown with evidence.
//    A client history is recorded and checked for linearizability; the
//    demonstration passes when the weakness shows up as the handout
//    predicts, and reports what was lost and where its timeline is.
// "Converged" is awaited, never slept for: the grader polls ROLE until
// every follower's offset is the leader's, under a deadline that only
// bounds a hang, then compares every key on every node.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "fault_proxy.h"
#include "linearizability/model.h"
#include "powercut.h"
#include "suites.h"

namespace kv::grader {
namespace {

namespace fs = std::filesystem;
namespace lin = linearizability;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// The nodes' timing flags: short, so that a dead link is noticed quickly,
// long enough that a loaded machine does not see dead links everywhere.
constexpr int kHeartbeatMs = 50;
constexpr int kReplTimeoutMs = 600;
// Bounds on waiting for something that should happen: only a hang hits
// them, so they are generous.
constexpr milliseconds kConvergeWithin(30000);
constexpr milliseconds kPollEvery(20);

// -- one replication group --------------------------------------------------

struct Member {
  std::string name;  // "n1" (the first leader), "n2", ...
  ServerProcess* server = nullptr;
  uint16_t repl_port = 0;
  fs::path data;
  // A follower's link to its leader: its --leader points here.
  std::unique_ptr<FaultProxy> link;
  std::optional<PowerCutFiles> power_cut;  // when started under kvfault
  std::vector<std::string> args_tail;      // --role and after
};

class Group {
 public:
  explicit Group(TestContext& t) : t_(t) {}

  // A leader on a fresh data directory. extra: more flags.
  Member& start_leader(std::vector<std::string> extra = {}) {
    return start("leader", nullptr, std::move(extra), false);
  }
  // A follower of leader, through a proxy of its own. With power_cut, it
  // runs under libkvfault so that cut_power() can take its disk back to
  // what a power cut would leave.
  Member& start_follower(Member& leader, std::vector<std::string> extra = {},
                         bool power_cut = false) {
    return start("follower", &leader, std::move(extra), power_cut);
  }

  // A proxy to leader's replication port, for a FOLLOW after a failover.
  std::unique_ptr<FaultProxy> link_to(const Member& leader) {
    Result<std::unique_ptr<FaultProxy>> proxy =
        FaultProxy::start(HostPort{"127.0.0.1", leader.repl_port});
    if (!proxy.ok())
      t_.fail(fmt::format("grader: cannot start a proxy: {}",
                          proxy.status().message()));
    return std::move(proxy).value();
  }

  // Kills a follower started with power_cut as a power cut would, and
  // starts it again on what its disk would hold, under kvfault again.
  // Returns the power cut's summary, for diagnoses.
  // With crash_at_fdatasync k, the restarted follower kills itself just
  // before the kth fdatasync of the log it appends to (KVFAULT_CRASH_AT),
  // so that the next cut_power falls between two syncs of its own.
  std::string cut_power(Member& m,
                        std::optional<uint64_t> crash_at_fdatasync = {}) {
    KV_CHECK(m.power_cut.has_value(), "cut_power of a member without kvfault");
    if (m.server->process().running()) m.server->kill();
    const int round = ++power_cuts_;
    PowerCutFiles next{
        t_.out_dir() / fmt::format("{}-cut{}", m.name, round),
        t_.out_dir() / fmt::format("{}-cut{}.journal", m.name, round),
        t_.out_dir() / fmt::format("{}-cut{}.stash", m.name, round)};
    Result<PowerCut> cut = power_cut_image(*m.power_cut, next.data_dir);
    if (!cut.ok())
      t_.fail(fmt::format("grader: power-cut image failed: {}",
                          cut.status().message()));
    Result<std::vector<std::string>> env =
        crash_at_fdatasync
            ? prepare_power_cut(next, CrashPoint{powercut::OpKind::kFdatasync,
                                                 newest_log(next.data_dir),
                                                 *crash_at_fdatasync})
            : prepare_power_cut(next);
    if (!env.ok())
      t_.fail(fmt::format("grader: power-cut set-up failed: {}",
                          env.status().message()));
    m.power_cut = next;
    m.data = next.data_dir;
    Result<ServerProcess*> server =
        t_.try_start_server(args_of(m, m.args_tail), env.value());
    if (!server.ok())
      t_.fail(fmt::format(
          "after a power cut ({}), follower {} did not "
          "start: {}",
          cut.value().to_string(), m.name, server.status().message()));
    m.server = server.value();
    return cut.value().to_string();
  }

  // The log a lab 02 data dir appends to: its last log.NNNNNNNN.
  static std::string newest_log(const fs::path& dir) {
    std::string newest;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      std::string name = entry.path().filename().string();
      if (name.starts_with("log.") && name > newest) newest = name;
    }
    return newest;
  }

  std::vector<Member*> followers() {
    std::vector<Member*> out;
    for (auto& m : members_)
      if (m.get() != leader_) out.push_back(m.get());
    return out;
  }
  Member& leader() { return *leader_; }
  void set_leader(Member& m) { leader_ = &m; }

 private:
  Member& start(std::string_view role, Member* leader,
                std::vector<std::string> extra, bool power_cut) {
    auto m = std::make_unique<Member>();
    m->name = fmt::format("n{}", members_.size() + 1);
    m->data = t_.out_dir() / m->name;
    std::vector<std::string> env;
    if (power_cut) {
      m->power_cut =
          PowerCutFiles{m->data, t_.out_dir() / (m->name + ".journal"),
                        t_.out_dir() / (m->name + ".stash")};
      fs::create_directories(m->data);
      Result<std::vector<std::string>> prepared =
          prepare_power_cut(*m->power_cut);
      if (!prepared.ok())
        t_.fail(fmt::format("grader: power-cut set-up failed: {}",
                            prepared.status().message()));
      env = prepared.value();
    }
    m->args_tail = {"--role", std::string(role)};
    if (leader) {
      m->link = link_to(*leader);
      m->args_tail.insert(m->args_tail.end(),
                          {"--leader", m->link->address().to_string()});
    }
    m->args_tail.insert(m->args_tail.end(), extra.begin(), extra.end());
    // The replication port is picked after the proxy has bound its own, or
    // the proxy's ephemeral port could be the one just picked. Something
    // else may still take it before the server binds: try a few.
    Result<ServerProcess*> server = Status::unavailable("not started");
    for (int attempt = 0; attempt < 3; ++attempt) {
      Result<uint16_t> port = pick_free_port();
      if (!port.ok())
        t_.fail("grader: no free port: " + port.status().message());
      m->repl_port = port.value();
      server = t_.try_start_server(args_of(*m, m->args_tail), env);
      if (server.ok() ||
          server.status().message().find("in use") == std::string::npos)
        break;
    }
    if (!server.ok())
      t_.fail(fmt::format("{} {} did not start: {}", role, m->name,
                          server.status().message()));
    m->server = server.value();
    if (!leader) leader_ = m.get();
    members_.push_back(std::move(m));
    return *members_.back();
  }

  std::vector<std::string> args_of(const Member& m,
                                   const std::vector<std::string>& tail) {
    std::vector<std::string> args = {
        "--data-dir",        m.data.string(),
        "--repl-listen",     fmt::format("127.0.0.1:{}", m.repl_port),
        "--heartbeat-ms",    std::to_string(kHeartbeatMs),
        "--repl-timeout-ms", std::to_string(kReplTimeoutMs)};
    args.insert(args.end(), tail.begin(), tail.end());
    return args;
  }

  TestContext& t_;
  std::vector<std::unique_ptr<Member>> members_;
  Member* leader_ = nullptr;
  int power_cuts_ = 0;
};

// -- looking at nodes --------------------------------------------------------

Reply call_words(TestContext& t, Client& c,
                 const std::vector<std::string>& words) {
  t.send(c, multibulk(words),
         quote(words[0] + " " + (words.size() > 1 ? words[1] : "")));
  return t.next_reply(
      c, fmt::format("the reply to {}", quote(multibulk(words), 80)));
}

// ROLE's fields ("offset" -> "57"), or nullopt when the node does not
// answer (it is down, or busy past the timeout).
std::optional<std::map<std::string, std::string>> role_of(const Member& m) {
  Result<Client> c = Client::connect(m.server->address(), milliseconds(2000));
  if (!c.ok()) return std::nullopt;
  c.value().set_timeout(milliseconds(2000));
  Result<Reply> reply = c.value().call("ROLE");
  if (!reply.ok() || reply.value().kind != Reply::Kind::kBulk)
    return std::nullopt;
  std::map<std::string, std::string> fields;
  std::string_view text = reply.value().text;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (size_t colon = line.find(':'); colon != std::string_view::npos)
      fields[std::string(line.substr(0, colon))] =
          std::string(line.substr(colon + 1));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return fields;
}

std::string field(const std::optional<std::map<std::string, std::string>>& f,
                  const std::string& name) {
  if (!f) return "?";
  auto it = f->find(name);
  return it == f->end() ? "?" : it->second;
}

uint64_t offset_of(TestContext& t, const Member& m) {
  auto role = role_of(m);
  uint64_t offset = 0;
  const std::string text = field(role, "offset");
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), offset);
  if (ec != std::errc() || end != text.data() + text.size())
    t.fail(fmt::format("ROLE on {} has no offset line (got {})", m.name,
                       role ? "a reply without one" : "no reply"));
  return offset;
}

// Waits until every follower's offset is the leader's (the writes have
// stopped), or fails naming who is behind and what its link is doing.
void await_converged(TestContext& t, Group& g, std::string_view after,
                     std::vector<Member*> followers = {}) {
  if (followers.empty()) followers = g.followers();
  const uint64_t target = offset_of(t, g.leader());
  const auto deadline = Clock::now() + kConvergeWithin;
  for (Member* f : followers) {
    while (true) {
      auto role = role_of(*f);
      if (field(role, "offset") == std::to_string(target)) break;
      if (Clock::now() >= deadline)
        t.fail(fmt::format(
            "after {}: follower {} did not catch up within {} s: it is at "
            "offset {} (link: {}), the leader {} at {}",
            after, f->name, kConvergeWithin.count() / 1000,
            field(role, "offset"), field(role, "link"), g.leader().name,
            target));
      std::this_thread::sleep_for(kPollEvery);  // polling ROLE, not a guess
    }
  }
  t.note("after {}: every follower at offset {}", after, target);
}

std::optional<std::string> get(TestContext& t, Client& c,
                               const std::string& key, const Member& m) {
  Reply reply = call_words(t, c, {"GET", key});
  if (reply.kind == Reply::Kind::kBulk) return reply.text;
  if (reply.is_null()) return std::nullopt;
  t.fail(fmt::format("GET {} on {} replied {}", quote(key, 40), m.name,
                     reply.to_string()));
}

std::string shown(const std::optional<std::string>& v) {
  return v ? quote(*v, 40) : "(nil)";
}

// What a single writer left: key -> value, nullopt for deleted.
using Ledger = std::map<std::string, std::optional<std::string>>;

// Every key of the ledger on every member equals the ledger.
void expect_state(TestContext& t, Group& g, const Ledger& ledger,
                  std::string_view after, std::vector<Member*> members = {}) {
  if (members.empty()) {
    members = g.followers();
    members.insert(members.begin(), &g.leader());
  }
  for (Member* m : members) {
    Client c = t.connect(*m->server);
    for (const auto& [key, want] : ledger) {
      std::optional<std::string> got = get(t, c, key, *m);
      if (got != want)
        t.fail(
            fmt::format("after {}: GET {} on {} ({}) returned {}, the "
                        "leader's writes left {}",
                        after, quote(key, 40), m->name,
                        m == &g.leader() ? "the leader" : "a follower",
                        shown(got), shown(want)));
    }
  }
}

// What most tests end with: every follower caught up, every key equal to
// what the single writer left.
void expect_converged(TestContext& t, Group& g, const Ledger& ledger,
                      std::string_view after) {
  await_converged(t, g, after);
  expect_state(t, g, ledger, after);
}

// One write by a single writer, recorded in the ledger once acknowledged.
void write(TestContext& t, Client& c, Ledger& ledger, const std::string& key,
           std::optional<std::string> value, const Member& leader) {
  Reply reply = value ? call_words(t, c, {"SET", key, *value})
                      : call_words(t, c, {"DEL", key});
  const bool ok =
      value ? reply.is_simple("OK") : reply.kind == Reply::Kind::kInteger;
  if (!ok)
    t.fail(fmt::format("{} {} on the leader {} replied {}",
                       value ? "SET" : "DEL", quote(key, 40), leader.name,
                       reply.to_string()));
  ledger[key] = std::move(value);
}

// n random writes over `keys` keys (one in five a DEL of a present key).
void random_writes(TestContext& t, Client& c, Ledger& ledger, int n, int keys,
                   const Member& leader, std::string_view tag,
                   size_t value_bytes = 16) {
  for (int i = 0; i < n; ++i) {
    std::string key = fmt::format("k{}", t.uniform(0, keys - 1));
    auto it = ledger.find(key);
    if (it != ledger.end() && it->second && t.uniform(0, 4) == 0) {
      write(t, c, ledger, key, std::nullopt, leader);
    } else {
      std::string value = fmt::format("{}-{}-", tag, i);
      value.resize(std::max(value.size(), value_bytes), 'a' + i % 26);
      write(t, c, ledger, key, value, leader);
    }
  }
}

// A semi-sync leader refuses writes until enough followers are streaming:
// sends SET key value until it gets +OK, or fails saying `when`.
void await_set_ok(TestContext& t, Client& c, const std::string& key,
                  const std::string& value, std::string_view when) {
  const auto deadline = Clock::now() + kConvergeWithin;
  while (true) {
    Reply reply = call_words(t, c, {"SET", key, value});
    if (reply.is_simple("OK")) return;
    if (Clock::now() >= deadline)
      t.fail(fmt::format("{}, SET {} never succeeded within {} s: {}", when,
                         key, kConvergeWithin.count() / 1000,
                         reply.to_string()));
    std::this_thread::sleep_for(kPollEvery);
  }
}

// Bytes the proxy has sent a follower so far (its to_client flow).
uint64_t bytes_to_follower(const Member& f) {
  return f.link->stats().to_client.forwarded_bytes;
}

// -- requirements -------------------------------------------------------------

void follower_gets_writes(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader();
  g.start_follower(leader);
  g.start_follower(leader);
  Ledger ledger;
  Client c = t.connect(*leader.server);
  random_writes(t, c, ledger, t.quick() ? 100 : 300, 40, leader, "a");
  // Binary keys and values, the empty value, and one of 1 MiB.
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  write(t, c, ledger, every_byte, every_byte, leader);
  write(t, c, ledger, std::string("nul\0key", 7), "line\r\nbreak", leader);
  write(t, c, ledger, "empty", "", leader);
  write(t, c, ledger, "big", t.random_bytes(1 << 20), leader);
  expect_converged(t, g, ledger, "writes to the leader");
}

void follower_rejects_writes(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader();
  Member& follower = g.start_follower(leader);
  Ledger ledger;
  Client lc = t.connect(*leader.server);
  write(t, lc, ledger, "a", "from-leader", leader);
  await_converged(t, g, "SET a on the leader");
  const uint64_t offset = offset_of(t, leader);
  Client fc = t.connect(*follower.server);
  const std::string leader_address = leader.server->address().to_string();
  for (const std::vector<std::string>& request :
       {std::vector<std::string>{"SET", "a", "from-follower"},
        std::vector<std::string>{"SET", "b", "x"},
        std::vector<std::string>{"DEL", "a"}}) {
    Reply reply = call_words(t, fc, request);
    if (!reply.is_error() || !reply.text.starts_with("READONLY"))
      t.fail(fmt::format(
          "{} {} sent to follower {} replied {}: a follower "
          "must refuse writes with -READONLY",
          request[0], request[1], follower.name, reply.to_string()));
    if (reply.text.find(leader_address) == std::string::npos)
      t.fail(
          fmt::format("the follower's -READONLY does not name the "
                      "leader's client address {}: {}",
                      leader_address, reply.to_string()));
  }
  // Reads still work there, and nothing changed anywhere.
  if (get(t, fc, "a", follower) != std::optional<std::string>("from-leader"))
    t.fail(
        "GET a on the follower lost the leader's value after refused "
        "writes");
  write(t, lc, ledger, "c", "after", leader);
  await_converged(t, g, "refused writes on the follower");
  if (uint64_t now = offset_of(t, follower); now != offset + 1)
    t.fail(
        fmt::format("the follower's offset went from {} to {} for one "
                    "write of the leader's: it counted writes of its own",
                    offset, now));
  ledger["b"] = std::nullopt;
  expect_state(t, g, ledger, "refused writes on the follower");
}

// Several writers overwrite their own counters and a few shared keys; a
// reader on the follower checks that no counter ever goes backwards, and
// at the end every follower holds the last value of each.
void write_order_kept(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader({"--threads", "2"});
  Member& follower = g.start_follower(leader);
  // Small delays make the stream arrive in many pieces and batches.
  follower.link->delay(milliseconds(2));
  const int writers = 4;
  const int n = t.quick() ? 160 : 480;  // a multiple of the burst
  std::atomic<bool> done{false};
  std::optional<std::string> reader_error;
  std::jthread reader([&] {
    Result<Client> c = Client::connect(follower.server->address());
    if (!c.ok()) return;
    std::vector<int64_t> seen(writers, 0);
    while (!done) {
      for (int w = 0; w < writers && !reader_error; ++w) {
        Result<Reply> reply = c.value().call(fmt::format("GET c{}", w));
        if (!reply.ok()) return;
        if (reply.value().kind != Reply::Kind::kBulk) continue;
        int64_t v = 0;
        const std::string& text = reply.value().text;
        std::from_chars(text.data(), text.data() + text.size(), v);
        if (v < seen[static_cast<size_t>(w)])
          reader_error = fmt::format(
              "GET c{} on the follower returned {} after {}: the writer "
              "only ever counts up, so the follower applied its writes out "
              "of order",
              w, v, seen[static_cast<size_t>(w)]);
        seen[static_cast<size_t>(w)] =
            std::max(seen[static_cast<size_t>(w)], v);
      }
    }
  });
  // Each writer pipelines bursts, so that one batch of the stream holds
  // several writes of one key: only the order inside it decides the value
  // the follower is left with.
  const int burst = 16;
  run_workers(t, writers, [&](int w) -> std::optional<std::string> {
    Result<Client> c = Client::connect(leader.server->address());
    if (!c.ok()) return c.status().message();
    for (int i = 0; i < n; i += burst) {
      std::string requests;
      for (int j = 1; j <= burst; ++j)
        requests += fmt::format("SET c{} {}\r\n", w, i + j);
      requests +=
          fmt::format("DEL gone{}\r\nSET gone{} {}\r\n", w, w, i + burst);
      if (Status s = c.value().send(requests); !s.ok()) return s.message();
      for (int j = 0; j < burst + 2; ++j) {
        Result<Reply> reply = c.value().read_reply();
        if (!reply.ok() || reply.value().is_error())
          return fmt::format(
              "a pipelined burst of writes to the leader: reply "
              "{} was {}",
              j + 1,
              reply.ok() ? reply.value().to_string()
                         : reply.status().message());
      }
    }
    return std::nullopt;
  });
  follower.link->pass();
  await_converged(t, g, "concurrent overwrites");
  done = true;
  reader.join();
  if (reader_error) t.fail(*reader_error);
  Ledger want;
  for (int w = 0; w < writers; ++w) {
    want[fmt::format("c{}", w)] = std::to_string(n);
    want[fmt::format("gone{}", w)] = std::to_string(n);
  }
  expect_state(t, g, want, "concurrent overwrites");
}

// A follower stopped (gracefully, then with kill -9) while the leader
// writes on catches up with what it missed, and only that: the link
// carries about the missed writes' bytes, not the whole state again.
void follower_restart_catches_up(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader();
  Member& follower = g.start_follower(leader);
  Ledger ledger;
  Client c = t.connect(*leader.server);
  const int keys = t.quick() ? 1000 : 2000;
  for (int i = 0; i < keys; ++i)
    write(t, c, ledger, fmt::format("k{}", i), std::string(200, 'a' + i % 26),
          leader);
  await_converged(t, g, "the initial writes");
  const uint64_t state_bytes = static_cast<uint64_t>(keys) * 200;
  for (int round = 1; round <= 2; ++round) {
    const bool kill = round == 2;
    if (kill)
      follower.server->kill();
    else if (!follower.server->stop(SIGTERM, milliseconds(5000)))
      t.fail("the follower did not stop on SIGTERM within 5 s");
    const std::string what =
        fmt::format("{} of the follower, 30 writes, and its restart",
                    kill ? "kill -9" : "a graceful stop");
    random_writes(t, c, ledger, 30, keys, leader, fmt::format("r{}", round),
                  50);
    const uint64_t before = bytes_to_follower(follower);
    if (Status s = follower.server->restart(); !s.ok())
      t.fail(fmt::format("after {}: the follower did not come back: {}", what,
                         s.message()));
    expect_converged(t, g, ledger, what);
    const uint64_t sent = bytes_to_follower(follower) - before;
    if (sent > state_bytes / 4)
      t.fail(fmt::format(
          "after {}: the leader sent the follower {} bytes to catch up on 30 "
          "writes, about its whole state ({} bytes): a follower that "
          "reconnects must get the writes it missed, from its own offset, "
          "not everything again",
          what, sent, state_bytes));
  }
}

// Down for longer than the leader's backlog holds, while the leader
// compacts its lab 02 log and restarts: the follower gets the whole state,
// and keys deleted meanwhile are gone from it too.
void catch_up_after_long_outage(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader(
      {"--backlog-bytes", "4096", "--compact-min-bytes", "4096"});
  Member& follower = g.start_follower(leader);
  Ledger ledger;
  {
    Client c = t.connect(*leader.server);
    for (int i = 0; i < 100; ++i)
      write(t, c, ledger, fmt::format("k{}", i), fmt::format("first{}", i),
            leader);
    await_converged(t, g, "the initial writes");
    follower.server->kill();
    for (int i = 0; i < 100; i += 3)
      write(t, c, ledger, fmt::format("k{}", i), std::nullopt, leader);
    random_writes(t, c, ledger, t.quick() ? 300 : 600, 150, leader, "later");
  }
  // The leader restarts too: its backlog is gone, its position must not be.
  const uint64_t offset = offset_of(t, leader);
  if (!leader.server->stop(SIGTERM, milliseconds(5000)))
    t.fail("the leader did not stop on SIGTERM within 5 s");
  if (Status s = leader.server->restart(); !s.ok())
    t.fail("the leader did not restart: " + s.message());
  if (uint64_t now = offset_of(t, leader); now != offset)
    t.fail(
        fmt::format("the leader was at offset {} and came back from a "
                    "restart (after compactions) at {}: its position must "
                    "be exactly as durable as its data",
                    offset, now));
  if (Status s = follower.server->restart(); !s.ok())
    t.fail("the follower did not come back after a long outage: " +
           s.message());
  const std::string what =
      "an outage longer than the leader's backlog (--backlog-bytes 4096), "
      "with deletes, compactions and a restart of the leader";
  expect_converged(t, g, ledger, what);
}

// A black-holed link (a partition: no error, no bytes) for longer than
// the link timeout, while the leader writes; then the network heals.
void partition_heals(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader();
  Member& cut_off = g.start_follower(leader);
  g.start_follower(leader);
  Ledger ledger;
  Client c = t.connect(*leader.server);
  random_writes(t, c, ledger, 50, 30, leader, "before");
  await_converged(t, g, "writes before the partition");
  for (int round = 1; round <= 2; ++round) {
    cut_off.link->black_hole();
    const auto until = Clock::now() + milliseconds(kReplTimeoutMs * 2);
    int i = 0;
    while (Clock::now() < until)  // the partition's length is the fault
      random_writes(t, c, ledger, 5, 30, leader,
                    fmt::format("p{}-{}", round, i++));
    // The cut-off follower still serves (stale) reads.
    Result<Client> fc = Client::connect(cut_off.server->address());
    if (!fc.ok() || !fc.value().call("PING").ok())
      t.fail("a follower cut off from its leader stopped answering clients");
    cut_off.link->pass();
    const std::string what = fmt::format(
        "a partition of {} ms between follower {} and the leader, healed "
        "(round {})",
        kReplTimeoutMs * 2, cut_off.name, round);
    expect_converged(t, g, ledger, what);
  }
}

// The link is cut again and again, sometimes in the middle of a message,
// while the leader writes.
void link_cut_mid_stream(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader();
  Member& follower = g.start_follower(leader);
  Ledger ledger;
  Client c = t.connect(*leader.server);
  const int rounds = t.quick() ? 6 : 12;
  for (int round = 0; round < rounds; ++round) {
    if (round % 2 == 0)
      follower.link->cut();
    else
      follower.link->cut_after(FaultProxy::Direction::kToClient,
                               static_cast<size_t>(t.uniform(1, 300)));
    random_writes(t, c, ledger, 40, 60, leader, fmt::format("c{}", round));
  }
  expect_converged(t, g, ledger, fmt::format("{} cuts of the link", rounds));
}

// The follower loses power while it applies the stream: once at a random
// moment, then just before the kth fdatasync of its log (a crash point:
// between two syncs of the follower's own, wherever it makes them).
// Restarted on what its disk held, it must pick up exactly where that
// left it: a position that reached the disk before the writes it counts
// makes it skip them for ever.
void power_cut_follower_catches_up(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader();
  Member& follower = g.start_follower(leader, {}, /*power_cut=*/true);
  Ledger ledger;
  Client c = t.connect(*leader.server);
  random_writes(t, c, ledger, static_cast<int>(t.uniform(20, 120)), 50, leader,
                "w0", 40);
  const int rounds = t.quick() ? 3 : 6;
  for (int round = 1; round <= rounds; ++round) {
    const uint64_t k = static_cast<uint64_t>(t.uniform(2, 8));
    std::string cut = g.cut_power(follower, k);
    // Writes until the follower reaches its crash point (or plenty).
    for (int i = 0; i < 200 && !follower.server->process().poll(); ++i)
      random_writes(t, c, ledger, 3, 50, leader,
                    fmt::format("r{}-{}", round, i), 40);
    const bool crashed = follower.server->process().poll().has_value();
    cut = g.cut_power(follower);
    const std::string what = fmt::format(
        "a power cut of the follower {} ({})",
        crashed ? "just before " +
                      CrashPoint{powercut::OpKind::kFdatasync, "its log", k}
                          .to_string()
                : std::string("while it applied the stream"),
        cut);
    t.note("round {}: {}", round, what);
    expect_converged(t, g, ledger, what);
  }
}

// -- semi-synchronous acknowledgements ---------------------------------------

void semi_sync_waits_for_followers(TestContext& t) {
  const int timeout_ms = 400;
  Group g(t);
  Member& leader = g.start_leader({"--sync-replicas", "1", "--sync-timeout-ms",
                                   std::to_string(timeout_ms)});
  Member& follower = g.start_follower(leader);
  Ledger ledger;
  Client c = t.connect(*leader.server);
  // Until the follower is streaming the leader refuses; await that.
  await_set_ok(t, c, "first", "1", "with --sync-replicas 1 and a follower up");
  ledger["first"] = "1";
  for (int round = 1; round <= 2; ++round) {
    follower.link->black_hole();
    for (int i = 0; i < 3; ++i) {
      const std::string key = fmt::format("cut{}-{}", round, i);
      auto start = Clock::now();
      Reply reply = call_words(t, c, {"SET", key, "x"});
      auto took =
          std::chrono::duration_cast<milliseconds>(Clock::now() - start);
      if (reply.is_simple("OK"))
        t.fail(fmt::format(
            "SET {} got +OK from a leader with --sync-replicas 1 while its "
            "only "
            "follower was cut off: the follower cannot have it, so the leader "
            "acknowledged a write that one copy holds",
            key));
      if (!reply.is_error() || !(reply.text.starts_with("TIMEOUT") ||
                                 reply.text.starts_with("NOREPLICAS")))
        t.fail(
            fmt::format("SET {} with its follower cut off replied {}; "
                        "expected -TIMEOUT (or -NOREPLICAS once the leader "
                        "stops counting the follower)",
                        key, reply.to_string()));
      t.note("SET {} -> {} in {} ms", key, reply.to_string(), took.count());
    }
    follower.link->pass();
    // Healed: writes succeed again once the follower is back.
    const std::string key = fmt::format("healed{}", round);
    await_set_ok(t, c, key, "y", "after the partition healed");
    ledger[key] = "y";
  }
}

void semi_sync_refuses_without_followers(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader({"--sync-replicas", "2"});
  g.start_follower(leader);
  Client c = t.connect(*leader.server);
  // One follower of the two needed: refused up front, nothing written.
  for (int i = 0; i < 5; ++i) {
    if (i > 0) std::this_thread::sleep_for(milliseconds(kHeartbeatMs));
    const std::string key = fmt::format("lonely{}", i);
    Reply reply = call_words(t, c, {"SET", key, "x"});
    if (!reply.is_error() || !reply.text.starts_with("NOREPLICAS"))
      t.fail(
          fmt::format("SET {} on a leader with --sync-replicas 2 and one "
                      "follower replied {}; expected -NOREPLICAS at once",
                      key, reply.to_string()));
    if (std::optional<std::string> v = get(t, c, key, leader))
      t.fail(
          fmt::format("SET {} was refused with -NOREPLICAS but GET {} on "
                      "the leader returns {}: a refused write must not "
                      "happen",
                      key, key, shown(v)));
  }
  g.start_follower(leader);
  await_set_ok(t, c, "both", "z",
               "with two followers up under --sync-replicas 2");
  await_converged(t, g, "a SET acknowledged under --sync-replicas 2");
  expect_state(t, g, Ledger{{"both", "z"}, {"lonely0", std::nullopt}},
               "a SET acknowledged under --sync-replicas 2");
}

// Every +OK of a semi-sync leader must be on the follower's disk: the
// leader is killed and the follower loses power at once; promoted, it
// holds every acknowledged write.
void semi_sync_ack_is_durable_on_follower(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader({"--sync-replicas", "1"});
  Member& follower = g.start_follower(leader, {}, /*power_cut=*/true);
  Client c = t.connect(*leader.server);
  const int rounds = t.quick() ? 2 : 3;
  Ledger acked;
  int written = 0;
  const auto deadline = Clock::now() + kConvergeWithin;
  for (int round = 1; round <= rounds; ++round) {
    const int n = static_cast<int>(t.uniform(5, 40));
    for (int i = 0; i < n; ++i) {
      const std::string key = fmt::format("k{}", written++);
      Reply reply = call_words(t, c, {"SET", key, fmt::format("v{}", round)});
      if (reply.is_simple("OK")) {
        acked[key] = fmt::format("v{}", round);
      } else if (!reply.is_error() || Clock::now() > deadline) {
        t.fail(fmt::format("SET {} replied {}", key, reply.to_string()));
      }
    }
    if (round == rounds) break;
    // A power cut of the follower alone, between rounds: it comes back on
    // what its disk held and catches up.
    g.cut_power(follower);
    await_converged(t, g, "a power cut of the follower");
  }
  // The leader dies and, at once, the follower's power goes.
  leader.server->kill();
  std::string cut = g.cut_power(follower);
  Client fc = t.connect(*follower.server);
  Reply promoted = call_words(t, fc, {"PROMOTE"});
  if (!promoted.is_simple("OK"))
    t.fail("PROMOTE on the follower replied " + promoted.to_string());
  for (const auto& [key, value] : acked) {
    std::optional<std::string> got = get(t, fc, key, follower);
    if (got != value)
      t.fail(fmt::format(
          "SET {} {} was acknowledged by a leader with --sync-replicas 1, but "
          "after the leader died and its follower lost power ({}), the "
          "follower holds {}: the follower acknowledged it before it was "
          "durable",
          key, shown(value), cut, shown(got)));
  }
  t.report(
      fmt::format("{} acknowledged writes, all on the follower after the "
                  "leader's crash and the follower's power cut",
                  acked.size()));
}

// -- hostile input ------------------------------------------------------------

// The replication keys are the node's own; FOLLOW checks its address; the
// replication port survives garbage and strangers.
void hostile_input_refused(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader();
  g.start_follower(leader);
  Ledger ledger;
  Client c = t.connect(*leader.server);
  write(t, c, ledger, "k", "v", leader);
  await_converged(t, g, "SET k on the leader");
  const uint64_t offset = offset_of(t, leader);
  const std::string position("\0kvlab04:position", 17);
  for (const std::vector<std::string>& request :
       {std::vector<std::string>{"SET", position, "0000000000000000 0"},
        std::vector<std::string>{"GET", position},
        std::vector<std::string>{"DEL", position},
        std::vector<std::string>{"EXISTS", "k", position}}) {
    Reply reply = call_words(t, c, request);
    if (!reply.is_error())
      t.fail(
          fmt::format("{} of the reserved key \\0kvlab04:position "
                      "replied {}: a client must not reach the node's "
                      "replication state",
                      request[0], reply.to_string()));
  }
  if (uint64_t now = offset_of(t, leader); now != offset)
    t.fail(
        fmt::format("refused requests moved the leader from offset {} "
                    "to {}",
                    offset, now));
  for (const std::string& target :
       {std::string("nowhere"), std::string("127.0.0.1:0"),
        fmt::format("127.0.0.1:{}", leader.repl_port)}) {
    Reply reply = call_words(t, c, {"FOLLOW", target});
    if (!reply.is_error())
      t.fail(
          fmt::format("FOLLOW {} on the leader replied {}: expected an "
                      "-ERR (not an address, or its own replication port)",
                      target, reply.to_string()));
  }
  // Garbage on the replication port: the stranger is dropped, the leader
  // goes on serving and streaming.
  const HostPort repl{"127.0.0.1", leader.repl_port};
  for (const std::string& garbage :
       {std::string("hello\r\n"), std::string("*2\r\n$3\r\nACK\r\n$1\r\n1\r\n"),
        multibulk({"REPLICATE", "zz", "1"}), t.random_bytes(4096)}) {
    Result<Client> stranger = Client::connect(repl);
    if (!stranger.ok())
      t.fail("cannot connect to the leader's replication port");
    (void)stranger.value().send(garbage);
    stranger.value().set_timeout(milliseconds(kReplTimeoutMs * 10));
    if (!stranger.value().wait_closed())
      t.fail(
          fmt::format("the leader kept a replication connection open after "
                      "{}: it must close a link it cannot read",
                      quote(garbage, 40)));
  }
  // A stranger far ahead on a history the leader never had gets the whole
  // state, not a crash.
  {
    Result<Client> stranger = Client::connect(repl);
    if (!stranger.ok())
      t.fail("cannot connect to the leader's replication port");
    if (!stranger.value()
             .send(multibulk(
                 {"REPLICATE", "0123456789abcdef", "18446744073709551615"}))
             .ok())
      t.fail("cannot send REPLICATE to the leader's replication port");
    Result<Reply> first = stranger.value().read_reply();
    (void)first;  // an array: the grader's client reads only its header
  }
  write(t, c, ledger, "after", "garbage", leader);
  t.expect_alive(*leader.server, "garbage on its replication port");
  expect_converged(t, g, ledger, "garbage on the leader's replication port");
}

// -- failover -----------------------------------------------------------------

// Manual failover to a follower that is behind: the other follower, ahead
// of it on the old history, and the old leader must throw their extra
// writes away and take the new leader's state.
void failover_promote_and_follow(TestContext& t) {
  Group g(t);
  Member& old_leader = g.start_leader();
  Member& behind = g.start_follower(old_leader);
  Member& ahead = g.start_follower(old_leader);
  Ledger ledger;
  Client c = t.connect(*old_leader.server);
  random_writes(t, c, ledger, 60, 40, old_leader, "shared");
  await_converged(t, g, "the first writes");
  behind.link->black_hole();
  Ledger lost = ledger;
  random_writes(t, c, lost, 25, 40, old_leader, "lost");
  await_converged(t, g, "writes the new leader will not have", {&ahead});
  old_leader.server->kill();

  Client bc = t.connect(*behind.server);
  Reply promoted = call_words(t, bc, {"PROMOTE"});
  if (!promoted.is_simple("OK"))
    t.fail("PROMOTE on a follower replied " + promoted.to_string());
  g.set_leader(behind);
  random_writes(t, bc, ledger, 40, 40, behind, "new");
  ahead.link = g.link_to(behind);
  Client ac = t.connect(*ahead.server);
  Reply followed =
      call_words(t, ac, {"FOLLOW", ahead.link->address().to_string()});
  if (!followed.is_simple("OK"))
    t.fail("FOLLOW on the other follower replied " + followed.to_string());
  // The old leader comes back (as a leader, by its flags) and is told to
  // follow: it is ahead of the new history's fork too.
  if (Status s = old_leader.server->restart(); !s.ok())
    t.fail("the old leader did not restart: " + s.message());
  old_leader.link = g.link_to(behind);
  Client oc = t.connect(*old_leader.server);
  Reply demoted =
      call_words(t, oc, {"FOLLOW", old_leader.link->address().to_string()});
  if (!demoted.is_simple("OK"))
    t.fail("FOLLOW on the old leader replied " + demoted.to_string());
  random_writes(t, bc, ledger, 20, 40, behind, "after");
  const std::string what = fmt::format(
      "PROMOTE of {} (25 writes behind), FOLLOW of {} and of the old leader",
      behind.name, ahead.name);
  await_converged(t, g, what, {&ahead, &old_leader});
  for (auto& [key, value] : lost)
    if (!ledger.count(key)) ledger[key] = std::nullopt;
  expect_state(t, g, ledger, what, {&behind, &ahead, &old_leader});
}

// -- demonstrations
// ------------------------------------------------------------

// Reads from a follower may be stale: a client that wrote to the leader
// and reads from a follower may not see its own write.
void demo_stale_follower_reads(TestContext& t) {
  Group g(t);
  Member& leader = g.start_leader();
  Member& follower = g.start_follower(leader);
  // A slow network to the follower, well inside the link timeout.
  follower.link->delay(milliseconds(kReplTimeoutMs / 6));
  Client lc = t.connect(*leader.server);
  Client fc = t.connect(*follower.server);
  lin::HistoryRecorder recorder;
  int stale = 0;
  const int n = 10;
  for (int i = 1; i <= n; ++i) {
    const std::string value = std::to_string(i);
    int64_t w = recorder.invoke(0, "put", "x", value);
    Reply reply = call_words(t, lc, {"SET", "x", value});
    if (!reply.is_simple("OK"))
      t.fail("SET x on the leader: " + reply.to_string());
    recorder.ok(w);
    int64_t r = recorder.invoke(1, "get", "x");
    std::optional<std::string> got = get(t, fc, "x", follower);
    recorder.ok(r, got.value_or(""));
    if (got != value) ++stale;
  }
  fs::path timeline;
  lin::CheckResult result = t.check_history(
      recorder.history(), *lin::kv_model(),
      "SETs on the leader, each followed by a GET on a follower", &timeline,
      /*draw_always=*/true);
  if (result.verdict != lin::Verdict::kNotLinearizable)
    t.fail(fmt::format(
        "the demonstration expected stale reads from a follower {} ms "
        "behind, but all {} reads saw the write just acknowledged ({}): does "
        "the follower serve reads from its own copy?",
        kReplTimeoutMs / 6, n, lin::verdict_name(result.verdict)));
  t.report(fmt::format(
      "{} of {} reads on the follower did not see the write the leader had "
      "just acknowledged: not linearizable ({})",
      stale, n, result.summary));
  t.report(fmt::format("timeline: {}", timeline.string()));
}

// Shared by the two failover demonstrations: writes acknowledged by a
// leader whose follower lags, the leader crashes, the follower is
// promoted, and a client reads every key back.
struct FailoverEvidence {
  int acknowledged = 0;
  int lost = 0;
  lin::CheckResult result;
  fs::path timeline;
};

FailoverEvidence failover_with_lag(TestContext& t,
                                   std::vector<std::string> leader_flags,
                                   bool partitioned, std::string_view what) {
  Group g(t);
  Member& leader = g.start_leader(std::move(leader_flags));
  Member& follower = g.start_follower(leader);
  Client lc = t.connect(*leader.server);
  // The follower is connected before the lag starts.
  const auto by = Clock::now() + kConvergeWithin;
  while (field(role_of(leader), "followers") != "1" ||
         field(role_of(follower), "link") != "streaming") {
    if (Clock::now() >= by) t.fail("the follower never connected");
    std::this_thread::sleep_for(kPollEvery);
  }
  // Partitioned: nothing reaches the follower any more. Else a slow link.
  if (partitioned)
    follower.link->black_hole();
  else
    follower.link->delay(milliseconds(kReplTimeoutMs / 6));
  lin::HistoryRecorder recorder;
  FailoverEvidence evidence;
  const int n = 8;
  for (int i = 0; i < n; ++i) {
    const std::string key = fmt::format("k{}", i);
    int64_t w = recorder.invoke(0, "put", key, "v");
    Reply reply = call_words(t, lc, {"SET", key, "v"});
    if (reply.is_simple("OK")) {
      recorder.ok(w);
      ++evidence.acknowledged;
    } else {
      recorder.info(w);
    }
  }
  // One more write in flight when the leader dies.
  t.send(lc, multibulk({"SET", "inflight", "v"}), "SET inflight");
  recorder.invoke(0, "put", "inflight", "v");
  leader.server->kill();
  follower.link->pass();
  Client fc = t.connect(*follower.server);
  Reply promoted = call_words(t, fc, {"PROMOTE"});
  if (!promoted.is_simple("OK"))
    t.fail("PROMOTE on the follower replied " + promoted.to_string());
  for (int i = 0; i < n; ++i) {
    const std::string key = fmt::format("k{}", i);
    int64_t r = recorder.invoke(1, "get", key);
    std::optional<std::string> got = get(t, fc, key, follower);
    recorder.ok(r, got.value_or(""));
  }
  lin::History history = recorder.history();
  for (const lin::Operation& op : history.operations)
    if (op.f == "get" && op.result.empty()) {
      // Lost only if its write was acknowledged.
      for (const lin::Operation& w : history.operations)
        if (w.f == "put" && w.key == op.key &&
            w.status == lin::Operation::Status::kOk)
          ++evidence.lost;
    }
  evidence.result = t.check_history(history, *lin::kv_model(), what,
                                    &evidence.timeline, /*draw_always=*/true);
  return evidence;
}

void demo_async_failover_loses_writes(TestContext& t) {
  FailoverEvidence e = failover_with_lag(
      t, {}, /*partitioned=*/true,
      "async leader crashes, its cut-off follower is promoted");
  if (e.lost == 0 || e.result.verdict != lin::Verdict::kNotLinearizable)
    t.fail(fmt::format(
        "the demonstration expected acknowledged writes to be lost: an "
        "asynchronous leader acknowledges before its follower (cut off) has "
        "the write, then crashes; but none of {} was lost ({})",
        e.acknowledged, lin::verdict_name(e.result.verdict)));
  t.report(fmt::format(
      "{} of {} acknowledged writes were lost in the failover: the leader's "
      "+OK promised only its own disk (not linearizable: {})",
      e.lost, e.acknowledged, e.result.summary));
  t.report(fmt::format("timeline: {}", e.timeline.string()));
}

void demo_semi_sync_failover_keeps_writes(TestContext& t) {
  FailoverEvidence e = failover_with_lag(
      t, {"--sync-replicas", "1", "--sync-timeout-ms", "5000"},
      /*partitioned=*/false,
      "semi-sync leader (N = every follower) crashes, its follower is "
      "promoted");
  if (e.lost != 0 || e.result.verdict != lin::Verdict::kLinearizable)
    t.fail(fmt::format(
        "with --sync-replicas 1 and one follower, no acknowledged write may "
        "be lost in a failover, but {} of {} were ({})",
        e.lost, e.acknowledged, lin::verdict_name(e.result.verdict)));
  t.report(fmt::format(
      "0 of {} acknowledged writes lost: each +OK waited until the follower "
      "had the write durably (the write in flight at the crash may go "
      "either way)",
      e.acknowledged));
  t.report(fmt::format("timeline: {}", e.timeline.string()));
}

}  // namespace

std::vector<TestCase> lab04_suite() {
  return {
      {"follower_gets_writes",
       "writes to the leader (binary, empty, 1 MiB) reach both followers",
       follower_gets_writes},
      {"follower_rejects_writes",
       "a follower refuses SET and DEL with -READONLY naming the leader",
       follower_rejects_writes},
      {"write_order_kept",
       "followers apply concurrent writers' writes in the leader's order",
       write_order_kept},
      {"follower_restart_catches_up",
       "a restarted follower gets the writes it missed, and only those",
       follower_restart_catches_up},
      {"catch_up_after_long_outage",
       "a follower behind the leader's backlog gets the whole state, "
       "deletes included",
       catch_up_after_long_outage},
      {"partition_heals",
       "a follower cut off by a silent partition catches up once it heals",
       partition_heals},
      {"link_cut_mid_stream",
       "a link cut again and again, mid-message too, loses nothing",
       link_cut_mid_stream},
      {"power_cut_follower_catches_up",
       "a follower restarted after a power cut resumes exactly where its "
       "disk left it",
       power_cut_follower_catches_up},
      {"semi_sync_waits_for_followers",
       "--sync-replicas 1: no +OK while the follower cannot confirm; "
       "-TIMEOUT, bounded",
       semi_sync_waits_for_followers},
      {"semi_sync_refuses_without_followers",
       "--sync-replicas 2 with one follower: -NOREPLICAS, nothing written",
       semi_sync_refuses_without_followers},
      {"semi_sync_ack_is_durable_on_follower",
       "a semi-sync +OK survives the leader's crash and the follower's power "
       "cut",
       semi_sync_ack_is_durable_on_follower},
      {"hostile_input_refused",
       "reserved keys, bad FOLLOW targets and garbage on the replication "
       "port get errors, never a crash",
       hostile_input_refused},
      {"failover_promote_and_follow",
       "PROMOTE and FOLLOW: every node converges on the new leader's history",
       failover_promote_and_follow},
      {"demo_stale_follower_reads",
       "demonstration: reads from a follower are stale (not linearizable)",
       demo_stale_follower_reads},
      {"demo_async_failover_loses_writes",
       "demonstration: async failover loses acknowledged writes",
       demo_async_failover_loses_writes},
      {"demo_semi_sync_failover_keeps_writes",
       "demonstration: semi-sync with N = all followers loses none",
       demo_semi_sync_failover_keeps_writes},
  };
}

}  // namespace kv::grader
