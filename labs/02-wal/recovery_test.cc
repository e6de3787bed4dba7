#include "recovery.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "checkpoint.h"
#include "common/temp_dir.h"
#include "wal_files.h"

namespace kv::lab02 {
namespace {
namespace fs = std::filesystem;

std::string log_bytes(uint64_t generation, const std::vector<Record>& records) {
  std::string out = encode_file_header(FileKind::kLog, generation);
  for (const Record& record : records) encode_record(record, out);
  return out;
}

Record set(std::string key, std::string value) {
  return {RecordType::kSet, std::move(key), std::move(value), 0};
}
Record del(std::string key) {
  return {RecordType::kDel, std::move(key), "", 0};
}

class RecoveryTest : public ::testing::Test {
 protected:
  void write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_.path() / name, std::ios::binary) << bytes;
  }
  std::string read(const std::string& name) {
    return read_file(dir_.path() / name).value();
  }
  Result<Recovered> run() {
    state_.clear();
    return recover(dir_.path(), [&](const Record& record) {
      if (record.type == RecordType::kSet) state_[record.key] = record.value;
      if (record.type == RecordType::kDel) state_.erase(record.key);
    });
  }
  std::vector<std::string> files() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_.path()))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dir_{"recovery"};
  std::map<std::string, std::string> state_;
};

TEST_F(RecoveryTest, EmptyDirectoryStartsTheFirstLog) {
  Result<Recovered> r = run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value().generation, 1u);
  EXPECT_TRUE(state_.empty());
  EXPECT_EQ(files(), (std::vector<std::string>{"LOCK", "log.00000001"}));
  EXPECT_EQ(read("log.00000001"), encode_file_header(FileKind::kLog, 1));
}

TEST_F(RecoveryTest, MissingDirectoryIsCreated) {
  fs::path nested = dir_.path() / "a" / "b";
  Result<Recovered> r = recover(nested, [](const Record&) {});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(fs::exists(nested / "log.00000001"));
}

TEST_F(RecoveryTest, ReplaysSetsAndDelsInOrder) {
  write("log.00000001",
        log_bytes(1, {set("a", "1"), set("b", "2"), set("a", "3"), del("b")}));
  Result<Recovered> r = run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(state_, (std::map<std::string, std::string>{{"a", "3"}}));
  EXPECT_EQ(r.value().log_records, 4u);
  EXPECT_TRUE(r.value().notes.empty());
}

TEST_F(RecoveryTest, TornTailIsCutWithANote) {
  std::string whole = log_bytes(1, {set("a", "1"), set("b", "2")});
  std::string good = log_bytes(1, {set("a", "1")});
  for (size_t cut = good.size() + 1; cut < whole.size(); ++cut) {
    write("log.00000001", whole.substr(0, cut));
    Result<Recovered> r = run();
    ASSERT_TRUE(r.ok()) << "cut at " << cut << ": " << r.status().to_string();
    EXPECT_EQ(state_, (std::map<std::string, std::string>{{"a", "1"}}));
    EXPECT_EQ(r.value().truncated_bytes, cut - good.size());
    ASSERT_EQ(r.value().notes.size(), 1u);
    EXPECT_NE(r.value().notes[0].find("torn tail"), std::string::npos);
    EXPECT_EQ(read("log.00000001"), good) << "the tail must be cut off";
  }
}

TEST_F(RecoveryTest, DamagedLastRecordIsATornTail) {
  std::string bytes = log_bytes(1, {set("a", "1"), set("b", "2")});
  bytes[bytes.size() - 1] ^= 0x20;
  write("log.00000001", bytes);
  Result<Recovered> r = run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(state_, (std::map<std::string, std::string>{{"a", "1"}}));
}

TEST_F(RecoveryTest, ZeroFilledTailIsATornTail) {
  write("log.00000001",
        log_bytes(1, {set("a", "1")}) + std::string(4096, '\0'));
  Result<Recovered> r = run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(state_.size(), 1u);
}

