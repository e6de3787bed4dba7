// See position.h.
#include "position.h"

#include <charconv>

#include <fmt/format.h>

#include "common/not_implemented.h"

namespace kv::lab04 {

std::string Position::to_string() const {
  if (history == kNoHistory) return fmt::format("none:{}", offset);
  return fmt::format("{}:{}", history_hex(history), offset);
}

bool is_reserved_key(std::string_view key) {
  return key.starts_with(kReservedPrefix);
}

std::string history_hex(HistoryId history) {
  return fmt::format("{:016x}", history);
}

std::optional<HistoryId> parse_history(std::string_view hex) {
  if (hex.size() != 16) return std::nullopt;
  HistoryId history = 0;
  auto [end, ec] =
      std::from_chars(hex.data(), hex.data() + hex.size(), history, 16);
  if (ec != std::errc() || end != hex.data() + hex.size()) return std::nullopt;
  return history;
}

std::string encode_position(const Position& position) {
  return fmt::format("{} {}", history_hex(position.history), position.offset);
}

std::optional<Position> decode_position(std::string_view text) {
  size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::optional<HistoryId> history = parse_history(text.substr(0, space));
  std::string_view digits = text.substr(space + 1);
  uint64_t offset = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (!history || digits.empty() || ec != std::errc() ||
      end != digits.data() + digits.size())
    return std::nullopt;
  return Position{*history, offset};
}

SyncPlan plan_sync(const LeaderView& leader, const Position& follower) {
  // LAB04 BEGIN: plan_sync — CONTINUE only from a shared prefix still held
  using Kind = SyncPlan::Kind;
  if (follower.history == kNoHistory)
    return {Kind::kFull,
            "the follower has no history (new, or a full sync "
            "was cut short)"};
  uint64_t shared_until = 0;  // the follower's writes are ours up to here
  if (follower.history == leader.current.history) {
    shared_until = leader.current.offset;
  } else if (follower.history == leader.previous.history &&
             leader.previous.history != kNoHistory) {
    shared_until = leader.previous.offset;
  } else {
    return {Kind::kFull,
            fmt::format("the follower is on history {}, which this leader "
                        "never had",
                        history_hex(follower.history))};
  }
  if (follower.offset > shared_until)
    return {Kind::kFull,
            fmt::format("the follower holds {} writes past the point where "
                        "its history and this leader's agree ({}); they are "
                        "discarded",
                        follower.offset - shared_until, shared_until)};
  if (follower.offset + 1 < leader.backlog_first)
    return {Kind::kFull,
            fmt::format("the backlog starts at offset {}; the follower "
                        "needs {} onwards",
                        leader.backlog_first, follower.offset + 1)};
  return {Kind::kContinue, "the backlog holds every write the follower lacks"};
  // LAB04 END
}

}  // namespace kv::lab04
