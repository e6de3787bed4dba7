// Draws a checked history as one self-contained HTML page (timeline.h): a
// header that says what linearizable means and what the checker found,
// then per key a timeline, one lane per client, with the checker's dead end
// drawn on it. Pure HTML and CSS; the inline script only zooms and scrolls
// each failure into view, so the page reads the same without it. Every
// byte taken from the history goes through append_text, which keeps the
// page valid UTF-8 and free of any markup a value could smuggle in.
// write_timeline is the only I/O.
#include "timeline.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace kv::linearizability {
namespace {

// A bar's label lines are clipped at this many bytes of the operation's
// text (CSS clips them again to the bar); a tooltip at the larger limit.
// A kv history's appended values grow long: unclipped, a history of
// thousands of operations would weigh megabytes of repeated values.
constexpr size_t kLabelBytes = 48;
constexpr size_t kTooltipBytes = 400;
// Past the last event, where an unknown (info) completion is drawn.
constexpr int kTailSteps = 2;
// Lanes and bars, as the CSS below draws them.
constexpr int kNameColumnPx = 92;
constexpr int kRowPx = 40;
// Keys beyond this many: the linearizable ones start collapsed.
constexpr size_t kOpenKeys = 3;
// A failing key's order found is listed open up to this many operations.
constexpr size_t kOpenOrder = 12;

// The length of the UTF-8 character at s[i] if it is well formed and one a
// person can see; 0 otherwise, and append_text shows its bytes as \xHH.
// Characters that reorder or hide text (bidi overrides, zero-width marks)
// count as invisible, so that a value cannot disguise what it holds.
size_t visible_utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char lead = byte(i);
  size_t n = 0;
  uint32_t cp = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2;
    cp = lead & 0x1fu;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3;
    cp = lead & 0x0fu;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4;
    cp = lead & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3fu);
  }
  bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  bool invalid = overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff);
  bool hidden = cp < 0xa0 || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
                (cp >= 0x2028 && cp <= 0x202e) ||
                (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff;
  return invalid || hidden ? 0 : n;
}

// Appends text for an HTML text node or a double-quoted attribute: markup
// characters as entities, newline, return and tab as \n \r \t, any other
// control byte or byte that is not part of a visible UTF-8 character as
// \xHH.
void append_text(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else if (size_t n = visible_utf8_length(text, i); n > 0) {
          out.append(text.substr(i, n));
          i += n;
          continue;
        } else {
          out += fmt::format("\\x{:02x}", c);
        }
    }
    ++i;
  }
}

std::string html(std::string_view text) {
  std::string out;
  append_text(out, text);
  return out;
}

// At most max_bytes of text, cut back to a character boundary, escaped, with
// an ellipsis where it was cut.
std::string html_clipped(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return html(text);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80)
    --end;
  return html(text.substr(0, end)) + "&hellip;";
}

