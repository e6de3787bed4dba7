// Sequential specifications: what one object does when operations are
// applied to it one at a time. The checker asks a model only one question:
// from this state, can this operation happen with the result it had, and
// if so, what is the state after it? States are strings, so that the
// checker can remember which (operations done, state) pairs it has tried.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "history.h"

namespace kv::linearizability {

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string_view name() const = 0;
  virtual std::string initial() const = 0;
  // The state after op from state, or nullopt if op cannot have happened
  // there with its result. An info operation has no result to contradict:
  // it always can (a cas whose expected value does not match does nothing).
  virtual std::optional<std::string> step(const std::string& state,
                                          const Operation& op) const = 0;
  // The state as a person reads it, for reports: nil, "x".
  virtual std::string describe(const std::string& state) const = 0;
  // An operation this model does not know ("incr"), named in the error.
  virtual Status validate(const Operation& op) const = 0;
};

// One register: read, write, cas. Starts nil (never written).
std::unique_ptr<Model> register_model();
// One key of a key-value map: get, put, append, delete. Starts "" (a
// missing key reads as ""). The checker checks each key on its own.
std::unique_ptr<Model> kv_model();

// "register" or "kv"; nullptr for anything else.
std::unique_ptr<Model> model_named(std::string_view name);

}  // namespace kv::linearizability
