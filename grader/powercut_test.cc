// The power-cut fault end to end: kvfault_probe runs a script of file ops
// as a real process under libkvfault.so, and power_cut_image() must leave
// exactly what the model (powercut/README.md) says is durable. Every wait
// is for the probe's exit; nothing sleeps.
#include "powercut.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "process.h"

namespace kv::grader {
namespace {

namespace fs = std::filesystem;
using powercut::OpKind;
using Files = std::map<std::string, std::string>;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Name -> contents; a subdirectory shows as "<dir>".
Files contents_of(const fs::path& dir) {
  Files out;
  for (const auto& entry : fs::directory_iterator(dir))
    out[entry.path().filename().string()] =
        entry.is_directory() ? "<dir>" : read_file(entry.path());
  return out;
}

// One scratch data dir, its journal and stash, and probe runs on it.
class ProbeRun {
 public:
  ProbeRun()
      : files_{root_.path() / "data", root_.path() / "journal",
               root_.path() / "stash"} {
    fs::create_directory(files_.data_dir);
  }

  const PowerCutFiles& files() const { return files_; }
  const fs::path& data() const { return files_.data_dir; }
  // A file of the baseline (prepare_power_cut makes it durable).
  void put(const std::string& name, std::string_view bytes) {
    write_file(data() / name, bytes);
  }

  // Runs the probe to its end (or its KVFAULT_CRASH_AT kill).
  ExitInfo probe(const std::vector<std::string>& script,
                 std::optional<uint64_t> crash_at = {}) {
    return run_probe(script, prepare_power_cut(files_, crash_at));
  }
  ExitInfo probe_until(const std::vector<std::string>& script,
                       const CrashPoint& point) {
    return run_probe(script, prepare_power_cut(files_, point));
  }
  // A probe run that must end normally.
  void run(const std::vector<std::string>& script) {
    ExitInfo exit = probe(script);
    EXPECT_TRUE(exit.exited && exit.code == 0)
        << exit.to_string() << "\n"
        << tail_of_file(root_.path() / "probe.log", 10);
  }

  // The power-cut image, in a fresh directory each call.
  Files image(PowerCut* cut = nullptr,
              UnsyncedNames names = UnsyncedNames::kAllUndone) {
    fs::path out = root_.path() / ("image" + std::to_string(images_++));
    Result<PowerCut> made = power_cut_image(files_, out, names);
    EXPECT_TRUE(made.ok()) << made.status().to_string();
    if (!made.ok()) return {};
    if (cut) *cut = made.value();
    return contents_of(out);
  }

 private:
  ExitInfo run_probe(const std::vector<std::string>& script,
                     const Result<std::vector<std::string>>& env) {
    EXPECT_TRUE(env.ok()) << env.status().to_string();
    if (!env.ok()) return {};
    std::vector<std::string> argv = {KVFAULT_PROBE, data().string()};
    argv.insert(argv.end(), script.begin(), script.end());
    Result<ChildProcess> child =
        ChildProcess::spawn(argv, root_.path() / "probe.log", env.value());
    EXPECT_TRUE(child.ok()) << child.status().to_string();
    if (!child.ok()) return {};
    // Bounds a hang only; the probe ends in milliseconds.
    std::optional<ExitInfo> exit =
        child.value().wait_for(std::chrono::seconds(60));
    EXPECT_TRUE(exit.has_value()) << "probe still running";
    if (!exit) return child.value().kill();
    return *exit;
  }

  TempDir root_{"powercut"};
  PowerCutFiles files_;
  int images_ = 0;
};

struct Case {
  const char* name;
  Files baseline;
  std::vector<std::string> script;
  Files want;  // the image
};

void run_cases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ProbeRun r;
    for (const auto& [name, bytes] : c.baseline) r.put(name, bytes);
    r.run(c.script);
    EXPECT_EQ(r.image(), c.want);
  }
}