// As Operation::to_string quotes a value.
std::string quote_bytes(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// A bar's two lines, from Operation::to_string without the key (the
// section names it): the call, and for a read or an unknown outcome what
// came back ("" for a write, which returns nothing).
struct Label {
  std::string call;
  std::string result;
};

Label label_of(const Operation& op) {
  Operation bare = op;
  bare.key.clear();
  std::string full = bare.to_string();
  std::string result;
  if (op.status == Operation::Status::kInfo)
    result = "?";
  else if (op.f == "read" || op.f == "get")
    result = op.has_result ? quote_bytes(op.result) : "nil";
  std::string suffix = " -> " + result;
  if (!result.empty() && full.ends_with(suffix))
    return {full.substr(0, full.size() - suffix.size()), result};
  return {full, ""};
}

// Times are a log's line numbers or nanoseconds (history.h). Nanoseconds
// are shown as milliseconds, which is what a person compares; a history
// whose times all stay under a millisecond's worth is taken as counted.
struct TimeText {
  bool nanos = false;
  std::string operator()(Time t) const {
    if (t == kNever) return "never";
    if (!nanos) return fmt::format("{}", t);
    return fmt::format("{:.3f} ms", static_cast<double>(t) / 1e6);
  }
};

// Time runs left to right by rank, not by value: each distinct event time
// (an invocation or a completion) is one step of the axis, whatever the gap
// to the next. Only the order of events matters to linearizability
// (history.h), and a linear scale would squeeze a burst of quick operations
// to slivers beside one slow timeout, or thousands of operations to
// nothing; ranked, every bar is at least one step wide and what overlaps
// what is exactly as in the history. The real times are on the axis and in
// every tooltip. Positions are in half steps: an event sits mid-step, at
// 2 * rank + 1, so that an operation that starts and ends at one time still
// has a place. An unknown completion (kNever) is the right edge, kTailSteps
// past the last event.
class Axis {
 public:
  explicit Axis(std::vector<Time> times) : times_(std::move(times)) {
    std::sort(times_.begin(), times_.end());
    times_.erase(std::unique(times_.begin(), times_.end()), times_.end());
  }
  int at(Time t) const {
    if (t == kNever) return units();
    auto rank =
        std::lower_bound(times_.begin(), times_.end(), t) - times_.begin();
    return 2 * static_cast<int>(rank) + 1;
  }
  int units() const { return 2 * (steps() + kTailSteps); }
  int steps() const { return static_cast<int>(times_.size()); }
  Time time_of_step(int step) const {
    return times_[static_cast<size_t>(step)];
  }

 private:
  std::vector<Time> times_;
};

// What the checker's dead end says about one operation of a failing key.
enum class Role { kPlain, kPlaced, kStuck, kPending, kAfter };

class Roles {
 public:
  explicit Roles(const PartitionResult& p)
      : failing_(p.verdict == Verdict::kNotLinearizable),
        stuck_(p.stuck_operation) {
    if (!failing_) return;
    for (size_t i = 0; i < p.longest_prefix.size(); ++i)
      order_[p.longest_prefix[i]] = static_cast<int>(i) + 1;
    pending_.insert(p.unplaced.begin(), p.unplaced.end());
  }
  Role of(int64_t id) const {
    if (!failing_) return Role::kPlain;
    if (id == stuck_) return Role::kStuck;
    if (order_.count(id)) return Role::kPlaced;
    // unplaced: every call the search had passed when it got stuck.
    if (pending_.count(id)) return Role::kPending;
    return Role::kAfter;
  }
  int order_of(int64_t id) const {
    auto it = order_.find(id);
    return it == order_.end() ? 0 : it->second;
  }

 private:
  bool failing_;
  int64_t stuck_;
  std::unordered_map<int64_t, int> order_;
  std::unordered_set<int64_t> pending_;
};

const Operation* find_operation(const History& history, int64_t id) {
  if (id < 0 || static_cast<size_t>(id) >= history.operations.size())
    return nullptr;
  return &history.operations[static_cast<size_t>(id)];
}

std::string ordinal(int n) {
  if (n % 100 >= 11 && n % 100 <= 13) return fmt::format("{}th", n);
  switch (n % 10) {
    case 1:
      return fmt::format("{}st", n);
    case 2:
      return fmt::format("{}nd", n);
    case 3:
      return fmt::format("{}rd", n);
  }
  return fmt::format("{}th", n);
}

std::string plural(size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string key_heading(const PartitionResult& p) {
  return p.key.empty() ? "the register" : "key " + html(quote_bytes(p.key));
}

// The tooltip: every detail of one operation, lines joined by &#10;.
std::string tooltip(const Operation& op, Role role, int order,
                    const TimeText& time_text) {
  std::string out = fmt::format("#{} client {}: ", op.id, op.client);
  out += html_clipped(op.to_string(), kTooltipBytes);
  out += "&#10;invoked at " + time_text(op.invoke);
  if (op.status == Operation::Status::kInfo)
    out +=
        "; never completed&#10;outcome unknown (info): it may take effect at "
        "any time after its invocation, or never";
  else
    out += ", completed at " + time_text(op.complete) + "&#10;status ok";
  switch (role) {
    case Role::kPlain:
      break;
    case Role::kPlaced:
      out +=
          fmt::format("&#10;{} in the order the checker found", ordinal(order));
      break;
    case Role::kStuck:
      out +=
          "&#10;CANNOT BE PLACED: it must take effect before it completes "
          "(the red line), but after the longest order found its result "
          "is impossible";
      break;
    case Role::kPending:
      out +=
          "&#10;pending when the search got stuck: with the value then, "
          "its result is impossible too";
      break;
    case Role::kAfter:
      out +=
          "&#10;invoked after the point of failure: not needed to see "
          "it";
      break;
  }
  return out;
}

struct Bar {
  const Operation* op = nullptr;
  int left = 0;   // half steps (see Axis)
  int width = 0;  // half steps
  int row = 0;    // within its client's lane
};

struct Lane {
  std::vector<Bar> bars;
  std::vector<int> row_ends;  // where each row's last bar ends
};

// A lane gets a second row only where two of its client's bars would
// overlap: after an info operation (drawn to the right edge) a recorder's
// client may go on with new operations.
void place(Lane& lane, Bar bar) {
  int end = bar.left + std::max(bar.width, 1);
  size_t row = 0;
  while (row < lane.row_ends.size() && lane.row_ends[row] >= bar.left) ++row;
  if (row == lane.row_ends.size()) lane.row_ends.push_back(end);
  lane.row_ends[row] = end;
  bar.row = static_cast<int>(row);
  lane.bars.push_back(bar);
}

void append_bar(std::string& out, const Bar& bar, const Roles& roles,
                const TimeText& time_text) {
  const Operation& op = *bar.op;
  Role role = roles.of(op.id);
  int order = roles.order_of(op.id);
  static constexpr std::string_view kRoleClass[] = {"", " pre", " stuck",
                                                    " pend", " after"};
  out += fmt::format(
      "<div class=\"op{}{}\" style=\"--a:{};--b:{};--r:{}\" title=\"{}\">",
      op.status == Operation::Status::kInfo ? " info" : "",
      kRoleClass[static_cast<int>(role)], bar.left, bar.width, bar.row,
      tooltip(op, role, order, time_text));
  if (role == Role::kPlaced) out += fmt::format("<i>{}</i>", order);
  Label label = label_of(op);
  out += "<span>" + html_clipped(label.call, kLabelBytes);
  if (op.status == Operation::Status::kInfo)
    out += "<br>&rarr; ? outcome unknown";
  else if (!label.result.empty())
    out += "<br>&rarr; " + html_clipped(label.result, kLabelBytes);
  out += "</span></div>";
}

// How wide the timeline is at zoom 100%, in pixels: wide enough that a
// typical bar (the median width in steps) holds a typical label (the
// median of its longer line), within bounds that keep tiny and huge
// histories sensible. The page is at least as wide as the window.
int natural_width_px(const std::map<int, Lane>& lanes, const Axis& axis) {
  std::vector<double> need_px, width_steps;
  for (const auto& [client, lane] : lanes)
    for (const Bar& bar : lane.bars) {
      Label label = label_of(*bar.op);
      size_t chars = std::min<size_t>(
          std::max(label.call.size(), label.result.size() + 2), 24);
      need_px.push_back(7.0 * static_cast<double>(chars) + 10);
      if (bar.op->status == Operation::Status::kOk)
        width_steps.push_back(std::max(bar.width / 2.0, 1.0));
    }
  auto median = [](std::vector<double>& v, double fallback) {
    if (v.empty()) return fallback;
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2),
                     v.end());
    return v[v.size() / 2];
  };
  double step_px =
      std::clamp(median(need_px, 60) / median(width_steps, 1), 8.0, 48.0);
  return static_cast<int>(std::ceil(axis.units() / 2.0 * step_px));
}

