// kvbench: flags, signals and output around the engine (engine.h). The
// engine runs on a thread of its own; this thread waits on a signalfd for
// SIGINT/SIGTERM and on an eventfd for the end of the run, so Ctrl-C stops
// the run at once and still prints what was measured.
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common/signals.h"
#include "common/unique_fd.h"
#include "tools/kvbench/cli.h"
#include "tools/kvbench/engine.h"
#include "tools/kvbench/report.h"

namespace kv::kvbench {
namespace {

// The progress line on stderr: rewritten in place on a terminal, one line
// per second otherwise (a log keeps them all).
class ProgressLine {
 public:
  explicit ProgressLine(const Options& options)
      : options_(options), terminal_(::isatty(STDERR_FILENO) == 1) {
    if (!options.requests.has_value())
      long_run_ = options.warmup + options.duration >= std::chrono::seconds(3);
  }

  void show(const Progress& p) {
    // A short run is over before a line could say anything useful.
    if (!long_run_ && p.elapsed_s < 2.999) return;
    std::string text =
        fmt::format("[{:4.0f}s] {:<8}", p.elapsed_s, phase_name(p.phase));
    if (p.phase == Phase::kPreload)
      text += fmt::format(" {}/{} keys", p.preloaded_keys, options_.keys);
    else if (options_.requests.has_value())
      text += fmt::format(" {}/{}", p.measured_requests, *options_.requests);
    text += fmt::format("  {:9.0f} ops/s", p.ops_per_sec);
    if (p.measured_requests > 0)
      text +=
          fmt::format("  p99 {:.3f} ms", static_cast<double>(p.p99_ns) / 1e6);
    text += fmt::format("  errors {}", p.errors);
    if (terminal_) {
      fmt::print(stderr, "\r{}\033[K", text);
    } else {
      fmt::print(stderr, "{}\n", text);
    }
    std::fflush(stderr);
    shown_ = true;
  }

  void finish() {
    if (shown_ && terminal_) fmt::print(stderr, "\r\033[K");
  }

 private:
  const Options& options_;
  const bool terminal_;
  bool long_run_ = false;
  bool shown_ = false;
};

int real_main(int argc, char** argv) {
  // First, before any thread: every thread inherits the mask, so the two
  // signals reach only the signalfd below.
  block_termination_signals();

  CLI::App app;
  CliFlags flags;
  add_flags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help, --version: 0
  }
  const Options& options = flags.options;

  sigset_t termination;
  sigemptyset(&termination);
  sigaddset(&termination, SIGINT);
  sigaddset(&termination, SIGTERM);
  UniqueFd signals(::signalfd(-1, &termination, SFD_CLOEXEC));
  UniqueFd done(::eventfd(0, EFD_CLOEXEC));
  if (!signals.valid() || !done.valid()) {
    fmt::print(stderr, "kvbench: signalfd/eventfd failed\n");
    return 2;
  }

  ProgressLine progress(options);
  RunHooks hooks;
  if (!flags.quiet)
    hooks.on_progress = [&](const Progress& p) { progress.show(p); };

  std::optional<Result<Report>> result;
  int signal_number = 0;
  {
    std::jthread runner([&](std::stop_token stop) {
      result.emplace(run(options, stop, hooks));
      uint64_t one = 1;
      [[maybe_unused]] ssize_t ignored = ::write(done.get(), &one, sizeof one);
    });
    pollfd fds[2] = {{signals.get(), POLLIN, 0}, {done.get(), POLLIN, 0}};
    while (true) {
      if (::poll(fds, 2, -1) < 0) continue;  // EINTR
      if (fds[1].revents & POLLIN) break;
      if (fds[0].revents & POLLIN) {
        signalfd_siginfo info{};
        if (::read(signals.get(), &info, sizeof info) == sizeof info)
          signal_number = static_cast<int>(info.ssi_signo);
        runner.request_stop();
        break;
      }
    }
  }  // joins the runner
  progress.finish();

  if (!result->ok()) {
    fmt::print(stderr, "kvbench: {}\n", result->status().message());
    return 2;
  }
  const Report& report = result->value();
  if (report.interrupted)
    fmt::print(stderr, "kvbench: {}: stopped; the figures below are partial\n",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  else if (!report.failure.empty())
    fmt::print(stderr, "kvbench: {}; stopped; the figures below are partial\n",
               report.failure);
  // The commonest mistake: RESP requests to a lab 01-02 server, which
  // reads each line of a multibulk array as an inline command.
  for (const std::string& example :
       report.errors.examples[static_cast<size_t>(ErrorKind::kErrorReply)])
    if (options.protocol == Protocol::kResp &&
        example.find("unknown command '*") != std::string::npos) {
      fmt::print(stderr,
                 "kvbench: the server does not seem to read RESP multibulk "
                 "requests (labs 01-02 speak inline only): try --protocol "
                 "inline\n");
      break;
    }
  if (flags.json) {
    fmt::print("{}\n", to_json(report).dump(2));
  } else {
    fmt::print("{}", format_table(report));
  }
  std::fflush(stdout);
  return exit_code(report);
}

}  // namespace
}  // namespace kv::kvbench

int main(int argc, char** argv) { return kv::kvbench::real_main(argc, argv); }
