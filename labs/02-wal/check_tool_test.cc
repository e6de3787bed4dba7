// lab02-check as a user runs it: a real binary on a real log.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/temp_dir.h"
#include "durable_store.h"
#include "wal_files.h"

namespace kv::lab02 {
namespace {
namespace fs = std::filesystem;

struct CheckRun {
  int status = -1;
  std::string output;
};

CheckRun run_check(const std::string& args) {
  CheckRun run;
  std::string command = std::string(LAB02_CHECK) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    run.output.append(buffer, n);
  int status = ::pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class CheckToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DurableOptions options;
    options.dir = dir_.path();
    auto store = DurableStore::open(options);
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    store.value()->set("greeting", "hello");
    store.value()->set("motto", "hello world");
    store.value()->set("temp", "42");
    store.value()->erase("temp");
    store.value()->close();
  }
  fs::path log() const { return dir_.path() / log_name(1); }

  TempDir dir_{"check-tool"};
};

TEST_F(CheckToolTest, PrintsEveryRecordOfACleanLog) {
  CheckRun run = run_check(log().string());
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("SET greeting hello"), std::string::npos);
  EXPECT_NE(run.output.find("DEL temp"), std::string::npos);
  EXPECT_NE(run.output.find("4 records"), std::string::npos);
  EXPECT_NE(run.output.find("clean"), std::string::npos);
}

TEST_F(CheckToolTest, DamageInTheMiddleIsReportedAndCutOnlyOnRequest) {
  std::string bytes = read_file(log()).value();
  const size_t size = bytes.size();
  bytes[50] = static_cast<char>(bytes[50] ^ 1);  // inside the second record
  std::ofstream(log(), std::ios::binary | std::ios::trunc) << bytes;

  CheckRun look = run_check(log().string());
  EXPECT_EQ(look.status, 1) << look.output;
  EXPECT_NE(look.output.find("DAMAGED"), std::string::npos) << look.output;
  EXPECT_EQ(fs::file_size(log()), size) << "a look must not change the file";

  CheckRun cut = run_check("--truncate " + log().string());
  EXPECT_EQ(cut.status, 0) << cut.output;
  EXPECT_LT(fs::file_size(log()), size);
  EXPECT_EQ(run_check(log().string()).status, 0);
}

TEST_F(CheckToolTest, TruncateRefusesWhileAServerHoldsTheDirectory) {
  std::string bytes = read_file(log()).value();
  bytes.back() = static_cast<char>(bytes.back() ^ 1);
  std::ofstream(log(), std::ios::binary | std::ios::trunc) << bytes;
  DurableOptions options;
  options.dir = dir_.path();
  auto running = DurableStore::open(options);  // cuts the tail, holds LOCK
  ASSERT_TRUE(running.ok()) << running.status().to_string();
  std::ofstream(log(), std::ios::binary | std::ios::app) << "junk";
  CheckRun cut = run_check("--truncate " + log().string());
  EXPECT_EQ(cut.status, 2) << cut.output;
  EXPECT_NE(cut.output.find("LOCK"), std::string::npos) << cut.output;
}

TEST_F(CheckToolTest, AFileThatIsNotALogIsSaidToBeOne) {
  CheckRun run = run_check((dir_.path() / "LOCK").string());
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find("not a lab 02 file name"), std::string::npos);
}

}  // namespace
}  // namespace kv::lab02
