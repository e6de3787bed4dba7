// The command line: defaults, conversions, and bad values refused by CLI11
// before anything runs. (The exit codes are main.cc's; see the report.)
#include "tools/kvbench/cli.h"

#include <gtest/gtest.h>

#include "tools/kvbench/options.h"

namespace kv::kvbench {
namespace {

struct Parsed {
  bool ok = false;
  std::string error;
  CliFlags flags;
};

Parsed parse(const std::string& args) {
  Parsed p;
  CLI::App app;
  add_flags(app, p.flags);
  try {
    app.parse(args, /*program_name_included=*/false);
    p.ok = true;
  } catch (const CLI::ParseError& e) {
    p.error = e.what();
  }
  return p;
}

TEST(CliTest, Defaults) {
  Parsed p = parse("");
  ASSERT_TRUE(p.ok) << p.error;
  const Options& o = p.flags.options;
  EXPECT_EQ(o.server.to_string(), "127.0.0.1:7001");
  EXPECT_EQ(o.protocol, Protocol::kInline);
  EXPECT_EQ(o.connections, 16);
  EXPECT_EQ(o.pipeline, 1);
  EXPECT_EQ(o.threads, 1);
  EXPECT_EQ(o.duration, std::chrono::seconds(10));
  EXPECT_FALSE(o.requests.has_value());
  EXPECT_EQ(o.warmup, std::chrono::seconds(1));
  EXPECT_EQ(o.keys, 100000u);
  EXPECT_EQ(o.value_size, 64u);
  EXPECT_EQ(o.read_ratio, 0.5);
  EXPECT_EQ(o.distribution, Distribution::kUniform);
  EXPECT_EQ(o.zipf_theta, 0.99);
  EXPECT_TRUE(o.preload);
  EXPECT_FALSE(o.open_loop());
  EXPECT_EQ(o.timeout, std::chrono::seconds(5));
  EXPECT_FALSE(o.verify);
  EXPECT_FALSE(p.flags.json);
}

TEST(CliTest, FlagsConvert) {
  Parsed p = parse(
      "--server 10.0.0.1:9000 -p 7102 --protocol resp -c 4 -P 8 -n 5000 "
      "--warmup 250ms --keys 10 --value-size 100 --read-ratio 0.9 "
      "--distribution zipfian --zipf-theta 0.5 --seed 99 --threads 2 "
      "--no-preload --verify --timeout 1.5s --json -q");
  ASSERT_TRUE(p.ok) << p.error;
  const Options& o = p.flags.options;
  EXPECT_EQ(o.server.to_string(), "10.0.0.1:7102");
  EXPECT_EQ(o.protocol, Protocol::kResp);
  EXPECT_EQ(o.connections, 4);
  EXPECT_EQ(o.pipeline, 8);
  EXPECT_EQ(o.requests, 5000u);
  EXPECT_EQ(o.warmup, std::chrono::milliseconds(250));
  EXPECT_EQ(o.keys, 10u);
  EXPECT_EQ(o.value_size, 100u);
  EXPECT_EQ(o.read_ratio, 0.9);
  EXPECT_EQ(o.distribution, Distribution::kZipfian);
  EXPECT_EQ(o.zipf_theta, 0.5);
  EXPECT_EQ(o.seed, 99u);
  EXPECT_EQ(o.threads, 2);
  EXPECT_FALSE(o.preload);
  EXPECT_TRUE(o.verify);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(1500));
  EXPECT_TRUE(p.flags.json);
  EXPECT_TRUE(p.flags.quiet);
}

TEST(CliTest, OpenLoopFlags) {
  Parsed p = parse("--rate 2500 --arrival poisson --max-outstanding 50 -d 2m");
  ASSERT_TRUE(p.ok) << p.error;
  const Options& o = p.flags.options;
  ASSERT_TRUE(o.open_loop());
  EXPECT_EQ(*o.rate, 2500);
  EXPECT_EQ(o.arrival, Arrival::kPoisson);
  EXPECT_EQ(o.max_outstanding, 50u);
  EXPECT_EQ(o.duration, std::chrono::minutes(2));
}

TEST(CliTest, PreloadDefaultsOnOnlyWithReads) {
  EXPECT_FALSE(parse("--read-ratio 0").flags.options.preload);
  EXPECT_TRUE(parse("--read-ratio 0.01").flags.options.preload);
  EXPECT_TRUE(parse("--read-ratio 0 --preload").flags.options.preload);
  EXPECT_FALSE(parse("--read-ratio 1 --no-preload").flags.options.preload);
}

TEST(CliTest, BadValuesAreRefused) {
  const char* kBad[] = {
      "-c 0",
      "-c -3",
      "--connections 100000",
      "-P 0",
      "--read-ratio 1.5",
      "--read-ratio -0.1",
      "--value-size 0",
      "--value-size 10",
      "--value-size 100000000",
      "--protocol inline --value-size 100000",
      "--keys 0",
      "--keys -5",
      "-d 0",
      "-d -1s",
      "-d soon",
      "-n 0",
      "-n 10 -d 5s",
      "--warmup -1s",
      "--zipf-theta 0",
      "--zipf-theta 1",
      "--zipf-theta 1.2",
      "--distribution pareto",
      "--protocol http",
      "--rate 0",
      "--rate -5",
      "--rate 100 -P 4",
      "--arrival poisson",
      "--max-outstanding 5",
      "--rate 10 --max-outstanding 0",
      "--server nowhere",
      "--server 127.0.0.1:0",
      "-p 0",
      "-p 70000",
      "--threads 0",
      "--threads 4 -c 2",
      "--verify --keys 3 -c 4",
      "--timeout 0",
      "--preload --no-preload",
      "--unknown-flag",
  };
  for (const char* args : kBad) {
    SCOPED_TRACE(args);
    Parsed p = parse(args);
    EXPECT_FALSE(p.ok);
    EXPECT_FALSE(p.error.empty());
  }
}

TEST(CliTest, HelpExplainsTheOpenLoopAndTheErrorBound) {
  CLI::App app;
  CliFlags flags;
  add_flags(app, flags);
  std::string help = app.help();
  EXPECT_NE(help.find("coordinated omission"), std::string::npos);
  EXPECT_NE(help.find("1/256"), std::string::npos);
  EXPECT_NE(help.find("--protocol resp"), std::string::npos);
  EXPECT_NE(help.find("--rate"), std::string::npos);
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_name() == "--help" || option->get_name() == "--version")
      continue;
    EXPECT_NE(option->get_description().find("default"), std::string::npos)
        << option->get_name();
  }
}

TEST(DurationTest, ParsesUnits) {
  struct Case {
    const char* text;
    int64_t ns;
  };
  for (const Case& c :
       {Case{"10s", 10'000'000'000}, Case{"500ms", 500'000'000},
        Case{"1.5s", 1'500'000'000}, Case{"2m", 120'000'000'000},
        Case{"250us", 250'000}, Case{"0", 0}, Case{"3", 3'000'000'000},
        Case{"1h", 3'600'000'000'000}}) {
    SCOPED_TRACE(c.text);
    Result<std::chrono::nanoseconds> d = parse_duration(c.text);
    ASSERT_TRUE(d.ok()) << d.status().to_string();
    EXPECT_EQ(d.value().count(), c.ns);
  }
  for (const char* bad : {"", "s", "ten", "5 s", "5x", "-1s", "inf", "1e30s"})
    EXPECT_FALSE(parse_duration(bad).ok()) << bad;
  EXPECT_EQ(format_duration(std::chrono::seconds(10)), "10s");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(1500)), "1.5s");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(300)), "300ms");
}

}  // namespace
}  // namespace kv::kvbench
