// Where a node's copy of the data stands in the leader's history of
// writes, and what a leader does about a follower that says where it is.
// Pure: no I/O, no threads, so every case of the handshake is a unit test
// (position_test.cc).
//
// The leader numbers every write it accepts: offset 1, 2, 3, ... A node's
// Position is (history, offset): "I hold exactly the first `offset` writes
// of history `history`". A history is a random 64-bit id chosen when a node
// becomes leader (at its first start as leader, or on PROMOTE), so two
// leaders' offset 42 are never taken for the same write. A promoted node
// also remembers the history it followed and the offset it had reached in
// it (`previous`): up to there, the two histories hold the same writes.
//
// Positions are stored in the node's own lab 02 log, as two reserved keys
// (kPositionKey, kPreviousKey) written by the same DurableStore as the
// data, so they are exactly as durable as the writes they count and need
// no file of their own. Clients cannot read or write those keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kv::lab04 {

// 0 is "no history": a fresh node, or one whose full sync was cut short
// (its data is a mix that only a new full sync can repair).
using HistoryId = uint64_t;
inline constexpr HistoryId kNoHistory = 0;

struct Position {
  HistoryId history = kNoHistory;
  uint64_t offset = 0;

  bool operator==(const Position&) const = default;
  std::string to_string() const;  // "3f2a...:42", "none"
};

// The reserved keys. They start with a NUL byte, so no ordinary key
// collides with them, and the lab's commands refuse them from clients
// (telnet can still type one as "\x00kvlab04:...": it gets -ERR).
inline constexpr std::string_view kReservedPrefix{"\0kvlab04:", 9};
inline constexpr std::string_view kPositionKey{"\0kvlab04:position", 17};
inline constexpr std::string_view kPreviousKey{"\0kvlab04:previous", 17};
bool is_reserved_key(std::string_view key);

// "<16 hex digits> <decimal offset>", the value stored under the keys and
// the words sent in the handshake.
std::string encode_position(const Position& position);
std::optional<Position> decode_position(std::string_view text);
std::string history_hex(HistoryId history);
std::optional<HistoryId> parse_history(std::string_view hex);

// What the leader knows when a follower connects.
struct LeaderView {
  Position current;            // its history and last offset
  Position previous;           // the history it followed before promotion
  uint64_t backlog_first = 0;  // oldest offset still in its backlog, or
                               // current.offset + 1 when the backlog is empty
};

struct SyncPlan {
  enum class Kind {
    kContinue,  // stream from follower.offset + 1
    kFull,      // send the whole state first, then stream
  };
  Kind kind = Kind::kFull;
  std::string reason;  // why, for the leader's log and the handout
};

// The handshake's decision. A follower may continue only if every write it
// holds is one the leader holds too (same history, or the leader's
// previous one up to where they parted) and the leader still has every
// write after it in its backlog. Otherwise it gets the whole state: a
// follower ahead of the leader, or on a history the leader never had,
// holds writes the leader does not, and must throw them away.
SyncPlan plan_sync(const LeaderView& leader, const Position& follower);

}  // namespace kv::lab04