TEST(PowerCutTest, UnsyncedAppendVanishes) {
  ProbeRun r;
  r.put("wal", "base");
  r.run({"append wal more"});
  PowerCut cut;
  EXPECT_EQ(r.image(&cut), (Files{{"wal", "base"}}));
  ASSERT_EQ(cut.rolled_back.size(), 1u);
  EXPECT_EQ(cut.rolled_back[0].name, "wal");
  EXPECT_EQ(cut.rolled_back[0].size_at_kill, 8u);
  EXPECT_EQ(cut.rolled_back[0].durable_size, 4u);
  EXPECT_EQ(contents_of(r.data()), (Files{{"wal", "basemore"}}));
  EXPECT_NE(cut.to_string().find("wal 8 -> 4 bytes"), std::string::npos)
      << cut.to_string();
}

TEST(PowerCutTest, DataUpToTheLastSyncSurvives) {
  run_cases({
      {"fsync",
       {{"wal", "base"}},
       {"append wal more", "fsync wal", "append wal lost"},
       {{"wal", "basemore"}}},
      {"fdatasync",
       {{"wal", "base"}},
       {"append wal more", "fdatasync wal", "append wal lost"},
       {{"wal", "basemore"}}},
      {"O_SYNC",
       {{"wal", "base"}},
       {"osync-append wal more", "append wal lost"},
       {{"wal", "basemore"}}},
      {"sync",
       {{"wal", "base"}},
       {"create new", "append new x", "append wal more", "sync",
        "append wal lost"},
       {{"wal", "basemore"}, {"new", "x"}}},
      {"writev",
       {{"wal", "base"}},
       {"writev wal more", "fsync wal", "writev wal lost"},
       {{"wal", "basemore"}}},
  });
}

TEST(PowerCutTest, ACreatedFileNeedsTheDirFsynced) {
  run_cases({
      {"without dir fsync", {}, {"create f", "append f x", "fsync f"}, {}},
      {"with dir fsync",
       {},
       {"create f", "append f x", "fsync f", "dirsync"},
       {{"f", "x"}}},
      {"dir fsync before the data's",
       {},
       {"create f", "dirsync", "append f x"},
       {{"f", ""}}},
  });
}

TEST(PowerCutTest, RenameWithoutDirFsyncReverts) {
  run_cases({
      {"rename", {{"a", "old"}}, {"rename a b"}, {{"a", "old"}}},
      {"renameat", {{"a", "old"}}, {"renameat a b"}, {{"a", "old"}}},
      {"written after",
       {{"a", "old"}},
       {"rename a b", "append b new", "fsync b"},
       {{"a", "oldnew"}}},
      {"with dir fsync",
       {{"a", "old"}},
       {"rename a b", "dirsync"},
       {{"b", "old"}}},
  });
  ProbeRun r;
  r.put("a", "old");
  r.run({"rename a b"});
  PowerCut cut;
  r.image(&cut);
  EXPECT_EQ(cut.vanished, std::vector<std::string>{"b"});
  EXPECT_EQ(cut.came_back, std::vector<std::string>{"a"});
}

TEST(PowerCutTest, RenameOverASyncedFileBringsTheTargetBack) {
  run_cases({
      {"without dir fsync",
       {{"a", "new"}, {"b", "old"}},
       {"rename a b"},
       {{"a", "new"}, {"b", "old"}}},
      {"target written first",
       {{"a", "new"}, {"b", "old"}},
       {"append b junk", "rename a b"},
       {{"a", "new"}, {"b", "old"}}},
      {"with dir fsync",
       {{"a", "new"}, {"b", "old"}},
       {"rename a b", "dirsync"},
       {{"b", "new"}}},
  });
}

