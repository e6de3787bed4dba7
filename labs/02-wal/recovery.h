// Recovery: what the server does with its data directory before it serves
// anyone. It takes the directory's lock, loads the newest checkpoint,
// replays the logs after it in order, cuts a torn tail off the last log
// (with a warning), clears away what an interrupted compaction left, and
// hands back the log to append to. Anything it cannot explain (a gap in the
// generations, damage in the middle of a log, a broken checkpoint, a file
// that is not lab 02's) is an error that names the file and offset: the
// server refuses to start rather than serve without acknowledged writes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"
#include "record.h"

namespace kv::lab02 {

struct Recovered {
  UniqueFd lock;                  // flock'ed LOCK: one server per directory
  UniqueFd log;                   // open for appending
  uint64_t generation = 0;        // of that log
  uint64_t log_bytes = 0;         // in the logs after the checkpoint
  uint64_t checkpoint_bytes = 0;  // 0 without a checkpoint
  uint64_t checkpoint_entries = 0;
  uint64_t log_records = 0;        // replayed from logs
  uint64_t truncated_bytes = 0;    // torn tail cut off the last log
  std::vector<std::string> notes;  // what it cleaned up or cut, for the log
};

// Creates dir if it does not exist. apply receives every SET and DEL to
// replay, in order, starting from an empty store.
Result<Recovered> recover(const std::filesystem::path& dir,
                          const std::function<void(const Record&)>& apply);

// Loads checkpoint.<generation> at path: SET records, then END with their
// count, then nothing. Anything else is corruption (a checkpoint is renamed
// into place only once it is complete and synced).
Status load_checkpoint(const std::filesystem::path& path, uint64_t generation,
                       const std::function<void(const Record&)>& apply,
                       uint64_t& entries);

}  // namespace kv::lab02
