// See history.h; the formats are described in README.md.
#include "history.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kv::linearizability {
namespace {

std::string quote_value(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// One event of a log, before invocations and completions are paired.
struct Event {
  int client = 0;
  std::string type;  // invoke ok fail info
  std::string f;
  std::string key;
  std::string arg, arg2;
  bool has_value = false;  // ok read/get: a value (not nil)
  std::string value;
  Time time = 0;
  size_t line = 0;
};

// Pairs each completion with its client's outstanding invocation.
Result<History> pair_events(const std::vector<Event>& events) {
  History history;
  std::map<int, size_t> pending;  // client -> index in history
  std::vector<bool> dropped;
  for (const Event& e : events) {
    if (e.type == "invoke") {
      if (pending.count(e.client))
        return Status::invalid_argument(fmt::format(
            "line {}: client {} invokes {} while its {} is outstanding", e.line,
            e.client, e.f, history.operations[pending[e.client]].f));
      Operation op;
      op.id = static_cast<int64_t>(history.operations.size());
      op.client = e.client;
      op.key = e.key;
      op.f = e.f;
      op.arg = e.arg;
      op.arg2 = e.arg2;
      op.invoke = e.time;
      op.complete = kNever;
      op.status = Operation::Status::kInfo;  // until it completes
      pending[e.client] = history.operations.size();
      history.operations.push_back(std::move(op));
      dropped.push_back(false);
      continue;
    }
    auto it = pending.find(e.client);
    if (it == pending.end())
      return Status::invalid_argument(
          fmt::format("line {}: client {} completes {} it never invoked",
                      e.line, e.client, e.f));
    Operation& op = history.operations[it->second];
    if (e.f != op.f)
      return Status::invalid_argument(
          fmt::format("line {}: client {} completes {} but invoked {}", e.line,
                      e.client, e.f, op.f));
    pending.erase(it);
    if (e.type == "fail") {
      dropped[static_cast<size_t>(op.id)] = true;
    } else if (e.type == "ok") {
      op.status = Operation::Status::kOk;
      op.complete = e.time;
      op.has_result = e.has_value;
      op.result = e.value;
    } else if (e.type == "info") {
      op.status = Operation::Status::kInfo;
      op.complete = kNever;
    } else {
      return Status::invalid_argument(
          fmt::format("line {}: unknown event type '{}'", e.line, e.type));
    }
  }
  // Failed operations certainly did not happen: drop them, renumber.
  History kept;
  for (Operation& op : history.operations) {
    if (dropped[static_cast<size_t>(op.id)]) continue;
    op.id = static_cast<int64_t>(kept.operations.size());
    kept.operations.push_back(std::move(op));
  }
  return kept;
}

std::string strip_colon(std::string_view word) {
  return std::string(word.starts_with(':') ? word.substr(1) : word);
}

std::vector<std::string_view> words_of(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    size_t start = i;
    while (i < text.size() &&
           !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

// Calls fn(line, number) for each line of text (numbered from 1), and
// stops at the first error fn returns.
template <typename Fn>
Status for_each_line(std::string_view text, Fn fn) {
  std::istringstream in{std::string(text)};
  std::string line;
  size_t number = 0;
  while (std::getline(in, line))
    if (Status s = fn(line, ++number); !s.ok()) return s;
  return Status();
}

// "INFO  jepsen.util - 2\t:ok\t:cas\t[3 0]": tabs or spaces between fields.
Result<std::vector<Event>> parse_jepsen(std::string_view text) {
  std::vector<Event> events;
  Status status = for_each_line(
      text, [&](const std::string& line, size_t number) -> Status {
        size_t at = line.find("jepsen.util - ");
        if (at == std::string::npos)
          return Status();  // a header or other logger
        std::vector<std::string_view> w =
            words_of(std::string_view(line).substr(at + 14));
        if (w.size() < 3) return Status();
        std::optional<int> client = parse_int(w[0]);
        if (!client)
          return Status();  // :nemesis and other non-client processes
        Event e;
        e.client = *client;
        e.type = strip_colon(w[1]);
        e.f = strip_colon(w[2]);
        e.time = static_cast<Time>(number);
        e.line = number;
        // The argument is the rest of the line: "3", "nil", "[3 0]".
        std::string argument;
        for (size_t i = 3; i < w.size(); ++i) {
          if (!argument.empty()) argument += ' ';
          argument += w[i];
        }
        if (e.f != "read" && e.f != "write" && e.f != "cas")
          return Status::invalid_argument(fmt::format(
              "line {}: unknown register operation '{}'", number, e.f));
        if (e.f == "write") {
          e.arg = argument;
        } else if (e.f == "cas") {
          if (argument.size() < 2 || argument.front() != '[' ||
              argument.back() != ']') {
            if (e.type == "info" || e.type == "fail") {
              // ":timed-out": the arguments are on the invocation.
            } else {
              return Status::invalid_argument(
                  fmt::format("line {}: cas argument '{}' is not [old new]",
                              number, argument));
            }
          } else {
            std::vector<std::string_view> pair = words_of(
                std::string_view(argument).substr(1, argument.size() - 2));
            if (pair.size() != 2)
              return Status::invalid_argument(
                  fmt::format("line {}: cas argument '{}' is not [old new]",
                              number, argument));
            e.arg = std::string(pair[0]);
            e.arg2 = std::string(pair[1]);
          }
        } else if (e.type == "ok") {  // read
          e.has_value = argument != "nil";
          e.value = e.has_value ? argument : "";
        }
        events.push_back(std::move(e));
        return Status();
      });
  if (!status.ok()) return status;
  return events;
}

// {:process 0, :type :ok, :f :get, :key "5", :value ""}: keyword keys,
// values that are keywords, integers, strings or nil.
Result<std::vector<Event>> parse_edn(std::string_view text) {
  std::vector<Event> events;
  Status status = for_each_line(
      text, [&](const std::string& line, size_t number) -> Status {
        std::string_view s = line;
        while (!s.empty() &&
               std::isspace(static_cast<unsigned char>(s.front())))
          s.remove_prefix(1);
        if (s.empty()) return Status();
        auto bad = [&](std::string_view why) {
          return Status::invalid_argument(
              fmt::format("line {}: {}: {}", number, why, line.substr(0, 120)));
        };
        if (s.front() != '{') return bad("not a {...} map");
        std::map<std::string, std::optional<std::string>> fields;
        size_t i = 1;
        auto skip = [&] {
          while (
              i < s.size() &&
              (std::isspace(static_cast<unsigned char>(s[i])) || s[i] == ','))
            ++i;
        };
        while (true) {
          skip();
          if (i >= s.size()) return bad("unterminated map");
          if (s[i] == '}') break;
          if (s[i] != ':') return bad("expected a :keyword");
          size_t start = ++i;
          while (i < s.size() &&
                 !std::isspace(static_cast<unsigned char>(s[i])) &&
                 s[i] != ',' && s[i] != '}')
            ++i;
          std::string name(s.substr(start, i - start));
          skip();
          if (i >= s.size()) return bad("a key without a value");
          if (s[i] == '"') {
            std::string value;
            ++i;
            while (i < s.size() && s[i] != '"') {
              if (s[i] == '\\' && i + 1 < s.size()) {
                char c = s[i + 1];
                value.push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c);
                i += 2;
              } else {
                value.push_back(s[i++]);
              }
            }
            if (i >= s.size()) return bad("unterminated string");
            ++i;
            fields[name] = value;
          } else {
            size_t vstart = i;
            while (i < s.size() &&
                   !std::isspace(static_cast<unsigned char>(s[i])) &&
                   s[i] != ',' && s[i] != '}')
              ++i;
            std::string value(s.substr(vstart, i - vstart));
            if (value == "nil")
              fields[name] = std::nullopt;
            else
              fields[name] = strip_colon(value);
          }
        }
        auto field = [&](const char* name) -> std::optional<std::string> {
          auto it = fields.find(name);
          return it == fields.end() ? std::nullopt : it->second;
        };
        std::optional<std::string> process = field("process");
        std::optional<std::string> type = field("type");
        std::optional<std::string> f = field("f");
        if (!process || !type || !f) return bad("needs :process, :type and :f");
        std::optional<int> client = parse_int(*process);
        if (!client) return Status();  // a nemesis
        Event e;
        e.client = *client;
        e.type = *type;
        e.f = *f;
        e.key = field("key").value_or("");
        e.time = static_cast<Time>(number);
        e.line = number;
        std::optional<std::string> value = field("value");
        if (e.f == "get") {
          // A missing key reads as "" (and nil as missing).
          e.has_value = true;
          e.value = value.value_or("");
        } else if (e.f == "put" || e.f == "append") {
          e.arg = value.value_or("");
        } else if (e.f != "delete") {
          return bad(fmt::format("unknown kv operation '{}'", e.f));
        }
        events.push_back(std::move(e));
        return Status();
      });
  if (!status.ok()) return status;
  return events;
}

// kvlab's JSONL: {"client":0,"type":"invoke","f":"put","key":"k",
// "value":"v","time":12345} ...; "value2" for cas; an ok read's "value" is
// null for nil.
Result<std::vector<Event>> parse_jsonl(std::string_view text) {
  std::vector<Event> events;
  Status status = for_each_line(
      text, [&](const std::string& line, size_t number) -> Status {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
          return Status();
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
          return Status::invalid_argument(
              fmt::format("line {}: not a JSON object", number));
        try {
          Event e;
          e.client = j.at("client").get<int>();
          e.type = j.at("type").get<std::string>();
          e.f = j.at("f").get<std::string>();
          e.key = j.value("key", "");
          // An info completion may have no time ("never"): it sorts last.
          const nlohmann::json& time = j.at("time");
          e.time = time.is_null() ? kNever : time.get<Time>();
          e.line = number;
          const nlohmann::json value = j.value("value", nlohmann::json());
          if (e.type == "invoke") {
            if (value.is_string()) e.arg = value.get<std::string>();
            e.arg2 = j.value("value2", "");
          } else if (e.type == "ok" && (e.f == "read" || e.f == "get")) {
            e.has_value = value.is_string();
            e.value = e.has_value ? value.get<std::string>() : "";
          }
          events.push_back(std::move(e));
        } catch (const nlohmann::json::exception& error) {
          return Status::invalid_argument(
              fmt::format("line {}: {}", number, error.what()));
        }
        return Status();
      });
  if (!status.ok()) return status;
  std::stable_sort(
      events.begin(), events.end(),
      [](const Event& a, const Event& b) { return a.time < b.time; });
  return events;
}

Format detect(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("jepsen.util") != std::string::npos) return Format::kJepsen;
    if (line.find(":process") != std::string::npos) return Format::kEdn;
    if (line.find("\"client\"") != std::string::npos) return Format::kJsonl;
  }
  return Format::kJsonl;
}

}  // namespace