TEST(PowerCutTest, RenamedTmpWithoutFsyncIsEmpty) {
  run_cases({
      {"tmp not fsynced",
       {{"checkpoint", "v1"}},
       {"create checkpoint.tmp", "append checkpoint.tmp v2",
        "rename checkpoint.tmp checkpoint", "dirsync"},
       {{"checkpoint", ""}}},
      {"tmp fsynced",
       {{"checkpoint", "v1"}},
       {"create checkpoint.tmp", "append checkpoint.tmp v2",
        "fsync checkpoint.tmp", "rename checkpoint.tmp checkpoint", "dirsync"},
       {{"checkpoint", "v2"}}},
      {"no dir fsync",
       {{"checkpoint", "v1"}},
       {"create checkpoint.tmp", "append checkpoint.tmp v2",
        "fsync checkpoint.tmp", "rename checkpoint.tmp checkpoint"},
       {{"checkpoint", "v1"}}},
  });
}

TEST(PowerCutTest, UnlinkWithoutDirFsyncRestoresTheFile) {
  run_cases({
      {"unlink", {{"f", "data"}}, {"unlink f"}, {{"f", "data"}}},
      {"unlinkat", {{"f", "data"}}, {"unlinkat f"}, {{"f", "data"}}},
      {"remove", {{"f", "data"}}, {"remove f"}, {{"f", "data"}}},
      {"written then unlinked",
       {{"f", "data"}},
       {"pwrite f 0 XX", "unlink f"},
       {{"f", "data"}}},
      {"a new file of the same name",
       {{"f", "data"}},
       {"unlink f", "create f", "append f other", "fsync f"},
       {{"f", "data"}}},
      {"with dir fsync", {{"f", "data"}}, {"unlink f", "dirsync"}, {}},
  });
}

// The compaction that renames its checkpoint into place and removes the
// old log with no directory fsync between: with the removal kept and the
// rename undone, both the old log and the new checkpoint's name are gone.
TEST(PowerCutTest, RemovalsKeptUndoesRenamesButKeepsUnlinks) {
  ProbeRun r;
  r.put("log.1", "records");
  r.run({"create ckpt.tmp", "append ckpt.tmp state", "fsync ckpt.tmp",
         "rename ckpt.tmp ckpt", "unlink log.1"});
  EXPECT_EQ(r.image(nullptr, UnsyncedNames::kAllUndone),
            (Files{{"log.1", "records"}}));
  EXPECT_EQ(r.image(nullptr, UnsyncedNames::kRemovalsKept), Files{});

  ProbeRun synced;  // the same with the directory synced after the rename
  synced.put("log.1", "records");
  synced.run({"create ckpt.tmp", "append ckpt.tmp state", "fsync ckpt.tmp",
              "rename ckpt.tmp ckpt", "dirsync", "unlink log.1"});
  EXPECT_EQ(synced.image(nullptr, UnsyncedNames::kRemovalsKept),
            (Files{{"ckpt", "state"}}));
  EXPECT_EQ(synced.image(nullptr, UnsyncedNames::kAllUndone),
            (Files{{"ckpt", "state"}, {"log.1", "records"}}));
}

TEST(PowerCutTest, RemovalsKeptIgnoresANameMadeAgain) {
  ProbeRun r;
  r.put("f", "old");
  r.run({"unlink f", "create f", "append f new"});
  EXPECT_EQ(r.image(nullptr, UnsyncedNames::kRemovalsKept),
            (Files{{"f", "old"}}));
}

TEST(PowerCutTest, CrashPointByKindNameAndOccurrence) {
  const std::vector<std::string> script = {
      "create f", "append f a", "fsync f", "append f b",
      "fsync f",  "append f c", "fsync f"};
  ProbeRun r;
  ExitInfo exit =
      r.probe_until(script, CrashPoint{powercut::OpKind::kFsync, "f", 2});
  EXPECT_FALSE(exit.exited) << exit.to_string();
  EXPECT_EQ(exit.code, SIGKILL);
  EXPECT_EQ(read_file(r.data() / "f"), "ab");  // the kill keeps the cache
  PowerCut cut;
  r.image(&cut);
  ASSERT_TRUE(cut.crash_op.has_value());
  EXPECT_EQ(cut.crash_op->kind, powercut::OpKind::kFsync);
  EXPECT_EQ(CrashPoint({powercut::OpKind::kFsync, "f", 2}).to_string(),
            "the 2nd fsync(f)");
}

