// The grader's power-cut fault. kill -9 keeps the page cache, so it cannot
// tell a server that fsyncs from one that does not; a power cut can. A
// server runs with libkvfault.so preloaded (powercut/README.md), which
// journals what reaches stable storage; after SIGKILL, power_cut_image()
// writes into a fresh directory what a power cut at that moment would have
// left, and the suite restarts the server on it. The data dir itself is
// left as the kill left it, for a plain kill -9 recovery test.
//
//   PowerCutFiles files{data, scratch / "journal", scratch / "stash"};
//   Result<std::vector<std::string>> env = prepare_power_cut(files);
//   options.env = env.value();   // ServerProcess::Options
//   ... start, write, server.kill() ...
//   Result<PowerCut> cut = power_cut_image(files, scratch / "after-cut");
//   ... restart on scratch / "after-cut"; a lost write's diagnosis adds
//   cut.value().to_string() ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "powercut_journal.h"

namespace kv::grader {

// The paths of one power-cut run. journal and stash_dir must lie outside
// data_dir; stash_dir on the same filesystem (it holds hard links).
struct PowerCutFiles {
  std::filesystem::path data_dir;
  std::filesystem::path journal;
  std::filesystem::path stash_dir;
};

// libkvfault.so: $KVFAULT_LIBRARY if set, else beside the running binary,
// else where this build put it.
Result<std::filesystem::path> kvfault_library();

// Readies a run and returns the environment for the server, as "NAME=value"
// entries for ChildProcess::spawn / ServerProcess::Options::env: LD_PRELOAD
// (libkvfault.so first, then any inherited), the KVFAULT_* variables, and
// ASAN_OPTIONS with verify_asan_link_order=0 appended, without which an
// asan-built server refuses a library preloaded ahead of its runtime (tsan
// and plain builds need nothing). Makes data_dir durable (the journal's
// baseline assumes it is), empties stash_dir (creating it), removes an old
// journal. With crash_at, the server SIGKILLs itself just before op
// crash_at (numbered as journal_ops() lists them).
Result<std::vector<std::string>> prepare_power_cut(
    const PowerCutFiles& files, std::optional<uint64_t> crash_at = {});

// A crash point named by what it is, not by its number: the Kth op of a
// kind on a name. Another thread's ops (a client's writes beside a
// background compaction) shift numbers from run to run; this stays put.
struct CrashPoint {
  powercut::OpKind kind = powercut::OpKind::kWrite;
  std::string name;
  uint64_t occurrence = 1;
  std::string to_string() const;  // "the 2nd fsync of the data dir"
};
// The crash point of ops[index], counted in ops.
CrashPoint crash_point_of(const std::vector<FsOp>& ops, size_t index);
Result<std::vector<std::string>> prepare_power_cut(const PowerCutFiles& files,
                                                   const CrashPoint& point);

// A file whose contents differ between the kill and the power cut.
struct FileRollback {
  std::string name;
  uint64_t size_at_kill = 0;
  uint64_t durable_size = 0;
  uint64_t bytes_rewritten = 0;  // differing bytes below both sizes
};

// What the power cut undid, for diagnoses.
struct PowerCut {
  std::vector<std::string> vanished;   // named at the kill, not durably
  std::vector<std::string> came_back;  // removed or replaced, not durably
  std::vector<FileRollback> rolled_back;
  uint64_t ops = 0;              // ops begun (the last may be unfinished)
  std::optional<FsOp> last_op;   // the last op begun
  std::optional<FsOp> crash_op;  // the op KVFAULT_CRASH_AT stopped
  // "power cut just before op 8, rename(checkpoint.tmp -> checkpoint);
  //  rolled back: wal.log 120 -> 80 bytes; vanished: checkpoint.tmp"
  std::string to_string() const;
};

// What a power cut does with changes to the data dir's names (creates,
// renames, unlinks) made since its last fsync. POSIX promises nothing about
// them, not even their order, so a test may try both:
enum class UnsyncedNames {
  kAllUndone,  // all of them are lost (the state of the last fsync)
  // Unsynced unlinks reached the disk, unsynced creates and renames did
  // not: what breaks a program that removes an old file after a rename
  // without an fsync of the directory between the two.
  kRemovalsKept,
};

// After the server was killed: writes into out_dir (made if missing; must
// be empty) exactly what a power cut would have left of data_dir: the
// names of the last fsync of the dir (else the baseline), each file with
// its durable contents; subdirectories, which the model does not cover,
// copied as they are. fsyncs what it writes. Reads, never changes, data_dir.
Result<PowerCut> power_cut_image(
    const std::filesystem::path& journal, const std::filesystem::path& data_dir,
    const std::filesystem::path& stash_dir,
    const std::filesystem::path& out_dir,
    UnsyncedNames names = UnsyncedNames::kAllUndone);
Result<PowerCut> power_cut_image(
    const PowerCutFiles& files, const std::filesystem::path& out_dir,
    UnsyncedNames names = UnsyncedNames::kAllUndone);

// The ops the journal's last run began, in order: a test runs the workload
// once, then once per op n with crash_at = n.
Result<std::vector<FsOp>> journal_ops(const std::filesystem::path& journal);

// fsyncs every file and directory under dir, and dir itself.
Status sync_tree(const std::filesystem::path& dir);

}  // namespace kv::grader
