// Figures for the lab 01 handout, with Google Benchmark. In-process parts
// (framing and splitting a line, the store under 1-2 threads) and the whole
// server over loopback TCP (one client, pipeline depth 1 and 16). Run:
//   build/default/bin/lab01_bench
// The end-to-end numbers are a first look; tools/kvbench (issue 4) drives
// lab01-server and Redis side by side with many clients.
#include <benchmark/benchmark.h>
#include <sys/socket.h>

#include <string>

#include "commands.h"
#include "common/net.h"
#include "inline_parser.h"
#include "server.h"
#include "store.h"

namespace kv::lab01 {
namespace {

void BM_FrameAndSplit(benchmark::State& state) {
  std::string buffer = "SET user:1000 \"a value with spaces\"\r\n";
  for (auto _ : state) {
    Frame frame = next_line(buffer);
    Result<std::vector<std::string>> words = split_inline(frame.line);
    benchmark::DoNotOptimize(words);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrameAndSplit);

void BM_ExecuteGet(benchmark::State& state) {
  static Store store;
  store.set("key", std::string(64, 'v'));
  std::vector<std::string> words = {"GET", "key"};
  std::string out;
  for (auto _ : state) {
    out.clear();
    execute(words, store, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ExecuteGet)->Threads(1)->Threads(2);

void BM_ExecuteSet(benchmark::State& state) {
  static Store store;
  std::vector<std::string> words = {"SET", "", std::string(64, 'v')};
  std::string out;
  int i = 0;
  for (auto _ : state) {
    words[1] =
        "key" + std::to_string((i++ & 1023) + 1024 * state.thread_index());
    out.clear();
    execute(words, store, out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ExecuteSet)->Threads(1)->Threads(2);

// One client, `depth` GETs in flight: a round trip per batch.
void BM_ServerGetOverLoopback(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  Store store;
  store.set("key", std::string(64, 'v'));
  ServerOptions options;
  options.listen = {"127.0.0.1", 0};
  auto server = Server::start(options, store).value();
  UniqueFd client =
      connect_tcp(server->address(), std::chrono::seconds(5)).value();
  std::string batch;
  for (int i = 0; i < depth; ++i) batch += "GET key\r\n";
  const size_t reply_bytes =
      static_cast<size_t>(depth) * (std::string("$64\r\n").size() + 64 + 2);
  std::string replies(reply_bytes, '\0');
  for (auto _ : state) {
    if (!send_all(client.get(), batch).ok()) state.SkipWithError("send");
    if (::recv(client.get(), replies.data(), reply_bytes, MSG_WAITALL) !=
        static_cast<ssize_t>(reply_bytes))
      state.SkipWithError("short reply");
  }
  state.SetItemsProcessed(state.iterations() * depth);
  server->stop();
}
BENCHMARK(BM_ServerGetOverLoopback)->Arg(1)->Arg(16)->UseRealTime();

}  // namespace
}  // namespace kv::lab01

BENCHMARK_MAIN();