void append_order(std::string& out, const History& history,
                  const PartitionResult& p) {
  size_t n = p.longest_prefix.size();
  out += fmt::format(
      "<details class=\"order\"{}><summary>The order the checker found: {} "
      "that fit, then the one that does not</summary><ol>",
      n <= kOpenOrder ? " open" : "", plural(n, "operation", "operations"));
  for (int64_t id : p.longest_prefix)
    if (const Operation* op = find_operation(history, id))
      out +=
          fmt::format("<li><code>{}</code> by client {}</li>",
                      html_clipped(op->to_string(), kTooltipBytes), op->client);
  if (const Operation* stuck = find_operation(history, p.stuck_operation))
    out += fmt::format(
        "<li class=\"r\"><code>{}</code> by client {}: cannot be placed "
        "here, the value after the prefix being <code>{}</code></li>",
        html_clipped(stuck->to_string(), kTooltipBytes), stuck->client,
        html_clipped(p.state_after_prefix, kTooltipBytes));
  out += "</ol></details>";
}

// For a key that is not linearizable: what the picture below shows, in
// words a newcomer can follow.
void append_why(std::string& out, const History& history,
                const PartitionResult& p) {
  const Operation* stuck = find_operation(history, p.stuck_operation);
  if (stuck == nullptr) return;
  size_t others = 0;
  for (int64_t id : p.unplaced) others += id != p.stuck_operation;
  size_t n = p.longest_prefix.size();
  std::string state = html_clipped(p.state_after_prefix, kTooltipBytes);
  out += fmt::format(
      "<div class=\"why\"><p class=\"big\"><b class=\"r\">&#x2717; "
      "<code>{}</code> by client {} cannot be placed.</b></p>"
      "<p class=\"facts\">prefix: {} &middot; value after the prefix: "
      "<code>{}</code> &middot; other operations pending: {}</p><p>",
      html_clipped(stuck->to_string(), kTooltipBytes), stuck->client,
      plural(n, "operation", "operations"), state, others);
  if (n == 0)
    out += fmt::format(
        "Not one operation of this key can go first: the value is still its "
        "initial <code>{}</code>. ",
        state);
  else
    out += fmt::format(
        "The checker can put {} (green, numbered {}) in an order that "
        "explains every result {} saw, but no more: after {} the value is "
        "<code>{}</code>. ",
        plural(n, "operation", "operations"),
        n == 1 ? std::string("1") : fmt::format("1&ndash;{}", n),
        n == 1 ? "it" : "they", n == 1 ? "it" : "them", state);
  out +=
      "The red operation has to take effect before it completes (the red "
      "line), yet with that value its result is impossible";
  if (others > 0)
    out += fmt::format(
        ", and so are the results of the {} still pending (orange outline): "
        "none of them can go first to change the value",
        plural(others, "other operation", "other operations"));
  out +=
      ". No order gets further, so none explains this key's history: it is "
      "not linearizable.</p></div>";
  append_order(out, history, p);
}