TEST(PowerCutTest, CrashPointOfCountsEarlierOpsOfTheSameKindAndName) {
  std::vector<FsOp> ops = {
      {1, powercut::OpKind::kWrite, "a", ""},
      {2, powercut::OpKind::kWrite, "b", ""},
      {3, powercut::OpKind::kWrite, "a", ""},
      {4, powercut::OpKind::kFsync, "a", ""},
  };
  CrashPoint point = crash_point_of(ops, 2);
  EXPECT_EQ(point.kind, powercut::OpKind::kWrite);
  EXPECT_EQ(point.name, "a");
  EXPECT_EQ(point.occurrence, 2u);
  EXPECT_EQ(crash_point_of(ops, 3).occurrence, 1u);
}

TEST(PowerCutTest, OverwritesAndTruncationsOfSyncedBytesAreUndone) {
  run_cases({
      {"pwrite",
       {{"f", "0123456789"}},
       {"pwrite f 2 XY"},
       {{"f", "0123456789"}}},
      {"truncate",
       {{"f", "0123456789"}},
       {"truncate f 4"},
       {{"f", "0123456789"}}},
      {"ftruncate then append",
       {{"f", "0123456789"}},
       {"ftruncate f 2", "append f abcdefghijkl"},
       {{"f", "0123456789"}}},
      {"punch",
       {{"f", "0123456789"}},
       {"punch f 0 4096"},
       {{"f", "0123456789"}}},
      {"a mix",
       {{"f", "0123456789"}},
       {"pwrite f 2 XY", "truncate f 4", "append f abc", "pwrite f 0 Q",
        "ftruncate f 1", "append f zz"},
       {{"f", "0123456789"}}},
      {"after an fsync",
       {{"f", "0123456789"}},
       {"pwrite f 0 AB", "fsync f", "pwrite f 0 CD", "truncate f 1"},
       {{"f", "AB23456789"}}},
      {"truncated and synced",
       {{"f", "0123456789"}},
       {"truncate f 3", "fsync f", "append f tail"},
       {{"f", "012"}}},
  });
}

TEST(PowerCutTest, OTruncIsUndone) {
  run_cases({
      {"O_TRUNC", {{"f", "data"}}, {"otrunc f"}, {{"f", "data"}}},
      {"O_TRUNC then fsynced",
       {{"f", "data"}},
       {"otrunc f", "append f new", "fsync f"},
       {{"f", "new"}}},
      {"fopen w", {{"f", "data"}}, {"fopen-write f zz"}, {{"f", "data"}}},
  });
}

TEST(PowerCutTest, StdioAppendsAreCutToTheLastFsync) {
  run_cases({
      {"fopen a",
       {},
       {"fopen-append f hello", "fsync f", "dirsync", "fopen-append f more"},
       {{"f", "hello"}}},
  });
}

TEST(PowerCutTest, SubdirectoriesAreCopiedAsTheyAre) {
  ProbeRun r;
  fs::create_directory(r.data() / "snapshots");
  write_file(r.data() / "snapshots" / "s1", "snap");
  r.run({"append snapshots/s1 more"});  // outside the model: not undone
  Files want = {{"snapshots", "<dir>"}};
  EXPECT_EQ(r.image(), want);
}

