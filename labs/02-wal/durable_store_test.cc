#include "durable_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir.h"
#include "wal_files.h"

namespace kv::lab02 {
namespace {
namespace fs = std::filesystem;

class DurableStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<DurableStore> open(uint64_t compact_min_bytes = 64u << 20) {
    DurableOptions options;
    options.dir = dir_.path();
    options.compact_min_bytes = compact_min_bytes;
    Result<std::unique_ptr<DurableStore>> store = DurableStore::open(options);
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return std::move(store).value();
  }
  uint64_t disk_bytes() {
    uint64_t total = 0;
    for (const auto& entry : fs::directory_iterator(dir_.path()))
      total += entry.file_size();
    return total;
  }

  TempDir dir_{"durable"};
};

TEST_F(DurableStoreTest, WritesSurviveReopening) {
  {
    auto store = open();
    store->set("a", "1");
    store->set("b", "2");
    store->set("a", "3");
    EXPECT_TRUE(store->erase("b"));
    EXPECT_FALSE(store->erase("never"));
    store->wait_durable();
  }
  auto store = open();
  EXPECT_EQ(store->get("a"), "3");
  EXPECT_FALSE(store->contains("b"));
  EXPECT_EQ(store->size(), 1u);
}

TEST_F(DurableStoreTest, DelOfAMissingKeyLogsNothing) {
  auto store = open();
  store->wait_durable();
  const uint64_t before = disk_bytes();
  EXPECT_FALSE(store->erase("nothing"));
  store->wait_durable();
  EXPECT_EQ(disk_bytes(), before);
}

TEST_F(DurableStoreTest, ConcurrentWritersAllSurvive) {
  constexpr int kThreads = 8, kEach = 300;
  {
    auto store = open();
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          store->set("t" + std::to_string(t) + "-" + std::to_string(i),
                     std::to_string(i));
          store->wait_durable();
        }
      });
  }
  auto store = open();
  EXPECT_EQ(store->size(), size_t{kThreads * kEach});
  EXPECT_EQ(store->get("t7-299"), "299");
}

TEST_F(DurableStoreTest, CompactionBoundsTheDiskAndKeepsEveryKey) {
  const std::string value(100, 'v');
  {
    auto store = open(/*compact_min_bytes=*/16 << 10);
    // 50 keys overwritten 200 times: about 1.2 MB of log for 6 KB of data.
    for (int round = 0; round < 200; ++round) {
      for (int k = 0; k < 50; ++k) {
        store->set("key" + std::to_string(k), value + std::to_string(round));
        store->wait_durable();
      }
    }
    store->close();
    EXPECT_GT(store->compactions(), 10u);
    EXPECT_LT(disk_bytes(), 64u << 10);
  }
  auto store = open(16 << 10);
  EXPECT_EQ(store->size(), 50u);
  EXPECT_EQ(store->get("key49"), value + "199");
  EXPECT_GT(store->recovered().checkpoint_entries, 0u);
}

}  // namespace
}  // namespace kv::lab02
