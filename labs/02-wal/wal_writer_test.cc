#include "wal_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir.h"
#include "record.h"
#include "wal_files.h"
#include "wal_reader.h"

namespace kv::lab02 {
namespace {

class WalWriterTest : public ::testing::TestWithParam<FsyncPolicy> {
 protected:
  UniqueFd create(uint64_t generation) {
    Result<UniqueFd> fd = create_log_file(dir_.path(), generation);
    EXPECT_TRUE(fd.ok()) << fd.status().to_string();
    return std::move(fd).value();
  }
  std::vector<Record> records_in(uint64_t generation) {
    std::string bytes = read_file(dir_.path() / log_name(generation)).value();
    EXPECT_TRUE(check_file_header(bytes, FileKind::kLog, generation));
    std::vector<Record> records;
    ScanResult scan =
        scan_records(bytes, kFileHeaderBytes,
                     [&](const Record& record) { records.push_back(record); });
    EXPECT_EQ(scan.end, ScanResult::End::kClean) << scan.reason;
    return records;
  }
  static std::string set_bytes(const std::string& key,
                               const std::string& value) {
    std::string out;
    encode_record({RecordType::kSet, key, value, 0}, out);
    return out;
  }

  TempDir dir_{"wal-writer"};
};

TEST_P(WalWriterTest, CommitPutsAppendedRecordsInTheFileInOrder) {
  WalWriter writer(create(1), 1, GetParam());
  writer.append(set_bytes("a", "1"));
  writer.append(set_bytes("b", "2"));
  EXPECT_TRUE(records_in(1).empty()) << "append alone must not write";
  writer.commit();
  std::vector<Record> records = records_in(1);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].key, "a");
  EXPECT_EQ(records[1].key, "b");
  writer.commit();  // nothing new: returns at once, writes nothing
  EXPECT_EQ(records_in(1).size(), 2u);
}

TEST_P(WalWriterTest, ConcurrentWritersAllLandWhole) {
  WalWriter writer(create(1), 1, GetParam());
  constexpr int kThreads = 8, kEach = 200;
  std::mutex append_mu;  // the store's write lock, in miniature
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          {
            std::lock_guard lock(append_mu);
            writer.append(set_bytes(std::to_string(t), std::to_string(i)));
          }
          writer.commit();
        }
      });
    }
  }
  std::vector<Record> records = records_in(1);
  ASSERT_EQ(records.size(), size_t{kThreads * kEach});
  // Each writer's own records appear in the order it wrote them.
  std::vector<int> next(kThreads, 0);
  for (const Record& record : records) {
    int t = std::stoi(record.key);
    EXPECT_EQ(record.value, std::to_string(next[t]));
    ++next[t];
  }
}

TEST_P(WalWriterTest, SwitchToFinishesTheOldFileFirst) {
  WalWriter writer(create(1), 1, GetParam());
  writer.append(set_bytes("old", "1"));
  writer.switch_to(create(2), 2);
  writer.append(set_bytes("new", "2"));
  writer.commit();
  EXPECT_EQ(writer.generation(), 2u);
  ASSERT_EQ(records_in(1).size(), 1u);
  EXPECT_EQ(records_in(1)[0].key, "old");
  ASSERT_EQ(records_in(2).size(), 1u);
  EXPECT_EQ(records_in(2)[0].key, "new");
}

INSTANTIATE_TEST_SUITE_P(Policies, WalWriterTest,
                         ::testing::Values(FsyncPolicy::kAlways,
                                           FsyncPolicy::kEverySec,
                                           FsyncPolicy::kNever),
                         [](const auto& info) {
                           switch (info.param) {
                             case FsyncPolicy::kAlways:
                               return "Always";
                             case FsyncPolicy::kEverySec:
                               return "EverySec";
                             default:
                               return "Never";
                           }
                         });

}  // namespace
}  // namespace kv::lab02
