// For tests: a History written by hand as operations with explicit
// [invoke, complete] times, e.g.
//   HistoryBuilder b;
//   b.op(0, "write", 0, 1, "1").read(1, 2, 3, std::nullopt);  // stale read
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "history.h"

namespace kv::linearizability {

class HistoryBuilder {
 public:
  HistoryBuilder& op(int client, std::string f, Time invoke, Time complete,
                     std::string arg = {}, std::string arg2 = {}) {
    Operation o;
    o.id = static_cast<int64_t>(h_.operations.size());
    o.client = client;
    o.f = std::move(f);
    o.arg = std::move(arg);
    o.arg2 = std::move(arg2);
    o.invoke = invoke;
    o.complete = complete;
    h_.operations.push_back(std::move(o));
    return *this;
  }
  // A read (or, with f "get", a get) that returned value (nullopt: nil).
  HistoryBuilder& read(int client, Time invoke, Time complete,
                       std::optional<std::string> value,
                       std::string f = "read") {
    op(client, std::move(f), invoke, complete);
    h_.operations.back().has_result = value.has_value();
    h_.operations.back().result = value.value_or("");
    return *this;
  }
  // The last operation's outcome is unknown: it never completes.
  HistoryBuilder& info() {
    h_.operations.back().status = Operation::Status::kInfo;
    h_.operations.back().complete = kNever;
    return *this;
  }
  HistoryBuilder& key(std::string k) {
    h_.operations.back().key = std::move(k);
    return *this;
  }
  const History& history() const { return h_; }
  History& history() { return h_; }

 private:
  History h_;
};

}  // namespace kv::linearizability