void append_partition(std::string& out, const History& history,
                      const PartitionResult& p, size_t index, bool open,
                      const TimeText& time_text) {
  std::vector<const Operation*> ops;
  std::vector<Time> times;
  std::set<int> clients;
  for (int64_t id : p.operations)
    if (const Operation* op = find_operation(history, id)) {
      ops.push_back(op);
      clients.insert(op->client);
      times.push_back(op->invoke);
      if (op->complete != kNever) times.push_back(op->complete);
    }
  Axis axis(std::move(times));
  Roles roles(p);
  bool failing = p.verdict == Verdict::kNotLinearizable;

  std::map<int, Lane> by_client;
  for (const Operation* op : ops) {
    Bar bar;
    bar.op = op;
    bar.left = axis.at(op->invoke);
    bar.width = axis.at(op->complete) - bar.left;
    place(by_client[op->client], bar);
  }

  std::string_view css = failing                          ? "bad"
                         : p.verdict == Verdict::kUnknown ? "unk"
                                                          : "ok";
  out += fmt::format(
      "<details class=\"key {}\" id=\"k{}\"{}><summary>{} &mdash; {} "
      "&middot; {} &middot; {}</summary>",
      css, index, open ? " open" : "", key_heading(p), verdict_name(p.verdict),
      plural(ops.size(), "operation", "operations"),
      plural(clients.size(), "client", "clients"));
  if (failing)
    append_why(out, history, p);
  else if (p.verdict == Verdict::kUnknown)
    out += fmt::format(
        "<div class=\"why\"><p>The search gave up after {} steps: no "
        "verdict for this key. The bars show its history only.</p></div>",
        p.steps);
  else
    out +=
        "<div class=\"why\"><p>An order exists that explains every "
        "result.</p></div>";

  int width_px = natural_width_px(by_client, axis) + kNameColumnPx;
  out += fmt::format(
      "<div class=\"tl\"><div class=\"in\" style=\"--u:calc(100% / "
      "{});min-width:{}px\" data-w=\"{}\">",
      axis.units(), width_px, width_px);

  // The stuck operation's interval, where it had to take effect, and the
  // red line at its completion: the point where linearization fails.
  const Operation* stuck =
      failing ? find_operation(history, p.stuck_operation) : nullptr;
  if (stuck != nullptr) {
    int from = axis.at(stuck->invoke);
    int to = axis.at(stuck->complete);
    out += fmt::format(
        "<div class=\"ov\" style=\"z-index:0\"><div class=\"band\" "
        "style=\"--a:{};--b:{}\"></div></div><div class=\"ov\" "
        "style=\"z-index:2\"><div class=\"mk\" style=\"--a:{}\"></div></div>",
        from, to - from, to);
  }

  out += "<div class=\"nm ax\">time &rarr;</div><div class=\"tr ax\">";
  if (stuck != nullptr) {
    // In the axis row, which stays in view when the lanes scroll.
    int to = axis.at(stuck->complete);
    out += fmt::format(
        "<em class=\"mkl{}\" style=\"--a:{}\">&#x2717; fails here</em>",
        to > axis.units() * 4 / 5 ? " l" : "", to);
  }
  if (axis.steps() > 0) {
    // About one tick per 100 pixels at zoom 100%.
    double step_px = (width_px - kNameColumnPx) * 2.0 / axis.units();
    int every = std::max(1, static_cast<int>(std::ceil(100 / step_px)));
    for (int step = 0; step < axis.steps(); step += every)
      out += fmt::format("<b style=\"--a:{}\">{}</b>", 2 * step + 1,
                         time_text(axis.time_of_step(step)));
  }
  out += "</div>";

  for (const auto& [client, lane] : by_client) {
    out += fmt::format(
        "<div class=\"nm\">client {}</div><div class=\"tr\" "
        "style=\"height:{}px\">",
        client, static_cast<int>(lane.row_ends.size()) * kRowPx);
    for (const Bar& bar : lane.bars) {
      append_bar(out, bar, roles, time_text);
      if (bar.op == stuck) {
        // The flag goes right of the bar, or left of it near the edge.
        bool near_edge = bar.left + bar.width > axis.units() * 4 / 5;
        out += fmt::format(
            "<span class=\"flag{}\" style=\"--a:{};--r:{}\">&#x2717; cannot "
            "be placed</span>",
            near_edge ? " l" : "", near_edge ? bar.left : bar.left + bar.width,
            bar.row);
      }
    }
    out += "</div>";
  }
  out += "</div></div></details>";
}