TEST(PowerCutTest, CrashAtStopsJustBeforeTheNthOp) {
  const std::vector<std::string> script = {
      "create f", "append f a", "append f b", "fsync f",
      "dirsync",  "rename f g", "unlink g"};
  const std::vector<OpKind> want_kinds = {
      OpKind::kCreate,  OpKind::kWrite,  OpKind::kWrite, OpKind::kFsync,
      OpKind::kDirSync, OpKind::kRename, OpKind::kUnlink};
  // At the kill (the op's effect absent) and after the power cut, by n.
  const std::vector<Files> want_killed = {{},
                                          {{"f", ""}},
                                          {{"f", "a"}},
                                          {{"f", "ab"}},
                                          {{"f", "ab"}},
                                          {{"f", "ab"}},
                                          {{"g", "ab"}},
                                          {}};
  const std::vector<Files> want_image = {
      {}, {}, {}, {}, {}, {{"f", "ab"}}, {{"f", "ab"}}, {{"f", "ab"}}};

  ProbeRun full;
  full.run(script);
  Result<std::vector<FsOp>> ops = journal_ops(full.files().journal);
  ASSERT_TRUE(ops.ok()) << ops.status().to_string();
  ASSERT_EQ(ops.value().size(), want_kinds.size());
  for (size_t i = 0; i < ops.value().size(); ++i) {
    EXPECT_EQ(ops.value()[i].number, i + 1);
    EXPECT_EQ(ops.value()[i].kind, want_kinds[i]) << i;
  }
  EXPECT_EQ(ops.value()[5].to_string(), "rename(f -> g)");

  for (uint64_t n = 1; n <= ops.value().size() + 1; ++n) {
    SCOPED_TRACE("crash at op " + std::to_string(n));
    ProbeRun r;
    ExitInfo exit = r.probe(script, n);
    bool crashes = n <= ops.value().size();
    EXPECT_EQ(exit.exited, !crashes) << exit.to_string();
    EXPECT_EQ(exit.code, crashes ? SIGKILL : 0) << exit.to_string();
    EXPECT_EQ(contents_of(r.data()), want_killed[n - 1]);
    PowerCut cut;
    EXPECT_EQ(r.image(&cut), want_image[n - 1]);
    EXPECT_EQ(cut.ops, n - 1);
    if (crashes) {
      ASSERT_TRUE(cut.crash_op.has_value());
      EXPECT_EQ(cut.crash_op->number, n);
      EXPECT_EQ(cut.crash_op->kind, want_kinds[n - 1]);
      EXPECT_NE(cut.to_string().find("just before op " + std::to_string(n)),
                std::string::npos)
          << cut.to_string();
    } else {
      EXPECT_FALSE(cut.crash_op.has_value());
    }
  }
}

TEST(PowerCutTest, ImageLeavesTheDataDirAsTheKillLeftIt) {
  ProbeRun r;
  r.put("wal", "0123456789");
  r.put("old", "x");
  r.run({"pwrite wal 0 AB", "append wal tail", "create tmp", "unlink old",
         "rename tmp new"});
  auto snapshot = [&] {
    std::map<std::string, std::pair<ino_t, std::string>> out;
    for (const auto& e : fs::directory_iterator(r.data())) {
      struct stat st;
      ::lstat(e.path().c_str(), &st);
      out[e.path().filename().string()] = {st.st_ino, read_file(e.path())};
    }
    return out;
  };
  auto before = snapshot();
  PowerCut cut;
  EXPECT_EQ(r.image(&cut), (Files{{"wal", "0123456789"}, {"old", "x"}}));
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(r.image(), (Files{{"wal", "0123456789"}, {"old", "x"}}));
  EXPECT_EQ(cut.vanished, std::vector<std::string>{"new"});
  EXPECT_EQ(cut.came_back, std::vector<std::string>{"old"});
}

