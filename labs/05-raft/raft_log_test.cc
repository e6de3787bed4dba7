#include "raft_log.h"

#include <gtest/gtest.h>

namespace kv::lab05 {
namespace {

raft::Entry entry(uint64_t index, uint64_t term) {
  raft::Entry e;
  e.set_index(index);
  e.set_term(term);
  return e;
}

// Terms 1 1 2 2 2 4 at indexes 1..6.
RaftLog sample() {
  RaftLog log;
  for (uint64_t t : {1, 1, 2, 2, 2, 4})
    log.append(entry(log.last_index() + 1, t));
  return log;
}

TEST(RaftLog, TermsAndBounds) {
  RaftLog log = sample();
  EXPECT_EQ(log.last_index(), 6u);
  EXPECT_EQ(log.last_term(), 4u);
  EXPECT_EQ(log.term_at(0), 0u);
  EXPECT_EQ(log.term_at(7), 0u);
  EXPECT_EQ(log.term_at(3), 2u);
}

TEST(RaftLog, FindsTheEdgesOfATerm) {
  RaftLog log = sample();
  EXPECT_EQ(log.first_index_of_term(2, 5), 3u);
  EXPECT_EQ(log.first_index_of_term(1, 2), 1u);
  EXPECT_EQ(log.last_index_of_term(2), 5u);
  EXPECT_EQ(log.last_index_of_term(3), 0u);
  EXPECT_EQ(log.last_index_of_term(4), 6u);
}

TEST(RaftLog, SliceStopsAtTheEndAndAtMax) {
  RaftLog log = sample();
  EXPECT_EQ(log.slice(5, 10).size(), 2u);
  EXPECT_EQ(log.slice(2, 3).size(), 3u);
  EXPECT_TRUE(log.slice(7, 3).empty());
}

TEST(RaftLog, TruncationForgetsStabilityOfWhatItDrops) {
  RaftLog log = sample();
  log.stable_to(6, 4);
  EXPECT_TRUE(log.unstable().empty());
  log.truncate_from(4);
  EXPECT_EQ(log.stable_index(), 3u);
  log.append(entry(4, 5));
  ASSERT_EQ(log.unstable().size(), 1u);
  EXPECT_EQ(log.unstable()[0].term(), 5u);
}

TEST(RaftLog, StableToIgnoresAReplacedEntry) {
  RaftLog log = sample();
  log.stable_to(6, 3);  // the Ready's entry 6 had term 3; ours has 4
  EXPECT_EQ(log.stable_index(), 0u);
}

TEST(RaftLog, RestoredEntriesAreStable) {
  RaftLog log({entry(1, 1), entry(2, 1)});
  EXPECT_EQ(log.stable_index(), 2u);
  EXPECT_TRUE(log.unstable().empty());
}

}  // namespace
}  // namespace kv::lab05