TEST_F(RecoveryTest, DamageInTheMiddleRefusesToStartNamingFileAndOffset) {
  std::string first = log_bytes(1, {set("a", "1")});
  std::string bytes =
      log_bytes(1, {set("a", "1"), set("b", "2"), set("c", "3")});
  const size_t offset = first.size();
  const size_t middle_size =
      log_bytes(1, {set("a", "1"), set("b", "2")}).size() - offset;
  // Every byte of the middle record, the length field included.
  for (size_t i = 0; i < middle_size; ++i) {
    std::string damaged = bytes;
    damaged[offset + i] ^= 0x01;
    write("log.00000001", damaged);
    Result<Recovered> r = run();
    ASSERT_FALSE(r.ok()) << "flipped byte " << i;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find("log.00000001"), std::string::npos);
    EXPECT_NE(r.status().message().find("offset " + std::to_string(offset)),
              std::string::npos)
        << r.status().message();
  }
  write("log.00000001", bytes);  // untouched once refused
  EXPECT_TRUE(run().ok());
}

TEST_F(RecoveryTest, AFileThatIsNotALogIsRefused) {
  write("log.00000001", "this is not a log at all, just some text\n");
  Result<Recovered> r = run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a lab 02 log"), std::string::npos);
}

TEST_F(RecoveryTest, AStrangerInTheDirectoryIsRefused) {
  write("notes.txt", "hello");
  Result<Recovered> r = run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("notes.txt"), std::string::npos);
}

TEST_F(RecoveryTest, AGapBetweenLogsIsRefused) {
  write("log.00000001", log_bytes(1, {set("a", "1")}));
  write("log.00000003", log_bytes(3, {set("a", "3")}));
  Result<Recovered> r = run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("log.00000002 is missing"),
            std::string::npos)
      << r.status().message();
}

TEST_F(RecoveryTest, TornTailInALogThatIsNotTheLastIsRefused) {
  std::string first = log_bytes(1, {set("a", "1"), set("b", "2")});
  write("log.00000001", first.substr(0, first.size() - 3));
  write("log.00000002", log_bytes(2, {set("c", "3")}));
  EXPECT_FALSE(run().ok());
}

TEST_F(RecoveryTest, CheckpointThenLaterLogsAndLeftoversCleared) {
  std::atomic<bool> cancel{false};
  ASSERT_TRUE(
      write_checkpoint(dir_.path(), 2, {{"a", "1"}, {"b", "2"}}, cancel).ok());
  write("log.00000002", log_bytes(2, {set("a", "stale")}));  // covered
  write("log.00000003", log_bytes(3, {set("c", "3"), del("a")}));
  write("checkpoint.00000004.tmp", "half written");
  Result<Recovered> r = run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(state_,
            (std::map<std::string, std::string>{{"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(r.value().generation, 3u);
  EXPECT_EQ(r.value().checkpoint_entries, 2u);
  EXPECT_EQ(files(), (std::vector<std::string>{"LOCK", "checkpoint.00000002",
                                               "log.00000003"}));
}

TEST_F(RecoveryTest, CheckpointWithoutLaterLogStartsTheNextOne) {
  std::atomic<bool> cancel{false};
  ASSERT_TRUE(write_checkpoint(dir_.path(), 5, {{"k", "v"}}, cancel).ok());
  Result<Recovered> r = run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value().generation, 6u);
  EXPECT_EQ(state_.at("k"), "v");
}

TEST_F(RecoveryTest, IncompleteCheckpointIsRefused) {
  std::atomic<bool> cancel{false};
  ASSERT_TRUE(
      write_checkpoint(dir_.path(), 1, {{"a", "1"}, {"b", "2"}}, cancel).ok());
  std::string bytes = read("checkpoint.00000001");
  std::string without_end = bytes.substr(0, bytes.size() - 17);  // END: 8+9
  write("checkpoint.00000001", without_end);
  Result<Recovered> r = run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("incomplete"), std::string::npos)
      << r.status().message();
}

TEST_F(RecoveryTest, LogWithAHeaderCutShortStartsAgain) {
  write("log.00000001", log_bytes(1, {set("a", "1")}));
  write("log.00000002", encode_file_header(FileKind::kLog, 2).substr(0, 6));
  Result<Recovered> r = run();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value().generation, 2u);
  EXPECT_EQ(read("log.00000002"), encode_file_header(FileKind::kLog, 2));
  EXPECT_EQ(state_.at("a"), "1");
}

TEST_F(RecoveryTest, SecondServerOnTheSameDirectoryIsRefused) {
  Result<Recovered> first = run();
  ASSERT_TRUE(first.ok());
  Result<Recovered> second = run();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("locked"), std::string::npos);
}

TEST_F(RecoveryTest, DataDirThatIsAFileIsRefused) {
  write("plain", "x");
  Result<Recovered> r = recover(dir_.path() / "plain", [](const Record&) {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Not a directory"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace kv::lab02
