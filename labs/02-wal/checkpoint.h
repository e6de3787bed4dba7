// Compaction's file work: a checkpoint holds every live key once, so the
// logs it covers can go. The order of the steps is what makes a crash at
// any moment safe; checkpoint.cc says why each one is where it is.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kv::lab02 {

using Entries = std::vector<std::pair<std::string, std::string>>;

// Writes entries as checkpoint.<generation>: into a .tmp file, fdatasync,
// rename into place, fsync the directory. Returns the file's size. Stops
// early (removing the .tmp) with an error when cancel becomes true.
Result<uint64_t> write_checkpoint(const std::filesystem::path& dir,
                                  uint64_t generation, const Entries& entries,
                                  const std::atomic<bool>& cancel);

// Once checkpoint.<generation> is durable: removes the logs it covers and
// older checkpoints, then fsyncs the directory.
Status remove_covered(const std::filesystem::path& dir, uint64_t generation);

}  // namespace kv::lab02
