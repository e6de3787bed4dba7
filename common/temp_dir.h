// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with all its
// contents when the object dies. For tests and for the grader's scratch
// data directories.
#pragma once

#include <filesystem>
#include <string_view>

namespace kv {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "kvlab");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace kv
