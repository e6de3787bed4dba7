// Store: the in-memory key-value map every lab builds on, safe to use from
// several event-loop threads at once. Reads (GET, EXISTS) share the lock;
// writes (SET, DEL) take it alone: a reader-writer lock, because a cache-like
// workload reads far more than it writes. The protocol around it is in
// commands.h; nothing here knows about sockets.
#pragma once

#include <cstddef>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/thread_annotations.h"

namespace kv::lab01 {

class Store {
 public:
  // Inserts or overwrites key.
  void set(std::string key, std::string value);
  // The value of key, or nullopt when absent.
  std::optional<std::string> get(std::string_view key) const;
  // Removes key; true when it was there.
  bool erase(std::string_view key);
  bool contains(std::string_view key) const;
  size_t size() const;

 private:
  // Lets find() take a string_view without building a std::string per GET.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>{}(s);
    }
  };

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> map_
      KV_GUARDED_BY(mu_);
};

}  // namespace kv::lab01