TEST(PowerCutTest, ThreadedAppendsAndFsyncsGiveAConsistentImage) {
  constexpr int kThreads = 4;
  constexpr int kRecords = 40;
  ProbeRun r;
  r.run(
      {"threads " + std::to_string(kThreads) + " " + std::to_string(kRecords)});
  Files image = r.image();
  std::multiset<std::string> durable_lines;
  std::istringstream log(image["log"]);
  for (std::string line; std::getline(log, line);) durable_lines.insert(line);
  std::multiset<std::string> want_lines;
  for (int t = 0; t < kThreads; ++t) {
    std::string own;
    for (int i = 0; i < kRecords; ++i) {
      std::string line = "s" + std::to_string(t) + "." + std::to_string(i);
      want_lines.insert(line);
      own += line + "\n";
    }
    std::string name = "t" + std::to_string(t);
    EXPECT_EQ(image[name], own) << name;
    EXPECT_EQ(image.count("u" + std::to_string(t)), 0u);
  }
  EXPECT_EQ(durable_lines, want_lines);
  // The second phase did reach the page cache: the image took it away.
  std::string killed = read_file(r.data() / "log");
  EXPECT_EQ(killed.substr(0, image["log"].size()), image["log"]);
  EXPECT_GT(killed.size(), image["log"].size());
}

TEST(PowerCutTest, ThreadedCrashLeavesAPrefixOfTheLog) {
  // Ops 50 and 333 fall in the phase that fsyncs, 900 in the one that
  // overwrites without fsync.
  for (uint64_t n : {50, 333, 900}) {
    SCOPED_TRACE("crash at op " + std::to_string(n));
    ProbeRun r;
    ExitInfo exit = r.probe({"threads 4 40"}, n);
    EXPECT_FALSE(exit.exited);
    Files image = r.image();
    std::string killed = read_file(r.data() / "log");
    EXPECT_EQ(killed.substr(0, image["log"].size()), image["log"]);
    EXPECT_TRUE(image["log"].empty() || image["log"].back() == '\n');
    for (int t = 0; t < 4; ++t) {
      std::string name = "t" + std::to_string(t);
      if (!image.count(name)) continue;
      // Whole records only: each durable prefix ends at a record boundary.
      EXPECT_TRUE(image[name].empty() || image[name].back() == '\n') << name;
      EXPECT_EQ(image[name].find('X'), std::string::npos) << name;
    }
  }
}

TEST(PowerCutTest, ATornJournalTailIsIgnored) {
  ProbeRun r;
  r.put("wal", "base");
  r.run({"append wal more", "fsync wal", "append wal lost"});
  std::string journal = read_file(r.files().journal);
  // A large UNDO cut short by SIGKILL: a length promising more than follows.
  std::string torn("\xff\x00\x00\x00\x06partial", 12);
  write_file(r.files().journal, journal + torn);
  EXPECT_EQ(r.image(), (Files{{"wal", "basemore"}}));
  Result<Journal> parsed = parse_journal(journal + torn);
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed.value().torn_tail_bytes, torn.size());
}

TEST(PowerCutJournalTest, EveryPrefixOfAJournalParses) {
  ProbeRun r;
  r.put("f", "0123456789");
  r.run({"pwrite f 0 AB", "create g", "append g x", "fsync g", "dirsync",
         "rename g h", "unlink f"});
  std::string journal = read_file(r.files().journal);
  size_t complete = 0;
  for (size_t n = 0; n <= journal.size(); ++n) {
    Result<Journal> parsed = parse_journal(journal.substr(0, n));
    ASSERT_TRUE(parsed.ok()) << n << ": " << parsed.status().to_string();
    if (parsed.value().torn_tail_bytes == 0) ++complete;
  }
  EXPECT_GT(complete, 10u);  // one per record boundary
}

TEST(PowerCutJournalTest, ABadRecordIsDataLoss) {
  ProbeRun r;
  r.run({"create f"});
  std::string journal = read_file(r.files().journal);
  std::string unknown_type("\x01\x00\x00\x00\x63", 5);
  Result<Journal> parsed = parse_journal(journal + unknown_type + journal);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss);
  std::string short_sync("\x05\x00\x00\x00\x07\x01\x02\x03\x04", 9);
  EXPECT_FALSE(parse_journal(journal + short_sync).ok());
  EXPECT_FALSE(parse_journal(short_sync).ok());  // nothing before a HELLO
}

