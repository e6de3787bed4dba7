// See suite.h.
#include "suite.h"

#include <fstream>
#include <thread>

#include "linearizability/timeline.h"

namespace kv::grader {

TestContext::TestContext(TestEnv env) : env_(std::move(env)), rng_(env_.seed) {}

TestContext::~TestContext() = default;  // kills any server still running

int64_t TestContext::uniform(int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
}

std::string TestContext::random_bytes(size_t size) {
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(uniform(0, 255));
  return out;
}

ServerProcess& TestContext::start_server(std::vector<std::string> extra_args,
                                         std::vector<std::string> env) {
  Result<ServerProcess*> server =
      try_start_server(std::move(extra_args), std::move(env));
  if (!server.ok()) fail(server.status().message());
  return *server.value();
}

std::filesystem::path TestContext::binary(std::string_view target) const {
  return env_.server_binary.parent_path() /
         (env_.target_prefix + std::string(target));
}

std::filesystem::path TestContext::reference_binary(
    std::string_view target) const {
  return env_.server_binary.parent_path() / std::string(target);
}

ServerProcess& TestContext::start_server_binary(
    const std::filesystem::path& binary, std::vector<std::string> extra_args) {
  Result<ServerProcess*> server = try_start(binary, std::move(extra_args), {});
  if (!server.ok()) fail(server.status().message());
  return *server.value();
}

Result<ServerProcess*> TestContext::try_start_server(
    std::vector<std::string> extra_args, std::vector<std::string> env) {
  return try_start(env_.server_binary, std::move(extra_args), std::move(env));
}

Result<ServerProcess*> TestContext::try_start(
    const std::filesystem::path& binary, std::vector<std::string> extra_args,
    std::vector<std::string> env) {
  ServerProcess::Options options;
  options.binary = binary;
  options.extra_args = std::move(extra_args);
  options.env = std::move(env);
  options.log =
      env_.out_dir / fmt::format("server-{}.log", servers_.size() + 1);
  Result<ServerProcess> server = ServerProcess::start(std::move(options));
  if (!server.ok()) return server.status();
  servers_.push_back(
      std::make_unique<ServerProcess>(std::move(server).value()));
  note("server {} on {}", servers_.size(),
       servers_.back()->address().to_string());
  return servers_.back().get();
}

Client TestContext::connect(const ServerProcess& server) {
  Result<Client> client = Client::connect(server.address());
  if (!client.ok())
    fail(fmt::format("cannot connect to the server: {}",
                     client.status().message()));
  return std::move(client).value();
}

Reply TestContext::call(Client& client, std::string_view line) {
  Result<Reply> reply = client.call(line);
  if (!reply.ok())
    fail(fmt::format("{}: {}", quote(line), reply.status().message()));
  return reply.value();
}

bool reply_matches(const Reply& reply, std::string_view want) {
  std::string got = reply.to_string();
  if (want.ends_with('*')) {
    want.remove_suffix(1);
    return std::string_view(got).starts_with(want);
  }
  return got == want;
}

void TestContext::expect(Client& client, std::string_view line,
                         std::string_view want) {
  Reply reply = call(client, line);
  if (!reply_matches(reply, want))
    fail(fmt::format("{} replied {}, expected {}", quote(line),
                     reply.to_string(), want));
}

Reply TestContext::next_reply(Client& client, std::string_view what) {
  Result<Reply> reply = client.read_reply();
  if (!reply.ok()) fail(fmt::format("{}: {}", what, reply.status().message()));
  return reply.value();
}

void TestContext::send(Client& client, std::string_view bytes,
                       std::string_view what) {
  if (Status s = client.send(bytes); !s.ok())
    fail(fmt::format("sending {}: {}", what, s.message()));
}

void TestContext::expect_alive(ServerProcess& server, std::string_view after) {
  if (std::optional<ExitInfo> ended = server.process().poll()) {
    std::string why =
        fmt::format("the server died after {} ({})", after, ended->to_string());
    fail(why);
  }
}

linearizability::CheckResult TestContext::check_history(
    const linearizability::History& history,
    const linearizability::Model& model, std::string_view what,
    std::filesystem::path* timeline, bool draw_always) {
  namespace lin = linearizability;
  lin::CheckResult result = lin::check(history, model);
  note("{}: {} operations, {} in {:.3f} s", what, history.operations.size(),
       lin::verdict_name(result.verdict), result.seconds);
  if (result.verdict == lin::Verdict::kLinearizable && !draw_always)
    return result;
  std::filesystem::path dir =
      env_.html_dir.empty() ? env_.out_dir : env_.html_dir;
  std::string stem = env_.html_dir.empty() ? std::string("history")
                                           : env_.out_dir.filename().string();
  std::filesystem::path jsonl = dir / (stem + ".jsonl");
  std::filesystem::path html = dir / (stem + ".html");
  std::filesystem::create_directories(dir);
  std::ofstream(jsonl) << lin::to_jsonl(history);
  if (timeline) *timeline = html;
  if (Status s = lin::write_timeline(html, history, result, what); !s.ok()) {
    if (timeline) *timeline = "not drawn: " + s.message();
  }
  last_history_ = jsonl;
  return result;
}

void TestContext::expect_linearizable(const linearizability::History& history,
                                      const linearizability::Model& model,
                                      std::string_view what) {
  namespace lin = linearizability;
  std::filesystem::path html;
  lin::CheckResult result = check_history(history, model, what, &html);
  if (result.verdict == lin::Verdict::kLinearizable) return;
  const std::string jsonl = last_history_.string();
  if (result.verdict == lin::Verdict::kUnknown)
    fail(fmt::format("{}: the checker could not decide ({}); history: {}", what,
                     result.summary, jsonl));
  fail(fmt::format(
      "{}: not linearizable: {}\n       timeline: {}\n       "
      "history:  {} (grader check-history {} --model {})",
      what, result.summary, html.string(), jsonl, jsonl, model.name()));
}

void TestContext::fail(std::string diagnosis) {
  throw TestFailure{std::move(diagnosis)};
}

void run_workers(TestContext& context, int n,
                 const std::function<std::optional<std::string>(int)>& fn) {
  std::vector<std::optional<std::string>> results(static_cast<size_t>(n));
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < n; ++i)
      threads.emplace_back([&, i] { results[static_cast<size_t>(i)] = fn(i); });
  }
  for (int i = 0; i < n; ++i)
    if (results[static_cast<size_t>(i)])
      context.fail(
          fmt::format("client {}: {}", i, *results[static_cast<size_t>(i)]));
}

}  // namespace kv::grader
