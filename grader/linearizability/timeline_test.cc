// The HTML timeline on small histories built by hand: checked, drawn, and
// the page read back as text. It must say what the checker found, mark the
// dead end where the checker got stuck, and stay one safe, self-contained
// page whatever bytes the history holds. With KVLAB_TIMELINE_OUT set, the
// examples are also written there, to be looked at in a browser.
#include "timeline.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "history_builder.h"

namespace kv::linearizability {
namespace {

using Builder = HistoryBuilder;

// What append_text makes of printable ASCII.
std::string escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else if (c == '\'')
      out += "&#39;";
    else
      out += c;
  }
  return out;
}

size_t count(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

// The opening tag of the bar of operation id, or "" if there is none.
std::string bar_of(const std::string& page, int64_t id) {
  size_t title = page.find(fmt::format("title=\"#{} client ", id));
  if (title == std::string::npos) return "";
  size_t start = page.rfind("<div class=\"op", title);
  size_t end = page.find("</div>", title);
  return page.substr(start, end - start);
}

// Renders, and with KVLAB_TIMELINE_OUT set writes the page there too.
std::string render(const History& history, const CheckResult& result,
                   std::string_view name) {
  if (const char* dir = std::getenv("KVLAB_TIMELINE_OUT")) {
    std::string file(name);
    for (char& c : file)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
    std::filesystem::path path =
        std::filesystem::path(dir) / fmt::format("timeline-{}.html", file);
    Status s = write_timeline(path, history, result, name);
    EXPECT_TRUE(s.ok()) << s.to_string();
  }
  return timeline_html(history, result, name);
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

// Two writes in sequence, then a read of the first: the second was lost.
Builder lost_write() {
  Builder b;
  b.op(0, "write", 0, 1, "1").op(0, "write", 2, 3, "2").read(1, 4, 5, "1");
  return b;
}

TEST(TimelineTest, HeaderShowsVerdictSummaryAndCounts) {
  Builder b = lost_write();
  CheckResult r = check(b.history(), *register_model());
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  std::string page = render(b.history(), r, "lost-write");
  EXPECT_NE(page.find("not linearizable"), std::string::npos);
  ASSERT_FALSE(r.summary.empty());
  EXPECT_NE(page.find(escaped(r.summary)), std::string::npos) << r.summary;
  EXPECT_NE(page.find("3 operations"), std::string::npos);
  EXPECT_NE(page.find("1 register"), std::string::npos);
  EXPECT_NE(page.find("2 clients"), std::string::npos);
  EXPECT_NE(page.find("1 failing register"), std::string::npos);
  EXPECT_NE(page.find("<title>lost-write"), std::string::npos);
  EXPECT_NE(page.find("<b>Linearizable</b> means"), std::string::npos);
}

TEST(TimelineTest, EveryClientHasALane) {
  Builder b;
  b.op(0, "write", 0, 10, "1").read(7, 2, 4, "1").read(3, 5, 12, "1");
  CheckResult r = check(b.history(), *register_model());
  std::string page = render(b.history(), r, "lanes");
  for (int client : {0, 3, 7})
    EXPECT_EQ(count(page, fmt::format(">client {}<", client)), 1u) << client;
  EXPECT_EQ(count(page, "class=\"nm\""), 3u);
  // Lanes in client order.
  EXPECT_LT(page.find(">client 0<"), page.find(">client 3<"));
  EXPECT_LT(page.find(">client 3<"), page.find(">client 7<"));
}

TEST(TimelineTest, StuckOperationIsMarked) {
  Builder b = lost_write();
  CheckResult r = check(b.history(), *register_model());
  std::string page = render(b.history(), r, "stuck");
  // The read (operation 2) is the one the checker cannot place.
  std::string read = bar_of(page, 2);
  EXPECT_NE(read.find(" stuck"), std::string::npos) << read;
  EXPECT_NE(read.find("CANNOT BE PLACED"), std::string::npos) << read;
  EXPECT_EQ(count(page, "<div class=\"op stuck"), 1u);
  EXPECT_NE(page.find("cannot be placed</span>"), std::string::npos);
  EXPECT_NE(page.find("value after the prefix: <code>&quot;2&quot;</code>"),
            std::string::npos);
  // The red line, at the read's completion: time 5 is the last of six
  // distinct times, rank 5, half step 2 * 5 + 1.
  EXPECT_NE(page.find("<div class=\"mk\" style=\"--a:11\">"),
            std::string::npos);
  EXPECT_NE(page.find("fails here"), std::string::npos);
}

TEST(TimelineTest, PrefixIsNumberedInLinearizationOrder) {
  // Write 2 (client 1) completes before the read of 1 starts, so write 1
  // must come after it: the order found is w2, w1, read 1, not the order
  // of invocation. The last read of 2 cannot be placed.
  Builder b;
  b.op(0, "write", 0, 10, "1")
      .op(1, "write", 1, 3, "2")
      .read(2, 4, 5, "1")
      .read(2, 11, 12, "2");
  CheckResult r = check(b.history(), *register_model());
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  ASSERT_EQ(r.partitions.at(0).longest_prefix, (std::vector<int64_t>{1, 0, 2}));
  std::string page = render(b.history(), r, "order");
  EXPECT_NE(bar_of(page, 1).find("<i>1</i>"), std::string::npos);
  EXPECT_NE(bar_of(page, 0).find("<i>2</i>"), std::string::npos);
  EXPECT_NE(bar_of(page, 2).find("<i>3</i>"), std::string::npos);
  EXPECT_EQ(bar_of(page, 3).find("<i>"), std::string::npos);
  for (int64_t id : {0, 1, 2})
    EXPECT_NE(bar_of(page, id).find(" pre\""), std::string::npos) << id;
  // The list of the order found, in the same order.
  size_t w2 = page.find("<li><code>write(&quot;2&quot;)</code> by client 1");
  size_t w1 = page.find("<li><code>write(&quot;1&quot;)</code> by client 0");
  size_t r1 = page.find("<li><code>read() -&gt; &quot;1&quot;</code>");
  ASSERT_NE(w2, std::string::npos);
  EXPECT_LT(w2, w1);
  EXPECT_LT(w1, r1);
}

TEST(TimelineTest, PendingAndLaterOperationsAreTold) {
  // When read 2 (client 1) gets stuck, the read of 3 by client 2 is
  // pending, as impossible; the write by client 3 comes after the failure.
  Builder b;
  b.op(0, "write", 0, 1, "1")
      .read(1, 2, 4, "2")
      .read(2, 3, 6, "3")
      .op(3, "write", 7, 8, "2");
  CheckResult r = check(b.history(), *register_model());
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  std::string page = render(b.history(), r, "pending");
  EXPECT_NE(bar_of(page, 1).find(" stuck\""), std::string::npos);
  EXPECT_NE(bar_of(page, 2).find(" pend\""), std::string::npos);
  EXPECT_NE(bar_of(page, 3).find(" after\""), std::string::npos);
  EXPECT_NE(page.find("1 other operation still pending"), std::string::npos);
}

TEST(TimelineTest, InfoOperationRunsToTheRightEdgeOutcomeUnknown) {
  Builder b;
  b.op(0, "write", 0, 1, "1").info().read(1, 5, 6, "1");
  CheckResult r = check(b.history(), *register_model());
  std::string page = render(b.history(), r, "info");
  std::string bar = bar_of(page, 0);
  EXPECT_NE(bar.find("class=\"op info"), std::string::npos) << bar;
  EXPECT_NE(bar.find("outcome unknown"), std::string::npos) << bar;
  // Three distinct times (0, 5, 6) and two tail steps: 10 half steps; the
  // info write starts at 1 and is 9 wide, to the edge.
  EXPECT_NE(page.find("--u:calc(100% / 10)"), std::string::npos);
  EXPECT_NE(bar.find("--a:1;--b:9;"), std::string::npos) << bar;
}

TEST(TimelineTest, TimeIsOrdinalSoUnevenGapsStayReadable) {
  // A quick operation beside one that takes a billion times as long, and a
  // gap of seconds: each bar is as wide as the events it spans.
  Builder b;
  b.op(0, "write", 0, 1, "1")
      .read(1, 1'000'000'000, 1'000'000'001, "1")
      .op(0, "write", 2'000'000'000, 9'000'000'000, "2");
  CheckResult r = check(b.history(), *register_model());
  ASSERT_EQ(r.verdict, Verdict::kLinearizable);
  std::string page = render(b.history(), r, "ordinal");
  EXPECT_NE(bar_of(page, 0).find("--a:1;--b:2;"), std::string::npos);
  EXPECT_NE(bar_of(page, 1).find("--a:5;--b:2;"), std::string::npos);
  EXPECT_NE(bar_of(page, 2).find("--a:9;--b:2;"), std::string::npos);
  // Nanoseconds are shown as milliseconds.
  EXPECT_NE(bar_of(page, 2).find("completed at 9000.000 ms"),
            std::string::npos);
}

TEST(TimelineTest, LinearizableHistoryHasNoDeadEnd) {
  Builder b;
  b.op(0, "write", 0, 10, "1").read(1, 2, 3, std::nullopt);
  CheckResult r = check(b.history(), *register_model());
  ASSERT_EQ(r.verdict, Verdict::kLinearizable);
  std::string page = render(b.history(), r, "linearizable");
  EXPECT_NE(page.find("<span class=\"v ok\">linearizable</span>"),
            std::string::npos);
  for (std::string_view role : {"stuck", "pre", "pend", "after"})
    EXPECT_EQ(page.find(fmt::format("<div class=\"op {}", role)),
              std::string::npos)
        << role;
  EXPECT_EQ(page.find("class=\"mk\""), std::string::npos);
  EXPECT_NE(page.find("0 failing"), std::string::npos);
}

TEST(TimelineTest, FailingKeysComeFirstAndTheRestCollapse) {
  Builder b;
  for (std::string k : {"a", "b", "c", "d"}) {
    b.op(0, "put", 0, 1, "x").key(k);
    b.read(1, 2, 3, k == "c" ? "y" : "x", "get").key(k);
  }
  CheckResult r = check(b.history(), *kv_model());
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  std::string page = render(b.history(), r, "keys");
  size_t c = page.find("<details class=\"key bad\" id=\"k2\" open>");
  size_t a = page.find("<details class=\"key ok\" id=\"k0\">");
  ASSERT_NE(c, std::string::npos);
  ASSERT_NE(a, std::string::npos);  // collapsed: four keys
  EXPECT_LT(c, a);
  EXPECT_NE(page.find("4 keys"), std::string::npos);
  EXPECT_NE(page.find("1 failing key"), std::string::npos);
  EXPECT_NE(page.find("<a href=\"#k2\">key &quot;c&quot;</a>"),
            std::string::npos);
}

TEST(TimelineTest, HostileBytesAreEscaped) {
  const std::string script = "<script>alert(1)</script>";
  const std::string nul_and_ff = std::string("a\0b\xff", 4);
  const std::string bidi =
      "\xe2\x80\xae"
      "evil";  // U+202E, reverses text
  Builder b;
  b.op(0, "put", 0, 1, script).key("k\"<&'>");
  b.read(1, 2, 3, nul_and_ff, "get").key("k\"<&'>");
  b.op(2, "put", 4, 5, bidi).key("caf\xc3\xa9");
  b.read(2, 6, 7, "\x01\x7f\xc0\xaf", "get").key("caf\xc3\xa9");
  CheckResult r = check(b.history(), *kv_model());
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  std::string page = render(b.history(), r, "<b>hostile</b>");

  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"),
            std::string::npos);
  EXPECT_EQ(page.find("<b>hostile"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;hostile&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(page.find('\0'), std::string::npos);
  EXPECT_EQ(page.find('\xff'), std::string::npos);
  EXPECT_NE(page.find("a\\x00b\\xff"), std::string::npos);
  EXPECT_NE(page.find("\\xe2\\x80\\xaeevil"), std::string::npos);
  EXPECT_NE(page.find("\\x01\\x7f\\xc0\\xaf"), std::string::npos);
  EXPECT_NE(page.find("key &quot;caf\xc3\xa9&quot;"), std::string::npos);
  EXPECT_TRUE(valid_utf8(page));
  // Only the page's own one script; no attribute or tag from the values.
  EXPECT_EQ(count(page, "<script"), 1u);
  for (char c : page)
    EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 || c == '\n') << int(c);
}

TEST(TimelineTest, PageIsSelfContained) {
  Builder b = lost_write();
  b.op(2, "write", 6, 7, "http://example.com/x.js");
  CheckResult r = check(b.history(), *register_model());
  std::string page = render(b.history(), r, "self-contained");
  // A value may mention an address, as text; the page itself loads none.
  EXPECT_EQ(count(page, "http://"), 2u);  // the label and the tooltip
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_TRUE(page.starts_with("<!DOCTYPE html>"));
  EXPECT_TRUE(page.ends_with("</html>\n"));
}

TEST(TimelineTest, ThousandsOfOperationsStayCompact) {
  // 5000 operations on one register, long values: labels and tooltips are
  // clipped, so the page grows with the count, not with the values.
  Builder b;
  std::string value(2000, 'v');
  for (int i = 0; i < 5000; ++i)
    b.op(i % 10, "write", 2 * i, 2 * i + 5, value + std::to_string(i));
  CheckResult r = check(b.history(), *register_model());
  std::string page = timeline_html(b.history(), r, "big");
  EXPECT_LT(page.size(), 5000u * 800);
  EXPECT_EQ(count(page, "<div class=\"op"), 5000u);
}

TEST(TimelineTest, EmptyHistoryStillDraws) {
  History empty;
  CheckResult r = check(empty, *register_model());
  std::string page = render(empty, r, "empty");
  EXPECT_NE(page.find("no operations"), std::string::npos);
  EXPECT_TRUE(page.ends_with("</html>\n"));
}

TEST(WriteTimelineTest, CreatesParentDirectories) {
  TempDir dir("timeline");
  Builder b = lost_write();
  CheckResult r = check(b.history(), *register_model());
  std::filesystem::path path = dir.path() / "a" / "b" / "t.html";
  Status s = write_timeline(path, b.history(), r, "t");
  ASSERT_TRUE(s.ok()) << s.to_string();
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), timeline_html(b.history(), r, "t"));
}

TEST(WriteTimelineTest, UnwritablePathFailsNamingIt) {
  // A regular file where a directory should be: fails even for root,
  // which permission bits would not stop.
  TempDir dir("timeline");
  std::ofstream(dir.path() / "file") << "x";
  Builder b = lost_write();
  CheckResult r = check(b.history(), *register_model());
  for (std::filesystem::path path :
       {dir.path() / "file" / "sub" / "t.html", dir.path() / "file" / "t.html",
        dir.path()}) {
    SCOPED_TRACE(path.string());
    Status s = write_timeline(path, b.history(), r, "t");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kIoError);
    EXPECT_NE(s.message().find(path.string()), std::string::npos)
        << s.message();
  }
}

}  // namespace
}  // namespace kv::linearizability
