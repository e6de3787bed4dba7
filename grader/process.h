// The grader's process manager, shared by every lab's suite: start a server
// binary on a free loopback port with its stderr kept in a log file, wait
// until it answers PING, stop it gracefully or kill it, restart it on the
// same port. No process outlives the grader: each child leads its own
// process group, gets SIGKILL if the grader dies (PR_SET_PDEATHSIG), and is
// killed by the grader's SIGINT/SIGTERM handler (install_cleanup_handlers).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/net.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace kv::grader {

// Installs SIGINT/SIGTERM/SIGHUP handlers that kill every live child's
// process group and exit 130. Call once, at the start of main.
void install_cleanup_handlers();

// How a process ended.
struct ExitInfo {
  bool exited = false;            // true: exit code; false: killed by signal
  int code = 0;                   // exit code or signal number
  std::string to_string() const;  // "exit code 0", "signal 9 (Killed)"
};

// The grader's ends of a child's stdin and stdout, for a child it talks to
// (lab 03's client driver) rather than only logs.
struct ChildPipes {
  UniqueFd to_child;    // write: the child's stdin
  UniqueFd from_child;  // read: the child's stdout
};

// One child process. Move-only; the destructor kills it if still running.
class ChildProcess {
 public:
  // argv[0] is the program's path. stdout and stderr are appended to log.
  // env ("NAME=value") is added to the inherited environment, replacing a
  // variable of the same name. With pipes, the child's stdin and stdout are
  // pipes to the grader instead (stderr still goes to log).
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv,
                                    const std::filesystem::path& log,
                                    const std::vector<std::string>& env = {},
                                    ChildPipes* pipes = nullptr);
  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_; }
  void signal(int signal_number);  // to the whole process group
  // Waits up to timeout for the process to end; nullopt if it has not.
  std::optional<ExitInfo> wait_for(std::chrono::milliseconds timeout);
  // Non-blocking: has it ended?
  std::optional<ExitInfo> poll();
  // SIGKILL to the group and reap.
  ExitInfo kill();

 private:
  pid_t pid_ = -1;
  std::optional<ExitInfo> exit_;
};

// Last lines of a log file (for diagnoses), and the first line that names
// an unimplemented starter region, if any.
std::string tail_of_file(const std::filesystem::path& path, size_t max_lines);
std::optional<std::string> find_not_implemented(
    const std::filesystem::path& path);

// The first line of a sanitizer report in a log (ThreadSanitizer,
// AddressSanitizer, LeakSanitizer, UBSan's "runtime error:"), if any. A
// server built with the tsan or asan preset keeps running after a report,
// so the grader must look for them: a race that did no visible harm in
// this run is still a bug.
std::optional<std::string> find_sanitizer_report(
    const std::filesystem::path& path);

// A port on 127.0.0.1 that was free a moment ago.
Result<uint16_t> pick_free_port();

// A kvlab server under test: binary, flags, port and log file.
class ServerProcess {
 public:
  struct Options {
    std::filesystem::path binary;
    std::vector<std::string> extra_args;  // after --listen
    std::vector<std::string> env;         // "NAME=value", added to ours
    std::filesystem::path log;            // its stderr, kept for the student
    std::chrono::milliseconds ready_timeout{30000};
  };

  // Starts it on a free port and waits for PING. On failure the message
  // says why in the student's terms (it crashed, it never answered) with
  // the end of its log.
  static Result<ServerProcess> start(Options options);

  ServerProcess() = default;
  ServerProcess(ServerProcess&&) = default;
  ServerProcess& operator=(ServerProcess&&) = default;

  const HostPort& address() const { return address_; }
  const std::filesystem::path& log() const { return options_.log; }
  ChildProcess& process() { return process_; }

  // Sends signal_number and waits up to timeout for the exit.
  std::optional<ExitInfo> stop(int signal_number,
                               std::chrono::milliseconds timeout);
  ExitInfo kill() { return process_.kill(); }
  // Starts the same binary on the same port again (after stop or kill).
  Status restart();

 private:
  Status launch();
  Status wait_ready();

  Options options_;
  HostPort address_;
  ChildProcess process_;
};

}  // namespace kv::grader