TEST(PowerCutJournalTest, TheLastRunOfTheServerCounts) {
  ProbeRun r;
  r.run({"create f", "dirsync"});
  std::string first = read_file(r.files().journal);
  Result<Journal> one = parse_journal(first);
  Result<Journal> two = parse_journal(first + first);
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(two.value().runs, 2u);
  EXPECT_EQ(two.value().records.size(), one.value().records.size());
}

TEST(PowerCutEnvTest, PreloadAndAsanOptionsAreSet) {
  ProbeRun r;
  Result<std::vector<std::string>> env = prepare_power_cut(r.files(), 7);
  ASSERT_TRUE(env.ok()) << env.status().to_string();
  auto value = [&](const std::string& name) -> std::string {
    for (const std::string& v : env.value())
      if (v.rfind(name + "=", 0) == 0) return v.substr(name.size() + 1);
    return "<unset>";
  };
  EXPECT_TRUE(
      fs::exists(value("LD_PRELOAD").substr(0, value("LD_PRELOAD").find(':'))))
      << value("LD_PRELOAD");
  EXPECT_NE(value("ASAN_OPTIONS").find("verify_asan_link_order=0"),
            std::string::npos);
  EXPECT_EQ(value("KVFAULT_CRASH_AT"), "7");
  EXPECT_EQ(value("KVFAULT_DIR"), fs::absolute(r.data()).string());
  PowerCutFiles inside = r.files();
  inside.stash_dir = r.data() / "stash";
  EXPECT_FALSE(prepare_power_cut(inside).ok());
  PowerCutFiles around = r.files();
  around.stash_dir = r.data().parent_path();
  EXPECT_FALSE(prepare_power_cut(around).ok());
  EXPECT_TRUE(fs::exists(r.data()));
}

TEST(PowerCutEnvTest, SpawnAddsEnvToTheInheritedEnvironment) {
  TempDir dir;
  ::setenv("KVLAB_POWERCUT_TEST_INHERITED", "kept", 1);
  ::setenv("KVLAB_POWERCUT_TEST_REPLACED", "old", 1);
  auto child = ChildProcess::spawn(
      {"/bin/sh", "-c",
       "echo $KVLAB_POWERCUT_TEST_INHERITED $KVLAB_POWERCUT_TEST_REPLACED "
       "$KVLAB_POWERCUT_TEST_ADDED"},
      dir.path() / "log",
      {"KVLAB_POWERCUT_TEST_REPLACED=new", "KVLAB_POWERCUT_TEST_ADDED=added"});
  ASSERT_TRUE(child.ok());
  ASSERT_TRUE(child.value().wait_for(std::chrono::seconds(60)));
  EXPECT_EQ(read_file(dir.path() / "log"), "kept new added\n");
}

TEST(PowerCutEnvTest, WithoutKvfaultDirTheLibraryOnlyForwards) {
  ProbeRun scratch;
  Result<std::vector<std::string>> armed = prepare_power_cut(scratch.files());
  ASSERT_TRUE(armed.ok()) << armed.status().to_string();
  std::vector<std::string> env;  // LD_PRELOAD and ASAN_OPTIONS only
  for (const std::string& v : armed.value())
    if (v.rfind("KVFAULT_", 0) != 0) env.push_back(v);
  TempDir dir;
  auto child =
      ChildProcess::spawn({KVFAULT_PROBE, dir.path().string(), "create f",
                           "append f x", "fsync f", "rename f g"},
                          dir.path() / "log", env);
  ASSERT_TRUE(child.ok());
  std::optional<ExitInfo> exit =
      child.value().wait_for(std::chrono::seconds(60));
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->exited && exit->code == 0)
      << tail_of_file(dir.path() / "log", 5);
  EXPECT_EQ(read_file(dir.path() / "g"), "x");
  EXPECT_FALSE(fs::exists(scratch.files().journal));
}

}  // namespace
}  // namespace kv::grader
