// See stream.h. Framing is lab 03's: next_request cuts arrays, this file
// only gives their words a meaning and checks them.
#include "stream.h"

#include <charconv>
#include <initializer_list>
#include <vector>

#include <fmt/format.h>

#include "request_parser.h"

namespace kv::lab04 {
namespace {

void append_array(std::string& out,
                  std::initializer_list<std::string_view> words) {
  fmt::format_to(std::back_inserter(out), "*{}\r\n", words.size());
  for (std::string_view word : words) {
    fmt::format_to(std::back_inserter(out), "${}\r\n", word.size());
    out.append(word);
    out.append("\r\n");
  }
}

std::optional<uint64_t> parse_u64(std::string_view digits) {
  uint64_t value = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() ||
      end != digits.data() + digits.size())
    return std::nullopt;
  return value;
}

std::optional<Position> parse_position(std::string_view history,
                                       std::string_view offset) {
  std::optional<HistoryId> h = parse_history(history);
  std::optional<uint64_t> o = parse_u64(offset);
  if (!h || !o) return std::nullopt;
  return Position{*h, *o};
}

// The words of one array as a Message, or an error.
std::variant<Message, std::string> interpret(
    const std::vector<std::string>& w) {
  auto bad = [&](std::string_view why) -> std::string {
    return fmt::format("bad {} message: {}", w.empty() ? "empty" : w[0], why);
  };
  if (w.empty()) return bad("no words");
  const std::string& name = w[0];
  if (name == "SET" || name == "DEL") {
    const bool set = name == "SET";
    if (w.size() != (set ? 4u : 3u)) return bad("wrong number of words");
    std::optional<uint64_t> offset = parse_u64(w[1]);
    if (!offset || *offset == 0) return bad("offset is not a number > 0");
    return Write{*offset, set ? Write::Op::kSet : Write::Op::kDel, w[2],
                 set ? w[3] : std::string()};
  }
  if (name == "PING") {
    if (w.size() != 1) return bad("wrong number of words");
    return PingMsg{};
  }
  if (name == "ACK") {
    std::optional<uint64_t> offset =
        w.size() == 2 ? parse_u64(w[1]) : std::nullopt;
    if (!offset) return bad("expected ACK <offset>");
    return AckMsg{*offset};
  }
  if (name == "ENTRY") {
    if (w.size() != 3) return bad("wrong number of words");
    return EntryMsg{w[1], w[2]};
  }
  if (name == "REPLICATE") {
    std::optional<Position> p =
        w.size() == 3 ? parse_position(w[1], w[2]) : std::nullopt;
    if (!p) return bad("expected REPLICATE <16 hex digits> <offset>");
    return ReplicateMsg{*p};
  }
  if (name == "CONTINUE") {
    std::optional<Position> p =
        w.size() == 4 ? parse_position(w[1], w[2]) : std::nullopt;
    if (!p) return bad("expected CONTINUE <history> <offset> <address>");
    return ContinueMsg{*p, w[3]};
  }
  if (name == "FULLSYNC") {
    std::optional<Position> p =
        w.size() == 5 ? parse_position(w[1], w[2]) : std::nullopt;
    std::optional<uint64_t> count =
        w.size() == 5 ? parse_u64(w[3]) : std::nullopt;
    if (!p || !count)
      return bad("expected FULLSYNC <history> <offset> <count> <address>");
    return FullSyncMsg{*p, *count, w[4]};
  }
  if (name == "REFUSED") {
    if (w.size() != 2) return bad("wrong number of words");
    return RefusedMsg{w[1]};
  }
  return fmt::format("unknown message '{}'", name.substr(0, 32));
}

}  // namespace

void encode_replicate(const Position& follower, std::string& out) {
  append_array(out, {"REPLICATE", history_hex(follower.history),
                     std::to_string(follower.offset)});
}

void encode_continue(const Position& from, std::string_view leader_address,
                     std::string& out) {
  append_array(out, {"CONTINUE", history_hex(from.history),
                     std::to_string(from.offset), leader_address});
}

void encode_fullsync(const Position& at, uint64_t count,
                     std::string_view leader_address, std::string& out) {
  append_array(out,
               {"FULLSYNC", history_hex(at.history), std::to_string(at.offset),
                std::to_string(count), leader_address});
}

void encode_entry(std::string_view key, std::string_view value,
                  std::string& out) {
  append_array(out, {"ENTRY", key, value});
}

void encode_refused(std::string_view reason, std::string& out) {
  append_array(out, {"REFUSED", reason});
}

void encode_write(const Write& write, std::string& out) {
  const std::string offset = std::to_string(write.offset);
  if (write.op == Write::Op::kSet)
    append_array(out, {"SET", offset, write.key, write.value});
  else
    append_array(out, {"DEL", offset, write.key});
}

void encode_ping(std::string& out) { append_array(out, {"PING"}); }

void encode_ack(uint64_t offset, std::string& out) {
  append_array(out, {"ACK", std::to_string(offset)});
}

ParsedMessage parse_message(std::string_view buffer) {
  ParsedMessage parsed;
  if (buffer.empty()) return parsed;
  if (buffer[0] != '*') {
    parsed.kind = ParsedMessage::Kind::kBad;
    parsed.error = "expected a RESP array ('*'), got another byte";
    return parsed;
  }
  lab03::Request request = lab03::next_request(buffer);
  switch (request.kind) {
    case lab03::RequestKind::kNeedMore:
      return parsed;
    case lab03::RequestKind::kError:
    case lab03::RequestKind::kFatal:
      parsed.kind = ParsedMessage::Kind::kBad;
      parsed.error = request.error;
      return parsed;
    case lab03::RequestKind::kRequest:
      break;
  }
  std::variant<Message, std::string> interpreted = interpret(request.words);
  if (auto* error = std::get_if<std::string>(&interpreted)) {
    parsed.kind = ParsedMessage::Kind::kBad;
    parsed.error = std::move(*error);
    return parsed;
  }
  parsed.kind = ParsedMessage::Kind::kMessage;
  parsed.message = std::move(std::get<Message>(interpreted));
  parsed.consumed = request.consumed;
  return parsed;
}

}  // namespace kv::lab04
