// See temp_dir.h.
#include "common/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "common/check.h"

namespace kv {

TempDir::TempDir(std::string_view prefix) {
  std::filesystem::path base = std::filesystem::temp_directory_path();
  std::string pattern = (base / (std::string(prefix) + ".XXXXXX")).string();
  char* made = ::mkdtemp(pattern.data());
  KV_CHECK(made != nullptr,
           "mkdtemp " + pattern + ": " +
               std::error_code(errno, std::generic_category()).message());
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace kv