std::string Operation::to_string() const {
  std::string call;
  std::string k = key.empty() ? "" : quote_value(key);
  auto args = [&](std::initializer_list<std::string> parts) {
    std::string out;
    for (const std::string& p : parts) {
      if (p.empty()) continue;
      if (!out.empty()) out += ", ";
      out += p;
    }
    return out;
  };
  if (f == "write" || f == "put" || f == "append")
    call = fmt::format("{}({})", f, args({k, quote_value(arg)}));
  else if (f == "cas")
    call =
        fmt::format("cas({})", args({k, quote_value(arg), quote_value(arg2)}));
  else
    call = fmt::format("{}({})", f, k);
  if (status == Status::kInfo) return call + " -> ?";
  if (f == "read" || f == "get")
    return call + " -> " + (has_result ? quote_value(result) : "nil");
  return call;
}

Result<History> parse_history(std::string_view text, Format format) {
  if (format == Format::kAuto) format = detect(text);
  Result<std::vector<Event>> events =
      format == Format::kJepsen ? parse_jepsen(text)
      : format == Format::kEdn  ? parse_edn(text)
                                : parse_jsonl(text);
  if (!events.ok()) return events.status();
  return pair_events(events.value());
}

Result<History> read_history(const std::filesystem::path& path, Format format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found("cannot read " + path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  Result<History> history = parse_history(buffer.str(), format);
  if (!history.ok())
    return Status::invalid_argument(path.string() + ": " +
                                    history.status().message());
  return history;
}

std::string to_jsonl(const History& history) {
  struct Line {
    Time time;
    int order;  // at equal times: info, then invoke, then ok
    std::string text;
  };
  // An info operation's completion line goes just before its client's
  // next invocation (a client has one operation outstanding), or last.
  std::map<int, std::vector<const Operation*>> by_client;
  for (const Operation& op : history.operations)
    by_client[op.client].push_back(&op);
  std::map<int64_t, Time> info_time;
  for (auto& [client, ops] : by_client) {
    std::stable_sort(ops.begin(), ops.end(),
                     [](const Operation* a, const Operation* b) {
                       return a->invoke < b->invoke;
                     });
    for (size_t i = 0; i < ops.size(); ++i)
      if (ops[i]->status == Operation::Status::kInfo)
        info_time[ops[i]->id] =
            i + 1 < ops.size() ? ops[i + 1]->invoke : kNever;
  }
  std::vector<Line> lines;
  for (const Operation& op : history.operations) {
    nlohmann::json invoke = {{"client", op.client}, {"type", "invoke"},
                             {"f", op.f},           {"key", op.key},
                             {"value", op.arg},     {"time", op.invoke}};
    if (op.f == "cas") invoke["value2"] = op.arg2;
    lines.push_back({op.invoke, 1, invoke.dump()});
    if (op.status == Operation::Status::kInfo) {
      nlohmann::json info = {{"client", op.client},
                             {"type", "info"},
                             {"f", op.f},
                             {"key", op.key}};
      Time t = info_time[op.id];
      info["time"] = t == kNever ? nlohmann::json(nullptr) : nlohmann::json(t);
      lines.push_back({t, 0, info.dump()});
      continue;
    }
    nlohmann::json done = {{"client", op.client},
                           {"type", "ok"},
                           {"f", op.f},
                           {"key", op.key},
                           {"time", op.complete}};
    if (op.f == "read" || op.f == "get")
      done["value"] = op.has_result ? nlohmann::json(op.result) : nullptr;
    lines.push_back({op.complete, 2, done.dump()});
  }
  std::stable_sort(
      lines.begin(), lines.end(), [](const Line& a, const Line& b) {
        return a.time != b.time ? a.time < b.time : a.order < b.order;
      });
  std::string out;
  for (const Line& l : lines) out += l.text + "\n";
  return out;
}

Time HistoryRecorder::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                              start_)
      .count();
}

