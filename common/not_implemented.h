// kv::NotImplemented: the one exception kvlab throws. `grader start labNN`
// replaces each solution region of a lab with
//   throw kv::NotImplemented("labNN: <hint>");
// so that a starter copy builds and tells the student, at run time, which
// part is still to write. Servers catch it at the edge of a connection and
// reply with an -ERR naming the hint, so the grader can show it.
#pragma once

#include <stdexcept>
#include <string>

namespace kv {

class NotImplemented : public std::logic_error {
 public:
  explicit NotImplemented(const std::string& hint)
      : std::logic_error("not implemented: " + hint) {}
};

}  // namespace kv
