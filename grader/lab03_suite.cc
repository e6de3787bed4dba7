// The lab 03 suite. Two halves:
//  - the server (the graded lab03-server), driven with raw bytes by the
//    grader's own RESP client: multibulk framing, binary safety, limits;
//  - the client library (the graded kv::lab03::Client, run in its own
//    process by lab03-client-driver), against the reference lab03-server
//    through a FaultProxy that delays, black-holes, cuts and corrupts: every
//    call ends within its deadline, with the right kind of error, nothing
//    is applied twice, and the next call recovers.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fault_proxy.h"
#include "library_driver.h"
#include "suites.h"

namespace kv::grader {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Direction = FaultProxy::Direction;

// How far past its deadline a call may return: the driver measures the
// call itself, so this only absorbs scheduling on a loaded machine.
constexpr milliseconds kDeadlineSlack(1000);
// How long past its deadline the grader waits before calling a call stuck.
constexpr milliseconds kStuckAfter(10000);

std::string all_bytes() {
  std::string out;
  for (int c = 0; c < 256; ++c) out.push_back(static_cast<char>(c));
  return out;
}

// -- the server half ---------------------------------------------------------

ServerProcess& start_graded(TestContext& t) {
  return t.start_server({"--data-dir", (t.out_dir() / "data").string()});
}

Reply raw_call(TestContext& t, Client& c,
               const std::vector<std::string>& words) {
  t.send(c, multibulk(words), quote(multibulk(words)));
  return t.next_reply(c,
                      fmt::format("the reply to {}", quote(multibulk(words))));
}

void expect_raw(TestContext& t, Client& c,
                const std::vector<std::string>& words, std::string_view want) {
  Reply reply = raw_call(t, c, words);
  if (!reply_matches(reply, want))
    t.fail(fmt::format("{} (multibulk) replied {}, expected {}",
                       quote(multibulk(words), 80), reply.to_string(), want));
}

void multibulk_requests(TestContext& t) {
  ServerProcess& server = start_graded(t);
  Client c = t.connect(server);
  expect_raw(t, c, {"PING"}, "+PONG");
  expect_raw(t, c, {"SET", "k", "v"}, "+OK");
  t.expect(c, "GET k", "\"v\"");  // inline on the same connection
  expect_raw(t, c, {"get", "k"}, "\"v\"");
  expect_raw(t, c, {"SET", "k2", "two words\r\nand a line"}, "+OK");
  expect_raw(t, c, {"EXISTS", "k2"}, ":1");
  expect_raw(t, c, {"DEL", "k", "k2", "none"}, ":2");
  // A pipeline mixing both forms, answered in order.
  t.send(c,
         multibulk({"SET", "a", "1"}) + "SET b 2\r\n" +
             multibulk({"GET", "a"}) + "GET b\r\n" + multibulk({"GET", "none"}),
         "a mixed pipeline");
  for (std::string_view want : {"+OK", "+OK", "\"1\"", "\"2\"", "(nil)"}) {
    Reply r = t.next_reply(c, "a reply of the mixed pipeline");
    if (!reply_matches(r, want))
      t.fail(fmt::format("mixed inline/multibulk pipeline: got {}, expected {}",
                         r.to_string(), want));
  }
}

void binary_safe_keys_values(TestContext& t) {
  ServerProcess& server = start_graded(t);
  std::string bytes = all_bytes();
  std::string reversed(bytes.rbegin(), bytes.rend());
  std::vector<std::pair<std::string, std::string>> pairs = {
      {bytes, reversed},
      {std::string("nul\0key", 7), std::string("\0\0\0", 3)},
      {"crlf\r\nkey", "*1\r\n$4\r\nPING\r\n"},  // framing as data
      {"empty", ""},
      {"", "empty key"},
  };
  {
    Client c = t.connect(server);
    for (const auto& [k, v] : pairs) expect_raw(t, c, {"SET", k, v}, "+OK");
    for (const auto& [k, v] : pairs) {
      Reply r = raw_call(t, c, {"GET", k});
      if (!r.is_bulk(v))
        t.fail(fmt::format("GET {} returned {}, expected {}", quote(k),
                           r.to_string(), quote(v)));
    }
  }
  if (!server.stop(SIGTERM, std::chrono::seconds(5)))
    t.fail("SIGTERM did not stop the server within 5 s");
  if (Status s = server.restart(); !s.ok())
    t.fail("restart after binary writes: " + s.message());
  Client c = t.connect(server);
  for (const auto& [k, v] : pairs) {
    Reply r = raw_call(t, c, {"GET", k});
    if (!r.is_bulk(v))
      t.fail(fmt::format("after a restart, GET {} returned {}, expected {}",
                         quote(k), r.to_string(), quote(v)));
  }
}

void split_requests(TestContext& t) {
  ServerProcess& server = start_graded(t);
  Client c = t.connect(server);
  std::string request = multibulk({"SET", "split", "a\r\nb"});
  for (char byte : request) t.send(c, std::string(1, byte), "one byte");
  Reply r = t.next_reply(c, "the reply to a SET sent one byte at a time");
  if (!r.is_simple("OK"))
    t.fail(fmt::format("a SET sent one byte at a time got {}", r.to_string()));
  expect_raw(t, c, {"GET", "split"}, "\"a\\r\\nb\"");

  std::string big = t.random_bytes(1 << 20);
  std::string bytes = multibulk({"SET", "big", big});
  for (size_t pos = 0; pos < bytes.size();) {
    size_t n = static_cast<size_t>(t.uniform(1, 100000));
    t.send(c, std::string_view(bytes).substr(pos, n), "part of a 1 MiB SET");
    pos += n;
  }
  r = t.next_reply(c, "the reply to a 1 MiB SET sent in random pieces");
  if (!r.is_simple("OK"))
    t.fail(fmt::format("a 1 MiB SET in random pieces got {}", r.to_string()));
  r = raw_call(t, c, {"GET", "big"});
  if (!r.is_bulk(big))
    t.fail(fmt::format("GET big returned {} bytes, not the 1 MiB value set",
                       r.text.size()));
}

void malformed_multibulk(TestContext& t) {
  ServerProcess& server = start_graded(t);
  {
    Client c = t.connect(server);
    t.send(c, "*x\r\n", "a bad count line");
    Reply r = t.next_reply(c, "the reply to *x");
    if (!r.is_error())
      t.fail(fmt::format("*x\\r\\n got {}, expected -ERR", r.to_string()));
    // The stream resynchronises at the next line.
    expect_raw(t, c, {"PING"}, "+PONG");
  }
  for (std::string bad :
       {std::string("*2\r\n$3\r\nGET\r\n:1\r\n"),
        std::string("*1\r\n$4\r\nPINGxx"), std::string("*2\r\n$x\r\n")}) {
    Client c = t.connect(server);
    t.send(c, bad, quote(bad));
    Reply r = t.next_reply(c, fmt::format("the reply to {}", quote(bad)));
    if (!r.is_error())
      t.fail(
          fmt::format("{} got {}, expected -ERR", quote(bad), r.to_string()));
    if (!c.wait_closed())
      t.fail(fmt::format(
          "after {} the connection stayed open: the bytes after a damaged "
          "array cannot be trusted to start a request",
          quote(bad)));
    t.expect_alive(server, quote(bad));
  }
  Client c = t.connect(server);
  t.expect(c, "PING", "+PONG");
}

void request_limits(TestContext& t) {
  ServerProcess& server = start_graded(t);
  Client other = t.connect(server);
  struct Case {
    std::string bytes, what;
  };
  for (const Case& k :
       {Case{"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n",
             "a bulk header of 1048577 bytes"},
        Case{"*1048577\r\n", "an array of 1048577 arguments"}}) {
    Client c = t.connect(server);
    // Only the header is sent: the server must refuse before the bytes.
    t.send(c, k.bytes, k.what);
    Reply r = t.next_reply(c, "the reply to " + k.what);
    if (!reply_matches(r, "-ERR*") || r.text.find("too") == std::string::npos)
      t.fail(fmt::format("{} got {}, expected -ERR ... too long/many", k.what,
                         r.to_string()));
    if (!c.wait_closed())
      t.fail(
          fmt::format("after refusing {} the connection stayed open", k.what));
    t.expect(other, "PING", "+PONG");
  }
  // Exactly at the limit is fine.
  Client c = t.connect(server);
  expect_raw(t, c, {"SET", "max", std::string(1 << 20, 'm')}, "+OK");
}

// -- the client half ---------------------------------------------------------

// The reference server, a proxy in front of it, and the graded library in
// its driver process, configured to use the proxy.
struct Rig {
  ServerProcess* server = nullptr;
  std::unique_ptr<FaultProxy> proxy;
  LibraryDriver driver;
};

struct RigOptions {
  milliseconds timeout{3000};
  milliseconds min_backoff{50};
  milliseconds max_backoff{400};
};

Rig start_rig(TestContext& t, RigOptions o = {}) {
  Rig rig;
  rig.server = &t.start_server_binary(
      t.reference_binary("lab03-server"),
      {"--data-dir", (t.out_dir() / "reference-data").string()});
  Result<std::unique_ptr<FaultProxy>> proxy =
      FaultProxy::start(rig.server->address());
  if (!proxy.ok())
    t.fail("grader: cannot start the proxy: " + proxy.status().message());
  rig.proxy = std::move(proxy).value();
  fs::path binary = t.binary("lab03-client-driver");
  fs::path log = t.out_dir() / "client-library.log";
  t.add_log(log);
  Result<LibraryDriver> driver = LibraryDriver::start(binary, log);
  if (!driver.ok())
    t.fail(fmt::format("cannot start {}: {}", binary.string(),
                       driver.status().message()));
  rig.driver = std::move(driver).value();
  Result<DriverResult> configured = rig.driver.run(
      fmt::format("config {} 1000 {} {} {}", rig.proxy->address().to_string(),
                  o.timeout.count(), o.min_backoff.count(),
                  o.max_backoff.count()),
      milliseconds(10000));
  if (!configured.ok()) t.fail(configured.status().message());
  return rig;
}

std::string hex(std::string_view bytes) { return driver_hex(bytes); }

// Checks what every call must do: return, within its deadline, from an
// implemented library.
DriverResult checked(TestContext& t, Rig& rig, const std::string& what,
                     Result<DriverResult> result, milliseconds deadline) {
  if (!result.ok()) {
    if (result.status().code() == StatusCode::kDeadlineExceeded)
      t.fail(fmt::format(
          "{} did not return within its {} ms deadline (still waiting {} s "
          "later): a read, write or connect without a deadline?",
          what, deadline.count(), (deadline + kStuckAfter).count() / 1000));
    t.fail(fmt::format("{}: {}", what, result.status().message()));
  }
  DriverResult r = std::move(result).value();
  if (r.kind == "not_implemented")
    t.fail(fmt::format("{}: {}", what, r.text));  // "not implemented: ..."
  auto took = std::chrono::duration_cast<milliseconds>(r.elapsed);
  if (took > deadline + kDeadlineSlack)
    t.fail(fmt::format("{} returned after {} ms, past its {} ms deadline ({})",
                       what, took.count(), deadline.count(), r.to_string()));
  t.note("{} -> {} in {} ms", what, r.to_string(), took.count());
  (void)rig;
  return r;
}

DriverResult call(TestContext& t, Rig& rig, const std::string& what,
                  const std::string& line, milliseconds deadline) {
  return checked(t, rig, what, rig.driver.run(line, deadline + kStuckAfter),
                 deadline);
}

DriverResult lib_set(TestContext& t, Rig& rig, std::string_view k,
                     std::string_view v,
                     milliseconds deadline = milliseconds(3000)) {
  return call(t, rig, fmt::format("set({}, {})", quote(k, 30), quote(v, 30)),
              fmt::format("set {} {} {}", hex(k), hex(v), deadline.count()),
              deadline);
}
DriverResult lib_get(TestContext& t, Rig& rig, std::string_view k,
                     milliseconds deadline = milliseconds(3000)) {
  return call(t, rig, fmt::format("get({})", quote(k, 30)),
              fmt::format("get {} {}", hex(k), deadline.count()), deadline);
}
DriverResult lib_op(TestContext& t, Rig& rig, std::string_view op,
                    std::string_view k,
                    milliseconds deadline = milliseconds(3000)) {
  return call(t, rig, fmt::format("{}({})", op, quote(k, 30)),
              fmt::format("{} {} {}", op, hex(k), deadline.count()), deadline);
}
DriverResult lib_ping(TestContext& t, Rig& rig,
                      milliseconds deadline = milliseconds(3000)) {
  return call(t, rig, "ping()", fmt::format("ping {}", deadline.count()),
              deadline);
}

void want_ok(TestContext& t, const DriverResult& r, std::string_view what) {
  if (r.kind != "ok")
    t.fail(fmt::format("{} returned {}, expected ok", what, r.to_string()));
}
void want_value(TestContext& t, const DriverResult& r, std::string_view what,
                std::string_view value) {
  if (r.kind != "value" || r.text != value)
    t.fail(fmt::format("{} returned {}, expected {}", what, r.to_string(),
                       quote(value, 40)));
}
void want_error(TestContext& t, const DriverResult& r, std::string_view what,
                std::initializer_list<std::string_view> kinds,
                std::string_view why) {
  bool matched = r.kind == "error" && std::find(kinds.begin(), kinds.end(),
                                                r.error_kind) != kinds.end();
  if (!matched)
    t.fail(fmt::format("{} returned {}, expected error {} ({})", what,
                       r.to_string(), fmt::join(kinds, " or "), why));
}

// The server sees what the proxy forwards to it: how many times did a
// request carrying this unique token get there?
size_t times_sent(const FaultProxy& proxy, std::string_view token) {
  std::string seen = proxy.captured(Direction::kToServer);
  size_t count = 0;
  for (size_t pos = seen.find(token); pos != std::string::npos;
       pos = seen.find(token, pos + 1))
    ++count;
  return count;
}

// Sends a 3000 ms call whose request the proxy swallows and answers with
// reply instead, as if the server had sent it; the proxy is left in
// black_hole mode.
DriverResult answered_by_proxy(TestContext& t, Rig& rig,
                               const std::string& what, const std::string& line,
                               const std::string& reply) {
  rig.proxy->black_hole();
  if (Status s = rig.driver.send(line); !s.ok()) t.fail(s.message());
  if (!rig.proxy->wait_until(
          [](const FaultProxy::Stats& s) {
            return s.to_server.swallowed_bytes > 0;
          },
          kStuckAfter))
    t.fail(fmt::format("{}: the library sent nothing", what));
  rig.proxy->inject(Direction::kToClient, reply);
  return checked(t, rig, what,
                 rig.driver.result(milliseconds(3000) + kStuckAfter),
                 milliseconds(3000));
}

void client_basic_calls(TestContext& t) {
  Rig rig = start_rig(t);
  want_ok(t, lib_ping(t, rig), "ping()");
  want_ok(t, lib_set(t, rig, "k", "v"), "set(k, v)");
  want_value(t, lib_get(t, rig, "k"), "get(k)", "v");
  DriverResult e = lib_op(t, rig, "exists", "k");
  if (e.kind != "bool" || e.integer != 1)
    t.fail("exists(k) after set returned " + e.to_string());
  DriverResult d = lib_op(t, rig, "del", "k");
  if (d.kind != "bool" || d.integer != 1)
    t.fail("del(k) of a present key returned " + d.to_string());
  d = lib_op(t, rig, "del", "k");
  if (d.kind != "bool" || d.integer != 0)
    t.fail("del(k) of an absent key returned " + d.to_string());
  DriverResult absent = lib_get(t, rig, "k");
  if (absent.kind != "nil")
    t.fail(
        fmt::format("get(k) of an absent key returned {}, expected nil "
                    "(absent is not an error)",
                    absent.to_string()));
  // A -ERR reply: the proxy swallows a request and answers it with an
  // error, as a server that refused it would. The connection stays usable.
  DriverResult refused = answered_by_proxy(t, rig, "get(k) answered -ERR",
                                           fmt::format("get {} 3000", hex("k")),
                                           "-ERR refused by the test\r\n");
  want_error(t, refused, "get(k) answered with -ERR", {"server"},
             "the server said no");
  rig.proxy->pass();
  uint64_t accepted = rig.proxy->stats().accepted;
  want_ok(t, lib_set(t, rig, "k", "after"), "set(k, after) after a -ERR");
  if (rig.proxy->stats().accepted != accepted)
    t.fail(
        "after a -ERR reply the library opened a new connection: a server "
        "error says nothing is wrong with the connection");
  want_value(t, lib_get(t, rig, "k"), "get(k)", "after");
}

void client_binary_values(TestContext& t) {
  Rig rig = start_rig(t);
  std::string bytes = all_bytes();
  std::string key = std::string("k\0\r\n y", 6);
  want_ok(t, lib_set(t, rig, key, bytes), "set of every byte value");
  want_value(t, lib_get(t, rig, key), "get of every byte value", bytes);
  want_ok(t, lib_set(t, rig, "empty", ""), "set(empty, \"\")");
  want_value(t, lib_get(t, rig, "empty"), "get(empty)", "");
  for (int i = 0; i < 3; ++i) {
    std::string big = t.random_bytes(1 << 20);
    std::string k = fmt::format("big{}", i);
    want_ok(t, lib_set(t, rig, k, big, milliseconds(10000)),
            "set of a 1 MiB value");
    DriverResult got = lib_get(t, rig, k, milliseconds(10000));
    if (got.kind != "value" || got.text != big)
      t.fail(
          fmt::format("get of a 1 MiB value returned {} ({} bytes); a "
                      "reply arrives in many reads",
                      got.to_string(), got.text.size()));
  }
}

void client_pipeline_10000(TestContext& t) {
  Rig rig = start_rig(t);
  std::vector<std::string> requests;
  for (int i = 0; i < 5000; ++i) {
    requests.push_back(fmt::format("set {} {}", hex(fmt::format("k{}", i)),
                                   hex(fmt::format("v{}", i))));
    requests.push_back(fmt::format("get {}", hex(fmt::format("k{}", i))));
  }
  milliseconds deadline(20000);
  DriverResult r =
      checked(t, rig, "a pipeline of 10,000 requests",
              rig.driver.pipeline(deadline, requests, deadline + kStuckAfter),
              deadline);
  if (r.replies.size() != requests.size())
    t.fail(fmt::format("a pipeline of 10,000 requests gave {} results",
                       r.replies.size()));
  for (int i = 0; i < 5000; ++i) {
    const DriverResult& set = r.replies[2 * i];
    const DriverResult& get = r.replies[2 * i + 1];
    if (set.kind != "status" || set.text != "OK")
      t.fail(fmt::format("pipeline request {} (set k{}) got {}", 2 * i, i,
                         set.to_string()));
    if (get.kind != "bulk" || get.text != fmt::format("v{}", i))
      t.fail(
          fmt::format("pipeline request {} (get k{}) got {}, expected "
                      "\"v{}\": replies out of order?",
                      2 * i + 1, i, get.to_string(), i));
  }
  // 32 MiB each way, each big SET followed by a GET of it: replies pile up
  // while requests are still being sent. A client that writes everything
  // before reading deadlocks against a server that stops reading a client
  // whose replies pass its output limit. Straight to the server, since the
  // proxy's own buffers would hide it.
  Result<DriverResult> direct =
      rig.driver.run(fmt::format("config {} 1000 3000 50 400",
                                 rig.server->address().to_string()),
                     milliseconds(10000));
  if (!direct.ok()) t.fail(direct.status().message());
  std::string value(256 * 1024, 'x');
  requests.clear();
  for (int i = 0; i < 128; ++i) {
    requests.push_back(
        fmt::format("set {} {}", hex(fmt::format("big{}", i)), hex(value)));
    requests.push_back(fmt::format("get {}", hex(fmt::format("big{}", i))));
  }
  r = checked(t, rig, "a pipeline of 128 times a 256 KiB set and its get",
              rig.driver.pipeline(deadline, requests, deadline + kStuckAfter),
              deadline);
  for (size_t i = 0; i < r.replies.size(); ++i) {
    bool ok = i % 2 == 0
                  ? r.replies[i].kind == "status"
                  : r.replies[i].kind == "bulk" && r.replies[i].text == value;
    if (!ok)
      t.fail(fmt::format("big pipeline request {} got {}", i,
                         r.replies[i].to_string()));
  }
}

void client_black_hole_deadline(TestContext& t) {
  Rig rig = start_rig(t);
  want_ok(t, lib_set(t, rig, "k", "v"), "set(k, v)");
  rig.proxy->black_hole();
  milliseconds deadline(500);
  DriverResult g = lib_get(t, rig, "k", deadline);
  want_error(t, g, "get(k) into a black hole", {"unknown"},
             "the request was sent and no reply came");
  DriverResult s = lib_set(t, rig, "k", "lost", deadline);
  want_error(t, s, "set(k) into a black hole", {"unknown"},
             "the request was sent and no reply came: it may have happened");
  rig.proxy->pass();
  DriverResult after = lib_get(t, rig, "k");
  if (after.kind != "value")
    t.fail(
        fmt::format("get(k) after the network healed returned {}; the "
                    "next call must recover",
                    after.to_string()));
}

void client_delayed_replies(TestContext& t) {
  Rig rig = start_rig(t);
  want_ok(t, lib_set(t, rig, "b", "bee"), "set(b, bee)");
  rig.proxy->delay(milliseconds(100));
  want_ok(t, lib_set(t, rig, "a", "1"), "set(a, 1) delayed 100 ms");
  want_value(t, lib_get(t, rig, "a"), "get(a) delayed 100 ms", "1");
  rig.proxy->delay(milliseconds(2000));
  DriverResult late = lib_set(t, rig, "a", "2", milliseconds(400));
  want_error(t, late, "set(a, 2) with replies 2 s late and a 400 ms deadline",
             {"unknown"}, "sent, no reply in time");
  rig.proxy->pass();
  // The +OK of that SET is still on its way. It must not be taken as the
  // reply to the next request.
  DriverResult b = lib_get(t, rig, "b", milliseconds(5000));
  if (b.kind != "value" || b.text != "bee")
    t.fail(fmt::format(
        "get(b) after a timed-out set returned {}, expected \"bee\": was the "
        "late reply to the set read as this one's?",
        b.to_string()));
  DriverResult b2 = lib_get(t, rig, "b", milliseconds(5000));
  want_value(t, b2, "get(b) again", "bee");
}

void client_cut_mid_reply(TestContext& t) {
  Rig rig = start_rig(t);
  want_ok(t, lib_ping(t, rig), "ping()");
  std::string token = hex(t.random_bytes(48));
  rig.proxy->cut_after(Direction::kToClient, 2);  // "+O", then reset
  DriverResult s = lib_set(t, rig, "k", token);
  want_error(t, s, "set(k) whose reply was cut after 2 bytes", {"unknown"},
             "the server got it and may have applied it");
  // A resend reaches the server as a second copy of the token, before the
  // next call's request (which goes on the same connection as the resend).
  want_value(t, lib_get(t, rig, "k"), "get(k) after the cut", token);
  if (size_t n = times_sent(*rig.proxy, token); n != 1)
    t.fail(fmt::format(
        "the server received set(k) {} times: a write whose outcome is "
        "unknown must be reported, not resent",
        n));

  std::string big = t.random_bytes(200000);
  want_ok(t, lib_set(t, rig, "big", big), "set(big)");
  rig.proxy->cut_after(Direction::kToClient, 100000);
  DriverResult g = lib_get(t, rig, "big");
  if (g.kind == "value") {
    if (g.text != big)
      t.fail(
          fmt::format("get(big) with its reply cut returned a wrong value "
                      "({} bytes)",
                      g.text.size()));
  } else {
    want_error(t, g, "get(big) with its reply cut", {"unknown", "connection"},
               "or the value, read again on a new connection");
  }
  DriverResult again = lib_get(t, rig, "big");
  if (again.kind != "value" || again.text != big)
    t.fail(
        fmt::format("get(big) after the cut returned {}; the next call must "
                    "recover",
                    again.to_string()));
}

void client_garbage_reply(TestContext& t) {
  Rig rig = start_rig(t);
  want_ok(t, lib_set(t, rig, "k", "v"), "set(k, v)");
  // A write, so that no retry hides what the library made of the garbage
  // (a read may rightly be retried on a new connection).
  DriverResult g =
      answered_by_proxy(t, rig, "set(k, w) answered with garbage",
                        fmt::format("set {} {} 3000", hex("k"), hex("w")),
                        "HTTP/1.1 400 Bad Request\r\n\r\n");
  want_error(t, g, "set(k, w) answered with garbage", {"unknown"},
             "a reply that is not RESP: the connection is lost, and whether "
             "the server applied the set is not known");
  if (g.elapsed > std::chrono::milliseconds(2500))
    t.fail(
        fmt::format("set(k, w) answered with garbage returned only at its "
                    "deadline ({}): a reply that is not RESP is an error "
                    "at once",
                    g.to_string()));
  rig.proxy->pass();
  want_value(t, lib_get(t, rig, "k"), "get(k) after a garbage reply", "v");
  want_ok(t, lib_set(t, rig, "k", "w"), "set(k, w) after a garbage reply");
}

void client_server_restart(TestContext& t) {
  Rig rig = start_rig(t);
  want_ok(t, lib_set(t, rig, "k", "v"), "set(k, v)");
  if (!rig.server->stop(SIGTERM, std::chrono::seconds(5)))
    t.fail("grader: the reference server did not stop");
  if (Status s = rig.server->restart(); !s.ok())
    t.fail("grader: the reference server did not restart: " + s.message());
  // The old connection was closed by the server. A write now must go on a
  // new one: nothing was sent, so nothing is in doubt.
  want_ok(t, lib_set(t, rig, "k2", "v2"),
          "set(k2, v2), the first call after the server restarted");
  want_value(t, lib_get(t, rig, "k"), "get(k) after the restart", "v");
}

void client_refused_backoff(TestContext& t) {
  Rig rig = start_rig(t);
  want_ok(t, lib_set(t, rig, "k", "v"), "set(k, v)");
  rig.proxy->refuse();
  rig.proxy->cut();
  uint64_t before = rig.proxy->stats().accepted;
  const int calls = 40;
  for (int i = 0; i < calls; ++i) {
    DriverResult r = lib_get(t, rig, "k", milliseconds(25));
    want_error(t, r, "get(k) while connections are refused",
               {"connection", "unknown"}, "no server to answer");
  }
  uint64_t attempts = rig.proxy->stats().accepted - before;
  if (attempts > calls / 2)
    t.fail(fmt::format(
        "{} calls while the server refused made {} connection attempts: "
        "after repeated failures, reconnects must back off",
        calls, attempts));
  rig.proxy->pass();
  DriverResult r = lib_get(t, rig, "k", milliseconds(3000));
  if (r.kind != "value")
    t.fail(
        fmt::format("get(k) with a 3 s deadline once the server accepted "
                    "again returned {}; the backoff (at most 400 ms here) "
                    "must end",
                    r.to_string()));
}

void client_pipeline_cut_keeps_order(TestContext& t) {
  Rig rig = start_rig(t);
  const int n = 1000;
  std::vector<std::string> values, sets, gets, gets_reversed;
  size_t reply_bytes = 0;
  for (int i = 0; i < n; ++i) {
    values.push_back(fmt::format("value-{}-{}", i, std::string(i % 50, 'v')));
    sets.push_back(fmt::format("set {} {}", hex(fmt::format("k{}", i)),
                               hex(values.back())));
    gets.push_back(fmt::format("get {}", hex(fmt::format("k{}", i))));
    // What the server sends back for this GET: $<len>\r\n<value>\r\n.
    reply_bytes += fmt::format("${}\r\n", values.back().size()).size() +
                   values.back().size() + 2;
  }
  gets_reversed.assign(gets.rbegin(), gets.rend());
  milliseconds deadline(10000);
  DriverResult r = checked(
      t, rig, "a pipeline of 1000 sets",
      rig.driver.pipeline(deadline, sets, deadline + kStuckAfter), deadline);
  for (size_t i = 0; i < r.replies.size(); ++i)
    if (r.replies[i].kind != "status")
      t.fail(fmt::format("a pipeline of 1000 sets: request {} got {}", i,
                         r.replies[i].to_string()));
  rig.proxy->cut_after(Direction::kToClient, static_cast<size_t>(t.uniform(
                                                 1000, reply_bytes - 1000)));
  r = checked(t, rig, "a pipeline of 1000 gets, cut in the middle",
              rig.driver.pipeline(deadline, gets, deadline + kStuckAfter),
              deadline);
  int answered = 0;
  for (int i = 0; i < n && i < static_cast<int>(r.replies.size()); ++i) {
    const DriverResult& reply = r.replies[i];
    if (reply.kind == "bulk") {
      if (reply.text != values[i])
        t.fail(
            fmt::format("cut pipeline: get(k{}) returned {}, the value of "
                        "another key",
                        i, reply.to_string()));
      ++answered;
    } else if (reply.kind != "error" || reply.error_kind == "server") {
      t.fail(fmt::format("cut pipeline: get(k{}) returned {}", i,
                         reply.to_string()));
    }
  }
  if (answered == n)
    t.fail("grader: the cut did not happen (all 1000 answered)");
  r = checked(
      t, rig, "a pipeline of 1000 gets after the cut",
      rig.driver.pipeline(deadline, gets_reversed, deadline + kStuckAfter),
      deadline);
  for (int i = 0; i < n; ++i) {
    const DriverResult& reply = r.replies.at(static_cast<size_t>(i));
    const std::string& want = values[static_cast<size_t>(n - 1 - i)];
    if (reply.kind != "bulk" || reply.text != want)
      t.fail(
          fmt::format("pipeline after a cut: request {} (get k{}) returned "
                      "{}, expected {}: bytes of the old connection read "
                      "as replies?",
                      i, n - 1 - i, reply.to_string(), quote(want)));
  }
}

}  // namespace

