// The lab 01 hidden suite: lab01-server as a black box over real TCP.
// Each test names the behaviour it checks (the handout lists the same names)
// and the known bug in bugs/lab01/ it exists to catch. Loads are modest and
// every wait is bounded by an event or a deadline that only bounds a hang,
// so the suite passes under tsan and on a loaded machine.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "suites.h"

namespace kv::grader {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Every server runs four event loops, whatever the machine's cores: with
// the default of one, a store without its lock would never be raced and
// bugs/lab01/no_lock would pass.
ServerProcess& start_lab01(TestContext& t,
                           std::vector<std::string> extra_args = {}) {
  extra_args.insert(extra_args.begin(), {"--threads", "4"});
  return t.start_server(std::move(extra_args));
}

// n clients at once: with a server that runs several threads, some of them
// share any given client's thread, whatever way the server spreads them.
std::vector<Client> connect_many(TestContext& t, ServerProcess& server, int n) {
  std::vector<Client> clients;
  for (int i = 0; i < n; ++i) clients.push_back(t.connect(server));
  return clients;
}

// A client must see its connection closed by the server.
void expect_closed(TestContext& t, Client& client, std::string_view after) {
  if (!client.wait_closed())
    t.fail(fmt::format("the server kept the connection open after {}", after));
}

// -- commands --------------------------------------------------------------

void ping(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  t.expect(c, "PING", "+PONG");
  t.expect(c, "PING hello", "\"hello\"");
  t.expect(c, "ping", "+PONG");
}

void set_get_overwrite(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  std::string key = fmt::format("key{}", t.uniform(0, 999999));
  t.expect(c, "GET " + key, "(nil)");
  t.expect(c, "SET " + key + " first", "+OK");
  t.expect(c, "GET " + key, "\"first\"");
  t.expect(c, "SET " + key + " second", "+OK");
  t.expect(c, "GET " + key, "\"second\"");
  Client other = t.connect(server);  // one store for every connection
  t.expect(other, "GET " + key, "\"second\"");
  t.expect(c, "GET other" + key, "(nil)");
}

void del_and_exists(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  t.expect(c, "SET a 1", "+OK");
  t.expect(c, "SET b 2", "+OK");
  t.expect(c, "EXISTS a", ":1");
  t.expect(c, "EXISTS nope", ":0");
  t.expect(c, "DEL a b nope", ":2");
  t.expect(c, "DEL a", ":0");
  t.expect(c, "EXISTS a", ":0");
  t.expect(c, "GET b", "(nil)");
}

void command_names_any_case(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  t.expect(c, "sEt Key Value", "+OK");
  t.expect(c, "get Key", "\"Value\"");
  t.expect(c, "GET key", "(nil)");  // names fold case, keys do not
  t.expect(c, "Exists Key", ":1");
  t.expect(c, "dEl Key", ":1");
}

void quit_closes(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  t.expect(c, "SET kept yes", "+OK");
  t.expect(c, "QUIT", "+OK");
  expect_closed(t, c, "+OK to QUIT");
  Client other = t.connect(server);
  t.expect(other, "GET kept", "\"yes\"");
}

void quoted_values(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  t.expect(c, R"(SET greeting "hello world")", "+OK");
  t.expect(c, "GET greeting", "\"hello world\"");
  t.expect(c, R"(SET q "say \"hi\" \\ bye")", "+OK");
  t.expect(c, "GET q", R"("say \"hi\" \\ bye")");
  t.expect(c, R"(SET nl "two\nlines")", "+OK");
  t.expect(c, "GET nl", R"("two\nlines")");
  t.expect(c, R"(SET empty "")", "+OK");
  t.expect(c, "GET empty", "\"\"");
  t.expect(c, R"(SET "key with spaces" v)", "+OK");
  t.expect(c, R"(GET "key with spaces")", "\"v\"");
  t.expect(c, R"(GET key)", "(nil)");
}

void line_endings(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  // The same key written with \r\n and read with \n, and the other way
  // round: a server that keeps the \r sees two different keys.
  t.send(c, "SET crlf one\r\nSET lf two\n", "SET crlf one\\r\\n SET lf two\\n");
  t.send(c, "GET crlf\nGET lf\r\nPING\n", "GET crlf\\n GET lf\\r\\n PING\\n");
  const char* want[] = {"+OK", "+OK", "\"one\"", "\"two\"", "+PONG"};
  const char* what[] = {"SET crlf one\\r\\n", "SET lf two\\n", "GET crlf\\n",
                        "GET lf\\r\\n", "PING\\n"};
  for (int i = 0; i < 5; ++i) {
    Reply reply = t.next_reply(c, what[i]);
    if (!reply_matches(reply, want[i]))
      t.fail(
          fmt::format("{} replied {}, expected {} (a \\r kept in a key or "
                      "value?)",
                      what[i], reply.to_string(), want[i]));
  }
}

void large_value(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  std::string value;
  for (int i = 0; i < 60000; ++i)
    value += static_cast<char>('a' + t.uniform(0, 25));
  t.expect(c, "SET big " + value, "+OK");
  Reply reply = t.call(c, "GET big");
  if (!reply.is_bulk(value))
    t.fail(fmt::format("GET big of a 60000-byte value replied {}",
                       reply.to_string()));
}

// -- bad input -------------------------------------------------------------

void errors_keep_connection(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  const std::pair<const char*, const char*> kBad[] = {
      {"FLY me", "-ERR*"},        {"GET", "-ERR*"},
      {"GET a b", "-ERR*"},       {"SET k", "-ERR*"},
      {"SET k v extra", "-ERR*"}, {"DEL", "-ERR*"},
      {"EXISTS", "-ERR*"},        {"SET k \"unterminated", "-ERR*"},
      {"SET k \"a\"b", "-ERR*"},  {"PING a b", "-ERR*"},
  };
  for (const auto& [line, want] : kBad) {
    t.expect(c, line, want);
    t.expect(c, "PING", "+PONG");  // same connection, still in step
  }
  t.send(c, "\r\n\n", "empty lines");  // ignored, as Redis does
  t.expect(c, "PING", "+PONG");
}

void line_too_long(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client bystander = t.connect(server);
  Client c = t.connect(server);
  t.send(c, std::string(70 * 1024, 'x'), "a 70 KiB line with no newline");
  Reply reply = t.next_reply(c, "a 70 KiB line");
  if (!reply.is_error() || reply.text.find("too long") == std::string::npos)
    t.fail(
        fmt::format("a 70 KiB line (limit 64 KiB) replied {}, expected "
                    "-ERR ... too long",
                    reply.to_string()));
  expect_closed(t, c, "a line over the limit");
  t.expect_alive(server, "a line over the limit");
  t.expect(bystander, "PING", "+PONG");
  // Just under the limit is an ordinary request.
  Client d = t.connect(server);
  t.expect(d, "SET k " + std::string(60 * 1024, 'v'), "+OK");
}

void binary_garbage(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client bystander = t.connect(server);
  int rounds = t.quick() ? 10 : 40;
  for (int round = 0; round < rounds; ++round) {
    Client c = t.connect(server);
    // Random bytes, newlines and NULs included; sizes to 32 KiB.
    std::string junk =
        t.random_bytes(static_cast<size_t>(t.uniform(1, 32 * 1024)));
    if (!c.send(junk).ok()) continue;  // the server may close on it: fine
    c.send("\r\nPING\r\n").ok();
    c.close();
  }
  t.expect_alive(server, "random binary input");
  t.expect(bystander, "PING", "+PONG");
  Client fresh = t.connect(server);
  t.expect(fresh, "SET after garbage", "+OK");
  t.expect(fresh, "GET after", "\"garbage\"");
}

void disconnect_mid_line(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  int clients = t.quick() ? 20 : 100;
  for (int i = 0; i < clients; ++i) {
    Client c = t.connect(server);
    c.send(fmt::format("SET half{} \"never fin", i)).ok();
    if (i % 2 == 0) {
      // Abortive close: the server's next read fails with ECONNRESET.
      linger abort{1, 0};
      ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
    c.close();
  }
  t.expect_alive(server, "clients that hung up in the middle of a line");
  Client c = t.connect(server);
  t.expect(c, "EXISTS half0", ":0");
  t.expect(c, "PING", "+PONG");
}

void slow_writer(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client slow = t.connect(server);
  std::string request = "SET slow \"one byte at a time\"\r\n";
  // The slow client stops halfway through its line ...
  size_t half = request.size() / 2;
  for (size_t i = 0; i < half; ++i)
    t.send(slow, request.substr(i, 1), "a byte");
  // ... and everyone else must be served meanwhile: eight clients, so that
  // some share the slow one's thread however the server spreads them.
  std::vector<Client> others = connect_many(t, server, 8);
  for (int i = 0; i < 48; ++i)
    t.expect(others[i % 8], fmt::format("SET o{} {}", i, i), "+OK");
  Client third = t.connect(server);
  t.expect(third, "GET o47", "\"47\"");
  for (size_t i = half; i < request.size(); ++i)
    t.send(slow, request.substr(i, 1), "a byte");
  Reply reply = t.next_reply(slow, "the slow SET");
  if (!reply.is_simple("OK"))
    t.fail(fmt::format("a SET sent one byte per write replied {}",
                       reply.to_string()));
  t.expect(slow, "GET slow", "\"one byte at a time\"");
}

void slow_reader(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client reader = t.connect(server);
  t.expect(reader, "SET big " + std::string(60000, 'r'), "+OK");
  // Ask for ~120 MB of replies and read none of them: the socket buffers
  // fill, and the server must hold this client back without stalling others.
  std::string gets;
  for (int i = 0; i < 2000; ++i) gets += "GET big\r\n";
  t.send(reader, gets, "2000 pipelined GETs");
  std::vector<Client> others = connect_many(t, server, 8);
  for (int i = 0; i < 48; ++i)
    t.expect(others[i % 8], fmt::format("SET r{} {}", i, i), "+OK");
  t.expect(others[0], "GET r7", "\"7\"");
  reader.close();
  t.expect_alive(server, "a client that never read its replies");
  Client fresh = t.connect(server);
  t.expect(fresh, "PING", "+PONG");
}

// -- pipelining ------------------------------------------------------------

void pipeline_1000(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  std::string batch;
  std::vector<std::string> requests, wants;
  std::map<std::string, std::string> model;
  for (int i = 0; i < 1000; ++i) {
    std::string key = fmt::format("p{}", t.uniform(0, 49));
    if (t.uniform(0, 1) == 0) {
      std::string value = fmt::format("v{}", i);
      requests.push_back("SET " + key + " " + value);
      wants.push_back("+OK");
      model[key] = value;
    } else {
      requests.push_back("GET " + key);
      auto it = model.find(key);
      wants.push_back(it == model.end() ? "(nil)" : "\"" + it->second + "\"");
    }
    batch += requests.back() + (t.uniform(0, 1) ? "\r\n" : "\n");
  }
  t.send(c, batch, "1000 pipelined requests in one write");
  for (size_t i = 0; i < requests.size(); ++i) {
    Reply reply = t.next_reply(
        c, fmt::format("reply {} of 1000 ({})", i + 1, quote(requests[i])));
    if (!reply_matches(reply, wants[i]))
      t.fail(
          fmt::format("reply {} of 1000 pipelined requests ({}) was {}, "
                      "expected {}: replies lost or out of order",
                      i + 1, requests[i], reply.to_string(), wants[i]));
  }
}

// Replies far bigger than the socket buffers: the server's writes are cut
// short and must be resumed exactly where the kernel stopped taking bytes.
void large_pipeline_intact(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  constexpr int kKeys = 4;
  constexpr size_t kValueBytes = 60000;
  std::vector<std::string> values;
  for (int k = 0; k < kKeys; ++k) {
    // Every 8-byte stretch names its key and offset, so a hole or a shift
    // shows up as a mismatch, not as a value that happens to look right.
    std::string value;
    while (value.size() < kValueBytes)
      value += fmt::format("{}{:07}", k, value.size() % 10000000);
    value.resize(kValueBytes);
    t.expect(c, fmt::format("SET big{} {}", k, value), "+OK");
    values.push_back(std::move(value));
  }
  const int gets = t.quick() ? 100 : 400;
  std::string batch;
  for (int i = 0; i < gets; ++i)
    batch += fmt::format("GET big{}\r\n", i % kKeys);
  t.send(c, batch, fmt::format("{} pipelined GETs of 60 KB values", gets));
  for (int i = 0; i < gets; ++i) {
    Reply reply = t.next_reply(c, fmt::format("reply {} of {}", i + 1, gets));
    const std::string& want = values[i % kKeys];
    if (reply.is_bulk(want)) continue;
    std::string what = reply.to_string();
    if (reply.kind == Reply::Kind::kBulk) {
      size_t at = 0;
      while (at < reply.text.size() && at < want.size() &&
             reply.text[at] == want[at])
        ++at;
      what = fmt::format("a {}-byte value that differs from byte {}",
                         reply.text.size(), at);
    }
    t.fail(
        fmt::format("reply {} of {} (GET big{}) was {}, expected the "
                    "60000-byte value set earlier: part of a write was "
                    "lost or repeated",
                    i + 1, gets, i % kKeys, what));
  }
}

void split_requests(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  std::string stream;
  int n = 100;
  for (int i = 0; i < n; ++i)
    stream += fmt::format("SET s{} \"value {}\"\r\nGET s{}\r\n", i, i, i);
  // Cut the stream at random points, down to single bytes.
  size_t at = 0;
  while (at < stream.size()) {
    size_t size = static_cast<size_t>(t.uniform(1, 40));
    t.send(c, stream.substr(at, size), "a fragment");
    at += size;
  }
  for (int i = 0; i < n; ++i) {
    Reply set = t.next_reply(c, fmt::format("SET s{}", i));
    Reply get = t.next_reply(c, fmt::format("GET s{}", i));
    std::string want = fmt::format("value {}", i);
    if (!set.is_simple("OK") || !get.is_bulk(want))
      t.fail(
          fmt::format("requests cut into random fragments: SET s{} got {}, "
                      "GET s{} got {} (expected +OK and {})",
                      i, set.to_string(), i, get.to_string(), quote(want)));
  }
  // Fragments sent quickly may reach the server together and be read as
  // one. Here the first part of each SET travels with a PING in one write,
  // so the +PONG proves the server has read that part before the rest is
  // sent: the request is certainly split across two reads.
  for (int i = 0; i < 10; ++i) {
    const std::string value = fmt::format("fenced-{}", i);
    const std::string request = fmt::format("SET f{} {}\r\n", i, value);
    const size_t cut =
        static_cast<size_t>(t.uniform(1, static_cast<int>(request.size()) - 1));
    t.send(c, "PING\r\n" + request.substr(0, cut), "a PING and part of a SET");
    Reply pong = t.next_reply(c, "the PING before a split SET");
    if (!pong.is_simple("PONG"))
      t.fail(fmt::format("PING followed by part of a SET got {}",
                         pong.to_string()));
    t.send(c, request.substr(cut), "the rest of the SET");
    Reply set =
        t.next_reply(c, fmt::format("SET f{} split at byte {}", i, cut));
    if (!set.is_simple("OK"))
      t.fail(
          fmt::format("{} sent as {} and, after the server had read that, "
                      "{}, got {}: the first part was lost",
                      quote(request), quote(request.substr(0, cut)),
                      quote(request.substr(cut)), set.to_string()));
    t.expect(c, fmt::format("GET f{}", i), "\"" + value + "\"");
  }
}

// -- concurrency -----------------------------------------------------------

void concurrent_disjoint_keys(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  const int clients = t.quick() ? 8 : 16;
  const int keys = t.quick() ? 500 : 2000;
  const uint64_t salt = t.rng()();
  run_workers(t, clients, [&](int id) -> std::optional<std::string> {
    Result<Client> c = Client::connect(server.address());
    if (!c.ok()) return c.status().message();
    // Batches of 100 pipelined SETs: many writers inside the map at once.
    for (int base = 0; base < keys; base += 100) {
      std::string batch;
      for (int k = base; k < base + 100 && k < keys; ++k)
        batch += fmt::format("SET c{}:{} {}\r\n", id, k,
                             salt + static_cast<uint64_t>(k));
      if (Status s = c.value().send(batch); !s.ok()) return s.message();
      for (int k = base; k < base + 100 && k < keys; ++k) {
        Result<Reply> r = c.value().read_reply();
        if (!r.ok())
          return fmt::format("SET c{}:{}: {}", id, k, r.status().message());
        if (!r.value().is_simple("OK"))
          return fmt::format("SET c{}:{} replied {}", id, k,
                             r.value().to_string());
      }
    }
    return std::nullopt;
  });
  t.expect_alive(server, "concurrent SETs");
  Client check = t.connect(server);
  for (int id = 0; id < clients; ++id) {
    std::string batch;
    for (int k = 0; k < keys; ++k)
      batch += fmt::format("GET c{}:{}\r\n", id, k);
    t.send(check, batch, "the final GETs");
    for (int k = 0; k < keys; ++k) {
      Reply r = t.next_reply(check, fmt::format("GET c{}:{}", id, k));
      std::string want = std::to_string(salt + static_cast<uint64_t>(k));
      if (!r.is_bulk(want))
        t.fail(
            fmt::format("after {} clients each set {} keys of their own, "
                        "GET c{}:{} replied {}, expected {}: a write was "
                        "lost (is the map locked?)",
                        clients, keys, id, k, r.to_string(), quote(want)));
    }
  }
}

// A value that says who wrote it and to which key, padded past the small-
// string buffer so that it lives on the heap: a GET that copies it while a
// writer replaces it reads freed or half-written memory, and shows it.
std::string shared_value(int key, int writer, int round) {
  std::string value = fmt::format("k{}:w{}-{}:", key, writer, round);
  value.append(48, static_cast<char>('a' + (writer + round) % 26));
  return value;
}

// True when text is exactly shared_value(key, w, r) for some writer w and
// round r.
bool is_shared_value(int key, std::string_view text) {
  int writer = 0, round = 0;
  std::string prefix = fmt::format("k{}:w", key);
  if (!text.starts_with(prefix)) return false;
  const char* p = text.data() + prefix.size();
  const char* end = text.data() + text.size();
  auto [after_writer, e1] = std::from_chars(p, end, writer);
  if (e1 != std::errc() || after_writer == end || *after_writer != '-')
    return false;
  auto [after_round, e2] = std::from_chars(after_writer + 1, end, round);
  if (e2 != std::errc()) return false;
  return text == shared_value(key, writer, round);
}

void concurrent_shared_keys(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  const int clients = t.quick() ? 8 : 16;
  const int rounds = t.quick() ? 200 : 600;
  const int shared = 8;
  run_workers(t, clients, [&](int id) -> std::optional<std::string> {
    Result<Client> c = Client::connect(server.address());
    if (!c.ok()) return c.status().message();
    std::mt19937_64 rng(t.seed() * 1000 + static_cast<uint64_t>(id));
    for (int i = 0; i < rounds; ++i) {
      int key = static_cast<int>(rng() % shared);
      std::string batch = fmt::format("SET shared{} {}\r\nGET shared{}\r\n",
                                      key, shared_value(key, id, i), key);
      if (Status s = c.value().send(batch); !s.ok()) return s.message();
      Result<Reply> set = c.value().read_reply();
      Result<Reply> get = c.value().read_reply();
      if (!set.ok() || !get.ok())
        return fmt::format("SET/GET shared{}: {}", key,
                           (!set.ok() ? set : get).status().message());
      if (!set.value().is_simple("OK"))
        return fmt::format("SET shared{} replied {}", key,
                           set.value().to_string());
      // Whatever another writer did meanwhile, a GET returns some whole
      // value written to this key, never a torn or foreign one.
      const Reply& r = get.value();
      if (r.kind != Reply::Kind::kBulk || !is_shared_value(key, r.text))
        return fmt::format(
            "GET shared{} right after SET replied {}: not a "
            "value any client wrote",
            key, r.to_string());
    }
    return std::nullopt;
  });
  t.expect_alive(server, "concurrent writers on shared keys");
  Client check = t.connect(server);
  for (int k = 0; k < shared; ++k) {
    Reply r = t.call(check, fmt::format("GET shared{}", k));
    if (r.kind != Reply::Kind::kBulk || !is_shared_value(k, r.text))
      t.fail(fmt::format("GET shared{} after the writers finished replied {}",
                         k, r.to_string()));
  }
}

// CPU time (user + system) a process has used so far, from /proc/PID/stat:
// fields 14 and 15, counted after the ")" that ends the command name.
std::optional<double> cpu_seconds(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(end_of_name + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i >= 14) ticks += std::stod(field);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Clients that are connected and quiet cost an event loop nothing: it
// sleeps in epoll_wait. A loop that keeps EPOLLOUT on for a socket with
// nothing to send is woken at once by every epoll_wait and burns a core.
// The one second below is the length of the measurement, not a wait for
// an event.
void idle_is_idle(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  std::vector<Client> clients = connect_many(t, server, 8);
  for (Client& c : clients) t.expect(c, "PING", "+PONG");
  const pid_t pid = server.process().pid();
  std::optional<double> before = cpu_seconds(pid);
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::optional<double> after = cpu_seconds(pid);
  const double wall =
      std::chrono::duration<double>(Clock::now() - start).count();
  if (!before || !after) t.fail("cannot read the server's /proc/PID/stat");
  // A spinning loop gets most of a core even on a loaded machine; an idle
  // one, a few milliseconds (0.25 s leaves room for a sanitizer's threads).
  const double used = *after - *before;
  if (used > 0.25)
    t.fail(fmt::format(
        "with 8 clients connected and silent, the server used {:.2f} s of "
        "CPU in {:.2f} s: a loop is spinning (EPOLLOUT left on with "
        "nothing to send?)",
        used, wall));
  for (Client& c : clients) t.expect(c, "PING", "+PONG");
}

void many_connections(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  const int n = 250;
  std::vector<Client> clients;
  for (int i = 0; i < n; ++i) clients.push_back(t.connect(server));
  // Every connection open at once, each asked in turn.
  for (int i = 0; i < n; ++i)
    t.expect(clients[static_cast<size_t>(i)],
             fmt::format("SET conn{} {}", i, i), "+OK");
  for (int i = n - 1; i >= 0; --i)
    t.expect(clients[static_cast<size_t>(i)],
             fmt::format("GET conn{}", (i + 1) % n),
             fmt::format("\"{}\"", (i + 1) % n));
}

void connection_limit(TestContext& t) {
  const int limit = 8;
  ServerProcess& server =
      start_lab01(t, {"--max-connections", std::to_string(limit)});
  std::vector<Client> clients;
  for (int i = 0; i < limit; ++i) {
    clients.push_back(t.connect(server));
    t.expect(clients.back(), "PING", "+PONG");  // accepted, not just queued
  }
  Client extra = t.connect(server);  // the kernel accepts; the server refuses
  Result<Reply> refusal = extra.read_reply();
  if (!refusal.ok() || !refusal.value().is_error())
    t.fail(
        fmt::format("client {} with --max-connections {} got {}, expected "
                    "an -ERR and a closed connection",
                    limit + 1, limit,
                    refusal.ok() ? refusal.value().to_string()
                                 : refusal.status().message()));
  expect_closed(t, extra, "refusing a client past --max-connections");
  for (Client& c : clients) t.expect(c, "PING", "+PONG");
  // A slot frees up when a client leaves. The server notices the hang-up
  // a moment later, so retry until it does (bounded).
  clients.back().close();
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (true) {
    Client again = t.connect(server);
    Result<Reply> r = again.call("PING");
    if (r.ok() && r.value().is_simple("PONG")) break;
    if (Clock::now() > deadline)
      t.fail(
          "after a client left, a new client was still refused: does the "
          "server count connections that have closed?");
    std::this_thread::sleep_for(milliseconds(20));
  }
}

// -- shutdown --------------------------------------------------------------

void shutdown_with(TestContext& t, int signal_number) {
  ServerProcess& server = start_lab01(t);
  std::vector<Client> idle;
  for (int i = 0; i < 30; ++i) {
    idle.push_back(t.connect(server));
    t.expect(idle.back(), "PING", "+PONG");
  }
  Client half = t.connect(server);
  t.send(half, "SET k \"half a li", "half a request");
  Client busy = t.connect(server);
  std::string batch;
  for (int i = 0; i < 500; ++i) batch += fmt::format("SET b{} {}\r\n", i, i);
  t.send(busy, batch, "500 requests in flight");

  auto sent = Clock::now();
  std::optional<ExitInfo> exit =
      server.stop(signal_number, std::chrono::seconds(5));
  double seconds = std::chrono::duration<double>(Clock::now() - sent).count();
  const char* name = signal_number == SIGTERM ? "SIGTERM" : "SIGINT";
  if (!exit)
    t.fail(
        fmt::format("{} with 32 clients connected: the server was still "
                    "running 5 s later (it must exit 0 within 2 s)",
                    name));
  if (!exit->exited || exit->code != 0)
    t.fail(
        fmt::format("{} with 32 clients connected: the server ended with "
                    "{}, expected exit code 0",
                    name, exit->to_string()));
  if (seconds > 2.0)
    t.fail(
        fmt::format("{} with 32 clients connected: the server took {:.2f} s "
                    "to exit, the limit is 2 s",
                    name, seconds));
  for (Client& c : idle) expect_closed(t, c, "the server exited");
  if (Client::connect(server.address(), milliseconds(2000)).ok())
    t.fail(fmt::format("after {} the port still accepts connections", name));
}

void graceful_sigterm(TestContext& t) { shutdown_with(t, SIGTERM); }
void graceful_sigint(TestContext& t) { shutdown_with(t, SIGINT); }

void restart_loses_data(TestContext& t) {
  ServerProcess& server = start_lab01(t);
  Client c = t.connect(server);
  t.expect(c, "SET remember me", "+OK");
  std::optional<ExitInfo> exit = server.stop(SIGTERM, std::chrono::seconds(5));
  if (!exit) t.fail("SIGTERM: the server did not exit");
  if (Status s = server.restart(); !s.ok()) t.fail(s.message());
  Client again = t.connect(server);
  // Lab 01 keeps everything in memory: a restart forgets. Lab 02 fixes this.
  t.expect(again, "GET remember", "(nil)");
}

}  // namespace

std::vector<TestCase> lab01_suite() {
  return {
      {"ping", "PING answers +PONG, PING msg echoes msg", ping},
      {"set_get_overwrite",
       "SET stores, GET reads, SET overwrites, a missing key is (nil)",
       set_get_overwrite},
      {"del_and_exists", "DEL counts removed keys, EXISTS counts present ones",
       del_and_exists},
      {"command_names_any_case",
       "command names are case-insensitive, keys are not",
       command_names_any_case},
      {"quit_closes", "QUIT answers +OK and closes the connection",
       quit_closes},
      {"quoted_values",
       "double-quoted words with spaces and \\\" \\\\ \\n escapes",
       quoted_values},
      {"line_endings",
       "\\n and \\r\\n both end a line; the \\r is not part of the data",
       line_endings},
      {"large_value", "a 60000-byte value round-trips", large_value},
      {"errors_keep_connection",
       "unknown command, wrong arity, bad quotes: -ERR, connection usable",
       errors_keep_connection},
      {"line_too_long",
       "a line over 64 KiB gets -ERR ... too long and is closed; others "
       "unaffected",
       line_too_long},
      {"binary_garbage", "random bytes do not crash the server",
       binary_garbage},
      {"disconnect_mid_line",
       "clients that hang up mid-line do not hurt the server",
       disconnect_mid_line},
      {"slow_writer", "a client stuck mid-line does not stall others",
       slow_writer},
      {"slow_reader",
       "a client that never reads its replies does not stall others",
       slow_reader},
      {"pipeline_1000", "1000 requests in one write are all answered, in order",
       pipeline_1000},
      {"large_pipeline_intact",
       "24 MB of pipelined replies arrive whole, though the socket fills",
       large_pipeline_intact},
      {"split_requests", "requests cut into random fragments are reassembled",
       split_requests},
      {"concurrent_disjoint_keys",
       "many clients writing their own keys lose no write",
       concurrent_disjoint_keys},
      {"concurrent_shared_keys",
       "many clients on the same keys read only whole written values",
       concurrent_shared_keys},
      {"many_connections", "250 connections open at once are all served",
       many_connections},
      {"idle_is_idle",
       "8 silent clients cost no CPU: no loop spins between events",
       idle_is_idle},
      {"connection_limit",
       "past --max-connections a client gets -ERR and is closed; slots free up",
       connection_limit},
      {"graceful_sigterm",
       "SIGTERM with idle and busy clients: exit code 0 within 2 s",
       graceful_sigterm},
      {"graceful_sigint", "SIGINT likewise", graceful_sigint},
      {"restart_loses_data",
       "a restarted lab 01 server has forgotten everything (lab 02 fixes it)",
       restart_loses_data},
  };
}

}  // namespace kv::grader
