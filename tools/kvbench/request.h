// Request bytes for the two forms of DESIGN §4. Inline (labs 01-02, and
// Redis): `SET key:7 <value>\r\n`, one line, so the value must be one word
// without spaces, quotes or backslashes, which value_codec.h guarantees.
// RESP multibulk (lab 03 on, Redis): `*3\r\n$3\r\nSET\r\n$5\r\nkey:7\r\n...`,
// binary-safe. Both are appended to a connection's output buffer, so a
// batch of pipelined requests leaves in one write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tools/kvbench/value_codec.h"

namespace kv::kvbench {

enum class Protocol { kInline, kResp };

void append_get(std::string& out, Protocol protocol, uint64_t key);
// The value is value_codec's for id, value_size bytes, built in place.
void append_set(std::string& out, Protocol protocol, const ValueId& id,
                size_t value_size);

}  // namespace kv::kvbench
