// See store.h. Each method takes the lock for exactly one map operation, so
// no caller can see a half-done write, and no lock is held across I/O.
#include "store.h"

#include <mutex>

#include "common/not_implemented.h"

namespace kv::lab01 {

void Store::set(std::string key, std::string value) {
  // LAB01 BEGIN: Store::set — insert or overwrite under an exclusive lock
  std::unique_lock lock(mu_);
  map_.insert_or_assign(std::move(key), std::move(value));
  // LAB01 END
}

std::optional<std::string> Store::get(std::string_view key) const {
  // LAB01 BEGIN: Store::get — look up under a shared lock, copy the value out
  std::shared_lock lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  // A copy, not a reference: once the lock is released a writer may
  // overwrite or free the stored string.
  return it->second;
  // LAB01 END
}

bool Store::erase(std::string_view key) {
  // LAB01 BEGIN: Store::erase — remove under an exclusive lock
  std::unique_lock lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  map_.erase(it);
  return true;
  // LAB01 END
}

bool Store::contains(std::string_view key) const {
  // LAB01 BEGIN: Store::contains — look up under a shared lock
  std::shared_lock lock(mu_);
  return map_.find(key) != map_.end();
  // LAB01 END
}

std::vector<std::pair<std::string, std::string>> Store::entries() const {
  std::shared_lock lock(mu_);
  return {map_.begin(), map_.end()};
}

size_t Store::size() const {
  std::shared_lock lock(mu_);
  return map_.size();
}

}  // namespace kv::lab01
