#include "starter.h"

#include <gtest/gtest.h>

namespace kv::grader {
namespace {

TEST(CutRegionsTest, ReplacesTheBodyKeepsTheMarkers) {
  std::string source =
      "int f(int x) {\n"
      "  // LAB01 BEGIN: f — double x\n"
      "  return 2 * x;\n"
      "  // LAB01 END\n"
      "}\n";
  Result<CutResult> cut = cut_regions(source, "lab01", "f.cc");
  ASSERT_TRUE(cut.ok()) << cut.status().to_string();
  EXPECT_EQ(cut.value().text,
            "int f(int x) {\n"
            "  // LAB01 BEGIN: f — double x\n"
            "  throw kv::NotImplemented(\"lab01: f — double x\");\n"
            "  // LAB01 END\n"
            "}\n");
  ASSERT_EQ(cut.value().hints.size(), 1u);
  EXPECT_EQ(cut.value().hints[0], "f — double x");
}

TEST(CutRegionsTest, OtherLabsRegionsAndPlainCodeAreUntouched) {
  std::string source =
      "a\n// LAB05 BEGIN: later\nkept\n// LAB05 END\nb";  // no final newline
  Result<CutResult> cut = cut_regions(source, "lab01", "x.cc");
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut.value().text, source);
  EXPECT_TRUE(cut.value().hints.empty());
}

TEST(CutRegionsTest, HintWithQuotesBecomesAValidLiteral) {
  std::string source = "// LAB01 BEGIN: say \"hi\" \\ bye\nx\n// LAB01 END\n";
  Result<CutResult> cut = cut_regions(source, "lab01", "x.cc");
  ASSERT_TRUE(cut.ok());
  EXPECT_NE(
      cut.value().text.find(R"(NotImplemented("lab01: say \"hi\" \\ bye"))"),
      std::string::npos);
}

TEST(CutRegionsTest, BrokenFencesAreErrorsNamingTheLine) {
  struct Case {
    const char* name;
    const char* source;
    const char* want;
  };
  const Case kCases[] = {
      {"unclosed", "x\n// LAB01 BEGIN: a\ny\n", "x.cc:2"},
      {"end without begin", "// LAB01 END\n", "x.cc:1"},
      {"nested", "// LAB01 BEGIN: a\n// LAB01 BEGIN: b\n// LAB01 END\n",
       "x.cc:2"},
      {"empty hint", "// LAB01 BEGIN:   \n// LAB01 END\n", "x.cc:1"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Result<CutResult> cut = cut_regions(c.source, "lab01", "x.cc");
    ASSERT_FALSE(cut.ok());
    EXPECT_NE(cut.status().message().find(c.want), std::string::npos)
        << cut.status().message();
  }
}

}  // namespace
}  // namespace kv::grader
