#include "store.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace kv::lab01 {
namespace {

TEST(StoreTest, GetOfAbsentKeyIsNullopt) {
  Store store;
  EXPECT_EQ(store.get("missing"), std::nullopt);
  EXPECT_FALSE(store.contains("missing"));
}

TEST(StoreTest, SetThenGetReturnsTheValue) {
  Store store;
  store.set("k", "v");
  EXPECT_EQ(store.get("k"), "v");
  EXPECT_TRUE(store.contains("k"));
}

TEST(StoreTest, SetOverwrites) {
  Store store;
  store.set("k", "old");
  store.set("k", "new");
  EXPECT_EQ(store.get("k"), "new");
  EXPECT_EQ(store.size(), 1u);
}

TEST(StoreTest, EraseSaysWhetherTheKeyWasThere) {
  Store store;
  store.set("k", "v");
  EXPECT_TRUE(store.erase("k"));
  EXPECT_FALSE(store.erase("k"));
  EXPECT_EQ(store.get("k"), std::nullopt);
}

TEST(StoreTest, KeysAndValuesAreBinarySafe) {
  Store store;
  std::string key("a\0b", 3);
  std::string value("\0\xff\r\n", 4);
  store.set(key, value);
  EXPECT_EQ(store.get(key), value);
  EXPECT_EQ(store.get("a"), std::nullopt);  // not cut at the NUL
}

TEST(StoreTest, EmptyKeyAndValueAreOrdinary) {
  Store store;
  store.set("", "");
  EXPECT_EQ(store.get(""), "");
}

// Writers on disjoint keys force rehashing while readers look up: without
// the lock this crashes or loses keys (and tsan reports the race).
TEST(StoreTest, ConcurrentWritersAndReadersLoseNothing) {
  Store store;
  constexpr int kThreads = 4;
  constexpr int kKeysPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kKeysPerThread; ++i) {
        std::string key = "t" + std::to_string(t) + ":" + std::to_string(i);
        store.set(key, key);
        EXPECT_EQ(store.get(key), key);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store.size(), size_t{kThreads * kKeysPerThread});
}

}  // namespace
}  // namespace kv::lab01
