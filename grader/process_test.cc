// The process manager on real processes: exit codes, signals, and that a
// process group dies with the grader.
#include "process.h"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/temp_dir.h"

namespace kv::grader {
namespace {

using std::chrono::milliseconds;

TEST(ChildProcessTest, ReportsTheExitCodeAndKeepsOutputInTheLog) {
  TempDir dir;
  auto child = ChildProcess::spawn({"/bin/sh", "-c", "echo hello >&2; exit 3"},
                                   dir.path() / "log");
  ASSERT_TRUE(child.ok());
  std::optional<ExitInfo> exit = child.value().wait_for(milliseconds(10000));
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->exited);
  EXPECT_EQ(exit->code, 3);
  EXPECT_NE(tail_of_file(dir.path() / "log", 5).find("hello"),
            std::string::npos);
}

TEST(ChildProcessTest, AMissingBinaryExits127AndTheLogSaysWhy) {
  TempDir dir;
  const std::string missing = (dir.path() / "no-such-binary").string();
  auto child = ChildProcess::spawn({missing}, dir.path() / "log");
  ASSERT_TRUE(child.ok());
  std::optional<ExitInfo> exit = child.value().wait_for(milliseconds(10000));
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->exited);
  EXPECT_EQ(exit->code, 127);
  EXPECT_NE(tail_of_file(dir.path() / "log", 5)
                .find("grader: cannot execute " + missing + " (errno " +
                      std::to_string(ENOENT) + ")"),
            std::string::npos)
      << tail_of_file(dir.path() / "log", 5);
}

TEST(ChildProcessTest, KillEndsTheWholeProcessGroup) {
  TempDir dir;
  // The shell starts a grandchild and records its pid.
  std::string pid_file = (dir.path() / "grandchild").string();
  auto child = ChildProcess::spawn(
      {"/bin/sh", "-c", "sleep 600 & echo $! > " + pid_file + "; wait"},
      dir.path() / "log");
  ASSERT_TRUE(child.ok());
  pid_t grandchild = 0;
  for (int i = 0; i < 5000 && grandchild == 0; ++i) {
    std::ifstream in(pid_file);
    in >> grandchild;
    if (grandchild == 0) std::this_thread::sleep_for(milliseconds(2));
  }
  ASSERT_GT(grandchild, 0);
  ExitInfo exit = child.value().kill();
  EXPECT_FALSE(exit.exited);
  EXPECT_EQ(exit.code, SIGKILL);
  // The grandchild got SIGKILL too; it is reaped by init, so wait until it
  // no longer exists (bounded).
  bool gone = false;
  for (int i = 0; i < 5000 && !gone; ++i) {
    gone = ::kill(grandchild, 0) != 0;
    if (!gone) std::this_thread::sleep_for(milliseconds(2));
  }
  EXPECT_TRUE(gone);
}

TEST(ChildProcessTest, DestructorKillsARunningChild) {
  TempDir dir;
  pid_t pid;
  {
    auto child = ChildProcess::spawn({"/bin/sleep", "600"}, dir.path() / "log");
    ASSERT_TRUE(child.ok());
    pid = child.value().pid();
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_NE(::kill(pid, 0), 0);  // killed and reaped
}

TEST(ServerProcessTest, AProgramThatExitsAtOnceIsReportedWithItsLog) {
  TempDir dir;
  ServerProcess::Options options;
  options.binary = "/bin/false";
  options.log = dir.path() / "server.log";
  Result<ServerProcess> server = ServerProcess::start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("exited during start-up"),
            std::string::npos)
      << server.status().message();
}

}  // namespace
}  // namespace kv::grader