constexpr std::string_view kStyle = R"(<style>
*{box-sizing:border-box}
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;background:#f4f5f7}
header{background:#fff;border-bottom:1px solid #d8dce2;padding:14px 20px}
h1{font-size:18px;margin:0 0 8px;word-break:break-all}
h1 small{font-weight:400;color:#6b7480;font-size:13px;margin-left:8px}
.v{display:inline-block;padding:2px 12px;border-radius:12px;color:#fff;font-weight:600;font-size:14px}
.v.ok{background:#2e7d32}.v.bad{background:#c62828}.v.unk{background:#b26a00}
.sum{font-size:14px;margin:8px 0;word-break:break-word}
.cnt,.def{color:#4a5563;margin:4px 0}
code,.op{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
.lg{display:flex;flex-wrap:wrap;gap:8px 20px;margin-top:10px;align-items:center;color:#4a5563}
.lg>span{display:inline-flex;align-items:center;gap:6px}
.lg .op{position:relative;display:inline-block;left:0;top:0;width:64px;height:22px;line-height:20px}
.lg .lm{display:inline-block;width:2px;height:22px;background:#d32f2f}
.lg .lb{display:inline-block;width:40px;height:22px;background:#d32f2f14;border:1px solid #f3c4c4}
.zm button{font:inherit;padding:0 8px;margin-left:2px}
nav{margin-top:8px}
main{padding:6px 20px 40px}
details.key{background:#fff;border:1px solid #d8dce2;border-radius:6px;margin:12px 0}
details.key>summary{padding:8px 12px;cursor:pointer;font-weight:600}
details.bad>summary{background:#fdecea;color:#8e1b1b}
details.unk>summary{background:#fff4e0;color:#7a4a00}
.why{padding:0 14px;max-width:1100px}
.why .big{font-size:15px;margin:10px 0 4px}
.facts{color:#4a5563;margin:2px 0}
.r{color:#c62828}
.order{margin:0 14px;color:#4a5563}
.order li{word-break:break-all}
.tl{overflow:auto;max-height:75vh;margin:10px 14px 14px;border:1px solid #e3e6ea}
.in{position:relative;display:grid;grid-template-columns:92px 1fr}
.nm{position:sticky;left:0;z-index:4;background:#f8f9fa;border-right:1px solid #d8dce2;border-bottom:1px solid #eceef1;padding:0 8px;display:flex;align-items:center;font-size:12px;color:#4a5563;white-space:nowrap}
.tr{position:relative;border-bottom:1px solid #eceef1;height:40px}
.ax{height:26px;font-size:11px;color:#6b7480;position:sticky;top:0;z-index:3;background:#fff;border-bottom:1px solid #d8dce2}
.nm.ax{z-index:5;background:#f8f9fa}
.tr.ax b{position:absolute;top:5px;left:calc(var(--a)*var(--u));border-left:1px solid #aab;padding-left:3px;font-weight:400;white-space:nowrap}
.op{position:absolute;z-index:1;left:calc(var(--a)*var(--u));width:calc(var(--b)*var(--u));min-width:4px;top:calc(var(--r)*40px + 8px);height:28px;--c:#dce8f7;--e:#6a8fc4;background:var(--c);border:1px solid var(--e);border-radius:4px;font-size:11px;line-height:13px;color:#13263d}
.op>span{display:block;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;padding:0 3px}
.op>i+span{padding-left:13px}
.op>i{position:absolute;left:-5px;top:-9px;min-width:17px;height:17px;border-radius:9px;background:#2e7d32;color:#fff;font:600 10px/17px system-ui,sans-serif;text-align:center;padding:0 3px;font-style:normal;z-index:1}
.pre{--c:#d5eed9;--e:#3b8d4c}
.stuck{--c:#ffd4d0;--e:#d32f2f;border-width:2px;font-weight:700;color:#7f0000}
.pend{--c:#fff1db;--e:#e68a00;border:2px dashed var(--e)}
.after{opacity:.45;--c:#eceef1;--e:#b7bdc6}
.info{background:linear-gradient(90deg,var(--c) 90px,#fff0);border-style:dashed;border-right:0;border-radius:4px 0 0 4px}
.flag{position:absolute;z-index:2;left:calc(var(--a)*var(--u) + 6px);top:calc(var(--r)*40px + 14px);color:#c62828;font-weight:700;font-size:12px;background:#fffe;padding:0 3px;white-space:nowrap}
.flag.l{transform:translateX(calc(-100% - 12px))}
.ov{position:absolute;left:92px;right:0;top:0;bottom:0;pointer-events:none}
.band{position:absolute;top:0;bottom:0;left:calc(var(--a)*var(--u));width:calc(var(--b)*var(--u));background:#d32f2f14}
.mk{position:absolute;top:0;bottom:0;left:calc(var(--a)*var(--u) - 1px);border-left:2px solid #d32f2f}
.mkl{position:absolute;z-index:1;top:4px;left:calc(var(--a)*var(--u) - 1px);white-space:nowrap;color:#fff;background:#d32f2f;border-radius:3px;padding:0 5px;font:700 11px/16px system-ui,sans-serif}
.mkl.l{transform:translateX(-100%)}
</style>)";

// Zoom changes each timeline's minimum width (bars are placed in percent);
// on load and after each zoom, every failing timeline is scrolled so that
// its red line and its stuck operation are in view (a Jepsen history may
// have hundreds of lanes: a new process after each unknown outcome).
constexpr std::string_view kScript = R"(<script>
(function(){var f=1,l=document.getElementById('zl');
function show(){document.querySelectorAll('.tl').forEach(function(t){var m=t.querySelector('.mk'),s=t.querySelector('.tr .stuck');if(!m)return;var r=m.getBoundingClientRect(),b=t.getBoundingClientRect();t.scrollLeft+=r.left-b.left-t.clientWidth*0.6;if(s){r=s.getBoundingClientRect();if(r.top<b.top+30||r.bottom>b.top+t.clientHeight)t.scrollTop+=r.top-b.top-t.clientHeight/3;}});}
function set(k){f=k;document.querySelectorAll('.in').forEach(function(e){e.style.minWidth=k?(e.dataset.w*k)+'px':'0';});l.textContent=k?Math.round(k*100)+'%':'fit';show();}
document.querySelectorAll('.zm button').forEach(function(b){b.onclick=function(){var z=+b.dataset.z;set(z?Math.min(8,Math.max(0.125,(f||1)*z)):0);};});
show();})();
</script>)";

// The legend: what every page shows, then what only a failing key does.
constexpr std::string_view kLegend = R"(<div class="lg">
<span><span class="op"><span>write(1)</span></span>an operation: from its invocation (left) to its completion (right)</span>
<span><span class="op info"><span>write(2)</span></span>outcome unknown (info): it may take effect any time after it starts, or never</span>
)";
constexpr std::string_view kFailureLegend =
    R"(<span><span class="op pre"><i>1</i><span>read()</span></span>placed: the order the checker found, numbered</span>
<span><span class="op stuck"><span>read()</span></span>cannot be placed</span>
<span><span class="op pend"><span>read()</span></span>pending then: its result impossible too</span>
<span><span class="op after"><span>write(3)</span></span>after the failure: not needed</span>
<span><span class="lb"></span><span class="lm"></span>the red operation's interval, and the red line at its completion: where linearization fails</span>
)";
constexpr std::string_view kLegendEnd = R"(</div>
<p class="def">Time runs left to right in the order of events, each invocation and completion one step, not to scale; real times are on the axis and in each bar's tooltip (hover). Times are a log's line numbers, or milliseconds.
<span class="zm">Zoom <button data-z="0.5">&minus;</button><button data-z="2">+</button><button data-z="0">fit</button> <span id="zl">100%</span></span></p>)";

}  // namespace

std::string timeline_html(const History& history, const CheckResult& result,
                          std::string_view title) {
  TimeText time_text;
  std::set<int> clients;
  for (const Operation& op : history.operations) {
    clients.insert(op.client);
    if (op.invoke >= 1'000'000 ||
        (op.complete != kNever && op.complete >= 1'000'000))
      time_text.nanos = true;
  }
  std::vector<size_t> failing, unknown, fine;
  for (size_t i = 0; i < result.partitions.size(); ++i) {
    Verdict v = result.partitions[i].verdict;
    (v == Verdict::kNotLinearizable ? failing
     : v == Verdict::kUnknown       ? unknown
                                    : fine)
        .push_back(i);
  }
  bool one_register =
      result.partitions.size() == 1 && result.partitions[0].key.empty();

  std::string out;
  out.reserve(4096 + 400 * history.operations.size());
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><title>";
  append_text(out, title);
  out += " &mdash; linearizability timeline</title>";
  out += kStyle;
  out += "</head><body><header><h1>";
  append_text(out, title);
  out += "<small>linearizability timeline</small></h1>";
  std::string_view css = result.verdict == Verdict::kLinearizable      ? "ok"
                         : result.verdict == Verdict::kNotLinearizable ? "bad"
                                                                       : "unk";
  out += fmt::format("<span class=\"v {}\">{}</span>", css,
                     verdict_name(result.verdict));
  out += "<p class=\"sum\">";
  if (!result.summary.empty())
    append_text(out, result.summary);
  else if (history.operations.empty())
    out += "The history has no operations.";
  else
    out +=
        "Every result is explained by one order of the operations that "
        "respects real time.";
  out += "</p>";
  out += fmt::format(
      "<p class=\"cnt\">{} &middot; {} &middot; {} &middot; {}{} &middot; "
      "checked in {:.2f} ms ({} search steps)</p>",
      plural(history.operations.size(), "operation", "operations"),
      one_register ? std::string("1 register")
                   : plural(result.partitions.size(), "key", "keys"),
      plural(clients.size(), "client", "clients"),
      plural(failing.size(), one_register ? "failing register" : "failing key",
             one_register ? "failing registers" : "failing keys"),
      unknown.empty()
          ? std::string()
          : fmt::format(" &middot; {} without a verdict", unknown.size()),
      result.seconds * 1000, result.steps);
  out +=
      "<p class=\"def\"><b>Linearizable</b> means: each operation can be "
      "given one instant between its invocation and its completion (inside "
      "its bar) so that, done one at a time in the order of those instants, "
      "every operation returns what its client saw.</p>";
  out += kLegend;
  if (!failing.empty()) out += kFailureLegend;
  out += kLegendEnd;
  if (result.partitions.size() > 1 && !failing.empty()) {
    out += "<nav>Failing: ";
    for (size_t i : failing)
      out += fmt::format("<a href=\"#k{}\">{}</a> ", i,
                         key_heading(result.partitions[i]));
    out += "</nav>";
  }
  out += "</header><main>";
  bool collapse = result.partitions.size() > kOpenKeys;
  for (size_t i : failing)
    append_partition(out, history, result.partitions[i], i, true, time_text);
  for (size_t i : unknown)
    append_partition(out, history, result.partitions[i], i, true, time_text);
  for (size_t i : fine)
    append_partition(out, history, result.partitions[i], i, !collapse,
                     time_text);
  out += "</main>";
  out += kScript;
  out += "</body></html>\n";
  return out;
}

Status write_timeline(const std::filesystem::path& path, const History& history,
                      const CheckResult& result, std::string_view title) {
  std::string page = timeline_html(history, result, title);
  if (path.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    if (error)
      return Status::io_error(
          fmt::format("cannot write {}: creating {}: {}", path.string(),
                      path.parent_path().string(), error.message()));
  }
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    if (errno != 0)
      return Status::from_errno("cannot write " + path.string(), errno);
    return Status::io_error("cannot write " + path.string());
  }
  out.write(page.data(), static_cast<std::streamsize>(page.size()));
  out.close();
  if (!out)
    return Status::io_error(fmt::format("writing {} failed", path.string()));
  return Status();
}

}  // namespace kv::linearizability
