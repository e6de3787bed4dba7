// Figures for the lab 05 handout, with Google Benchmark: the core alone,
// committing entries in a 3-node cluster whose network is a queue in this
// process and whose disk is a vector (no fsync, no sockets): what the
// algorithm itself costs, the ceiling the server of the next issue works
// under. Run:
//   build/default/bin/lab05_bench
#include <benchmark/benchmark.h>

#include <deque>
#include <memory>
#include <string>

#include "raft_core.h"

namespace kv::lab05 {
namespace {

class Cluster {
 public:
  Cluster() {
    const std::vector<NodeId> ids = {1, 2, 3};
    for (NodeId id : ids) {
      RaftConfig c;
      c.id = id;
      c.voters = ids;
      nodes_.push_back(
          std::make_unique<RaftCore>(c, PersistedState{}, Rng(id)));
      disks_.emplace_back();
    }
    while (leader() == nullptr) {
      for (auto& n : nodes_) n->tick();
      settle();
    }
  }
  RaftCore* leader() {
    for (auto& n : nodes_)
      if (n->role() == Role::kLeader) return n.get();
    return nullptr;
  }
  // Persists, delivers and applies until nothing is left to do.
  void settle() {
    for (bool busy = true; busy;) {
      busy = false;
      for (auto& n : nodes_) {
        if (!n->has_ready()) continue;
        busy = true;
        Ready rd = n->ready();
        std::vector<raft::Entry>& disk = disks_[n->id() - 1];
        if (!rd.entries.empty()) {
          disk.resize(rd.entries.front().index() - 1);
          disk.insert(disk.end(), rd.entries.begin(), rd.entries.end());
        }
        for (raft::Message& m : rd.messages) wire_.push_back(std::move(m));
        n->advance(rd);
      }
      while (!wire_.empty()) {
        raft::Message m = std::move(wire_.front());
        wire_.pop_front();
        nodes_[m.to() - 1]->step(m);
      }
    }
  }
  // Keeps memory flat over millions of iterations: a fresh cluster when
  // the logs grow long (lab 06's snapshots are the real answer).
  bool long_logs() const { return disks_[0].size() > 200'000; }

 private:
  std::vector<std::unique_ptr<RaftCore>> nodes_;
  std::vector<std::vector<raft::Entry>> disks_;
  std::deque<raft::Message> wire_;
};

// state.range(0) entries proposed together, then committed and applied on
// every node: one replication round for the batch.
void BM_CommitBatch(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  const std::string command(64, 'c');
  auto cluster = std::make_unique<Cluster>();
  for (auto _ : state) {
    if (cluster->long_logs()) {
      state.PauseTiming();
      cluster = std::make_unique<Cluster>();
      state.ResumeTiming();
    }
    RaftCore* leader = cluster->leader();
    for (int i = 0; i < batch; ++i) leader->propose(command);
    cluster->settle();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_CommitBatch)->Arg(1)->Arg(16)->Arg(64);

// A heartbeat round with nothing to replicate: the idle cost per tick.
void BM_HeartbeatRound(benchmark::State& state) {
  Cluster cluster;
  for (auto _ : state) {
    cluster.leader()->tick();
    cluster.settle();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeartbeatRound);

}  // namespace
}  // namespace kv::lab05

BENCHMARK_MAIN();
