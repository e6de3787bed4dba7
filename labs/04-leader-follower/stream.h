// The replication stream's messages: what a follower and its leader say to
// each other on the leader's replication port (--repl-listen). Every
// message is a RESP multibulk array, the same framing clients use since
// lab 03, so lab 03's request parser cuts them out of the bytes and any
// value (binary, newlines, NUL) travels as it is. Pure: bytes and typed
// messages, no sockets (stream_test.cc).
//
//   follower -> leader   REPLICATE <history> <offset>     once, first
//   leader -> follower   CONTINUE <history> <offset> <leader client addr>
//                     or FULLSYNC <history> <offset> <count> <leader addr>
//                        followed by <count> x ENTRY <key> <value>
//                     or REFUSED <reason>                  (then closes)
//   leader -> follower   SET <offset> <key> <value>        the stream, in
//                        DEL <offset> <key>                offset order
//                        PING                              when idle
//   follower -> leader   ACK <offset>   everything up to offset is applied
//                                       and durable here; also when idle
//
// <history> is 16 hex digits (0000000000000000: none), offsets decimal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "backlog.h"
#include "position.h"

namespace kv::lab04 {

// Appends one message to out.
void encode_replicate(const Position& follower, std::string& out);
void encode_continue(const Position& from, std::string_view leader_address,
                     std::string& out);
void encode_fullsync(const Position& at, uint64_t count,
                     std::string_view leader_address, std::string& out);
void encode_entry(std::string_view key, std::string_view value,
                  std::string& out);
void encode_refused(std::string_view reason, std::string& out);
void encode_write(const Write& write, std::string& out);
void encode_ping(std::string& out);
void encode_ack(uint64_t offset, std::string& out);

struct ReplicateMsg {
  Position position;
};
struct ContinueMsg {
  Position position;
  std::string leader_address;
};
struct FullSyncMsg {
  Position position;
  uint64_t count = 0;
  std::string leader_address;
};
struct EntryMsg {
  std::string key;
  std::string value;
};
struct RefusedMsg {
  std::string reason;
};
struct PingMsg {};
struct AckMsg {
  uint64_t offset = 0;
};
using Message = std::variant<ReplicateMsg, ContinueMsg, FullSyncMsg, EntryMsg,
                             RefusedMsg, Write, PingMsg, AckMsg>;

struct ParsedMessage {
  enum class Kind {
    kNeedMore,  // no complete message yet
    kMessage,   // message holds it; consumed bytes were used
    kBad,       // not a message of this protocol: error says why. The
                // stream cannot be trusted after it: close the link.
  };
  Kind kind = Kind::kNeedMore;
  Message message;
  size_t consumed = 0;
  std::string error;
};

// Cuts the first message out of buffer.
ParsedMessage parse_message(std::string_view buffer);

}  // namespace kv::lab04