std::vector<TestCase> lab03_suite() {
  return {
      {"multibulk_requests",
       "multibulk and inline requests on one connection, replies in order",
       multibulk_requests},
      {"binary_safe_keys_values",
       "every byte 0-255 in keys and values, empty ones; kept over a restart",
       binary_safe_keys_values},
      {"split_requests",
       "a request one byte at a time; a 1 MiB value in random pieces",
       split_requests},
      {"malformed_multibulk",
       "bad count: -ERR, go on; damage inside an array: -ERR and close",
       malformed_multibulk},
      {"request_limits",
       "over 1 MiB or 1M arguments: -ERR too long and close, before buffering",
       request_limits},
      {"client_basic_calls",
       "set/get/del/exists/ping; absent is nil; -ERR is a server error",
       client_basic_calls},
      {"client_binary_values", "every byte value and 1 MiB values round-trip",
       client_binary_values},
      {"client_pipeline_10000",
       "10,000 pipelined requests in order; 64 MiB without deadlock",
       client_pipeline_10000},
      {"client_black_hole_deadline",
       "a black-holed call ends by its deadline as unknown; then recovers",
       client_black_hole_deadline, 2},
      {"client_delayed_replies",
       "late replies: unknown, and never read as the next call's reply",
       client_delayed_replies, 2},
      {"client_cut_mid_reply",
       "reply cut: a write is unknown and not resent; the next call works",
       client_cut_mid_reply, 2},
      {"client_garbage_reply",
       "a reply that is not RESP: unknown, connection dropped, next call works",
       client_garbage_reply},
      {"client_server_restart",
       "the server restarted between calls: the next call succeeds",
       client_server_restart},
      {"client_refused_backoff",
       "refused: connection errors by the deadline, reconnects back off",
       client_refused_backoff},
      {"client_pipeline_cut_keeps_order",
       "a pipeline cut midway: no wrong values; the next one in order",
       client_pipeline_cut_keeps_order, 2},
  };
}

}  // namespace kv::grader
