// Store: the in-memory key-value map every lab builds on, safe to use from
// several event-loop threads at once. Reads (GET, EXISTS) share the lock;
// writes (SET, DEL) take it alone: a reader-writer lock, because a cache-like
// workload reads far more than it writes. The protocol around it is in
// commands.h; nothing here knows about sockets.
//
// Lab 02 makes the store durable by deriving from it: its set and erase
// append to a write-ahead log first, and wait_durable makes the event loop
// hold every reply until the writes before it are on disk.
#pragma once

#include <cstddef>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"

namespace kv::lab01 {

class Store {
 public:
  virtual ~Store() = default;

  // Inserts or overwrites key.
  virtual void set(std::string key, std::string value);
  // The value of key, or nullopt when absent.
  std::optional<std::string> get(std::string_view key) const;
  // Removes key; true when it was there.
  virtual bool erase(std::string_view key);
  bool contains(std::string_view key) const;
  size_t size() const;

  // The event loop calls this before it sends any reply, once per batch of
  // replies: it returns when every write made so far is as safe as the
  // store promises. In memory there is nothing to wait for.
  virtual void wait_durable() {}

  // A copy of every entry, taken under the shared lock (for lab 02's
  // checkpoints), in no particular order.
  std::vector<std::pair<std::string, std::string>> entries() const;

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