int64_t HistoryRecorder::invoke(int client, std::string f, std::string key,
                                std::string arg, std::string arg2) {
  std::lock_guard lock(mu_);
  Operation op;
  op.id = static_cast<int64_t>(operations_.size());
  op.client = client;
  op.f = std::move(f);
  op.key = std::move(key);
  op.arg = std::move(arg);
  op.arg2 = std::move(arg2);
  op.status = Operation::Status::kInfo;
  op.invoke = now();
  operations_.push_back(std::move(op));
  failed_.push_back(false);
  completed_.push_back(false);
  return operations_.back().id;
}

void HistoryRecorder::ok(int64_t id, std::optional<std::string> result) {
  std::lock_guard lock(mu_);
  Operation& op = operations_.at(static_cast<size_t>(id));
  op.complete = now();
  op.status = Operation::Status::kOk;
  op.has_result = result.has_value();
  op.result = result.value_or("");
  completed_[static_cast<size_t>(id)] = true;
}

void HistoryRecorder::info(int64_t id) {
  std::lock_guard lock(mu_);
  completed_.at(static_cast<size_t>(id)) = true;  // stays info, never ends
}

void HistoryRecorder::fail(int64_t id) {
  std::lock_guard lock(mu_);
  failed_.at(static_cast<size_t>(id)) = true;
  completed_[static_cast<size_t>(id)] = true;
}

History HistoryRecorder::history() const {
  std::lock_guard lock(mu_);
  History history;
  for (size_t i = 0; i < operations_.size(); ++i) {
    if (failed_[i]) continue;
    Operation op = operations_[i];
    op.id = static_cast<int64_t>(history.operations.size());
    history.operations.push_back(std::move(op));
  }
  return history;
}

}  // namespace kv::linearizability
