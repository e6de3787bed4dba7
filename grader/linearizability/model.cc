// See model.h.
#include "model.h"

#include <fmt/format.h>

namespace kv::linearizability {
namespace {

// Register states: "N" for nil (never written), "V" + the value.
class RegisterModel final : public Model {
 public:
  std::string_view name() const override { return "register"; }
  std::string initial() const override { return "N"; }

  std::optional<std::string> step(const std::string& state,
                                  const Operation& op) const override {
    if (op.f == "write") return "V" + op.arg;
    if (op.f == "cas") {
      bool matches = state == "V" + op.arg;
      if (matches) return "V" + op.arg2;
      // An ok cas swapped, so a mismatch rules it out; an info cas may
      // have found another value and done nothing.
      if (op.status == Operation::Status::kInfo) return state;
      return std::nullopt;
    }
    // read
    if (op.status == Operation::Status::kInfo) return state;
    std::string seen = op.has_result ? "V" + op.result : "N";
    if (seen != state) return std::nullopt;
    return state;
  }

  std::string describe(const std::string& state) const override {
    if (state == "N") return "nil";
    return fmt::format("\"{}\"", state.substr(1));
  }

  Status validate(const Operation& op) const override {
    if (op.f == "read" || op.f == "write" || op.f == "cas") return Status();
    return Status::invalid_argument(fmt::format(
        "the register model has read, write and cas, not '{}'", op.f));
  }
};

// One key's value; a missing key and an empty value are the same "".
class KvModel final : public Model {
 public:
  std::string_view name() const override { return "kv"; }
  std::string initial() const override { return ""; }

  std::optional<std::string> step(const std::string& state,
                                  const Operation& op) const override {
    if (op.f == "put") return op.arg;
    if (op.f == "append") return state + op.arg;
    if (op.f == "delete") return std::string();
    // get
    if (op.status == Operation::Status::kInfo) return state;
    if (op.result != state) return std::nullopt;
    return state;
  }

  std::string describe(const std::string& state) const override {
    return fmt::format("\"{}\"", state);
  }

  Status validate(const Operation& op) const override {
    if (op.f == "get" || op.f == "put" || op.f == "append" || op.f == "delete")
      return Status();
    return Status::invalid_argument(fmt::format(
        "the kv model has get, put, append and delete, not '{}'", op.f));
  }
};

}  // namespace

std::unique_ptr<Model> register_model() {
  return std::make_unique<RegisterModel>();
}
std::unique_ptr<Model> kv_model() { return std::make_unique<KvModel>(); }

std::unique_ptr<Model> model_named(std::string_view name) {
  if (name == "register") return register_model();
  if (name == "kv") return kv_model();
  return nullptr;
}

}  // namespace kv::linearizability
