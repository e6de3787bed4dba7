// The commands of lab 01 (DESIGN §4): PING, SET, GET, DEL, EXISTS, QUIT.
// execute() runs one parsed request against the store and appends its RESP
// reply; it never touches a socket, so the connection code (connection.h)
// decides when replies are written and the tests call it directly.
#pragma once

#include <string>
#include <vector>

#include "store.h"

namespace kv::lab01 {

enum class AfterReply {
  kContinue,  // read the next request
  kClose,     // QUIT: send the reply, then close the connection
};

// words is a non-empty request, words[0] the command name in any case.
// Unknown commands and wrong arity append an -ERR; the connection goes on.
AfterReply execute(const std::vector<std::string>& words, Store& store,
                   std::string& out);

}  // namespace kv::lab01
