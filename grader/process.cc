// See process.h.
#include "process.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "resp_client.h"

namespace kv::grader {
namespace {

// Process groups of live children, readable from a signal handler: a fixed
// array of atomics, no locks, no allocation.
constexpr size_t kMaxChildren = 1024;
std::array<std::atomic<pid_t>, kMaxChildren> g_children{};

void remember_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}

void forget_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

extern "C" void kill_children_and_exit(int signal_number) {
  for (auto& slot : g_children) {
    pid_t pid = slot.load();
    if (pid > 0) ::kill(-pid, SIGKILL);
  }
  const char message[] = "\ngrader: interrupted; servers stopped\n";
  [[maybe_unused]] ssize_t ignored = ::write(2, message, sizeof message - 1);
  ::_exit(128 + signal_number);
}

ExitInfo decode(int status) {
  if (WIFEXITED(status)) return {true, WEXITSTATUS(status)};
  return {false, WTERMSIG(status)};
}

}  // namespace

void install_cleanup_handlers() {
  struct sigaction action {};
  action.sa_handler = kill_children_and_exit;
  sigemptyset(&action.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(s, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

std::string ExitInfo::to_string() const {
  if (exited) return fmt::format("exit code {}", code);
  return fmt::format("signal {} ({})", code, ::strsignal(code));
}

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                         const std::filesystem::path& log,
                                         const std::vector<std::string>& env,
                                         ChildPipes* pipes) {
  // Everything the child needs is prepared before fork: after fork in a
  // threaded program only async-signal-safe calls are allowed.
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(env.begin(), env.end(), [&](const auto& v) {
      return v.size() > name.size() && v.compare(0, name.size(), name) == 0 &&
             v[name.size()] == '=';
    });
    if (!replaced) envp.push_back(*e);
  }
  for (const std::string& v : env) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);
  int log_fd =
      ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Status::from_errno("open " + log.string(), errno);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // The child's ends; close-on-exec everywhere, dup2 clears it on 0 and 1.
  int stdin_pipe[2] = {-1, -1}, stdout_pipe[2] = {-1, -1};
  if (pipes && (::pipe2(stdin_pipe, O_CLOEXEC) != 0 ||
                ::pipe2(stdout_pipe, O_CLOEXEC) != 0)) {
    int error = errno;
    for (int fd : {stdin_pipe[0], stdin_pipe[1], log_fd, null_fd})
      if (fd >= 0) ::close(fd);
    return Status::from_errno("pipe", error);
  }
  int child_in = pipes ? stdin_pipe[0] : null_fd;
  int child_out = pipes ? stdout_pipe[1] : log_fd;
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    int error = errno;
    for (int fd : {log_fd, null_fd, stdin_pipe[0], stdin_pipe[1],
                   stdout_pipe[0], stdout_pipe[1]})
      if (fd >= 0) ::close(fd);
    return Status::from_errno("fork", error);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    // SIGKILL when the grader dies, however it dies; and if it already
    // died between fork and here, do not run at all.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(child_in, 0);
    ::dup2(child_out, 1);
    ::dup2(log_fd, 2);
    ::execve(args[0], args.data(), envp.data());
    // Only async-signal-safe calls here: the path, and errno in decimal
    // (ENOENT or ETXTBSY: the binary is missing, or being rebuilt).
    const int error = errno;
    char digits[12];
    size_t n = sizeof digits;
    for (unsigned e = static_cast<unsigned>(error); n == sizeof digits || e;
         e /= 10)
      digits[--n] = static_cast<char>('0' + e % 10);
    auto say = [](const char* text, size_t length) {
      [[maybe_unused]] ssize_t ignored = ::write(2, text, length);
    };
    const char before[] = "grader: cannot execute ";
    const char middle[] = " (errno ";
    const char after[] = ")\n";
    say(before, sizeof before - 1);
    say(args[0], std::strlen(args[0]));
    say(middle, sizeof middle - 1);
    say(digits + n, sizeof digits - n);
    say(after, sizeof after - 1);
    ::_exit(127);
  }
  // Both sides call setpgid so that the group exists before either uses it.
  ::setpgid(pid, pid);
  ::close(log_fd);
  ::close(null_fd);
  if (pipes) {
    ::close(stdin_pipe[0]);
    ::close(stdout_pipe[1]);
    pipes->to_child = UniqueFd(stdin_pipe[1]);
    pipes->from_child = UniqueFd(stdout_pipe[0]);
  }
  remember_child(pid);
  ChildProcess child;
  child.pid_ = pid;
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), exit_(std::move(other.exit_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (running()) kill();
    pid_ = std::exchange(other.pid_, -1);
    exit_ = std::move(other.exit_);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (running()) kill();
}

void ChildProcess::signal(int signal_number) {
  if (running()) ::kill(-pid_, signal_number);
}

std::optional<ExitInfo> ChildProcess::poll() {
  if (exit_ || pid_ <= 0) return exit_;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_ = decode(status);
    // The group may still hold grandchildren; none of ours fork, but be sure.
    ::kill(-pid_, SIGKILL);
    forget_child(pid_);
  }
  return exit_;
}

std::optional<ExitInfo> ChildProcess::wait_for(
    std::chrono::milliseconds timeout) {
  // waitpid has no timeout; a pidfd would, but polling waitpid every few
  // milliseconds is simple and the cost is nothing next to a test.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto done = poll()) return done;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

ExitInfo ChildProcess::kill() {
  if (exit_) return *exit_;
  ::kill(-pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_ = decode(status);
  forget_child(pid_);
  return *exit_;
}

std::string tail_of_file(const std::filesystem::path& path, size_t max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const std::string& l : lines) out += "    | " + l + "\n";
  return out;
}

std::optional<std::string> find_not_implemented(
    const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t at = line.find("not implemented: ");
    if (at != std::string::npos) return line.substr(at);
  }
  return std::nullopt;
}

std::optional<std::string> find_sanitizer_report(
    const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    for (const char* marker :
         {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer",
          "ERROR: LeakSanitizer", "runtime error:"}) {
      if (line.find(marker) != std::string::npos) return line;
    }
  }
  return std::nullopt;
}

Result<uint16_t> pick_free_port() {
  Result<UniqueFd> probe = listen_tcp({"127.0.0.1", 0});
  if (!probe.ok()) return probe.status();
  Result<HostPort> bound = local_address(probe.value().get());
  if (!bound.ok()) return bound.status();
  return bound.value().port;
}

Result<ServerProcess> ServerProcess::start(Options options) {
  ServerProcess server;
  server.options_ = std::move(options);
  // Another process may take the port between our probe and the server's
  // bind; try a few ports before blaming the server.
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    Result<uint16_t> port = pick_free_port();
    if (!port.ok()) return port.status();
    server.address_ = {"127.0.0.1", port.value()};
    last = server.launch();
    if (last.ok()) return server;
    if (tail_of_file(server.options_.log, 5).find("in use") ==
        std::string::npos)
      break;
  }
  return last;
}

Status ServerProcess::restart() {
  if (process_.running()) process_.kill();
  return launch();
}

std::optional<ExitInfo> ServerProcess::stop(int signal_number,
                                            std::chrono::milliseconds timeout) {
  process_.signal(signal_number);
  return process_.wait_for(timeout);
}

Status ServerProcess::launch() {
  std::vector<std::string> argv = {options_.binary.string(), "--listen",
                                   address_.to_string()};
  argv.insert(argv.end(), options_.extra_args.begin(),
              options_.extra_args.end());
  {
    std::ofstream log(options_.log, std::ios::app);
    log << "---- grader: starting";
    for (const std::string& a : argv) log << ' ' << a;
    log << '\n';
  }
  Result<ChildProcess> child =
      ChildProcess::spawn(argv, options_.log, options_.env);
  if (!child.ok()) return child.status();
  process_ = std::move(child).value();
  return wait_ready();
}

Status ServerProcess::wait_ready() {
  auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<ExitInfo> ended = process_.poll()) {
      if (auto hint = find_not_implemented(options_.log))
        return Status::unavailable(fmt::format(
            "the server stopped at a part not written yet: {} (log: {})", *hint,
            options_.log.string()));
      std::string why = fmt::format("the server exited during start-up ({})",
                                    ended->to_string());
      return Status::unavailable(fmt::format("{}; end of its log {}:\n{}", why,
                                             options_.log.string(),
                                             tail_of_file(options_.log, 8)));
    }
    Result<Client> client =
        Client::connect(address_, std::chrono::milliseconds(1000));
    if (client.ok()) {
      Result<Reply> pong = client.value().call("PING");
      if (pong.ok() && pong.value().is_simple("PONG")) return Status();
      if (pong.ok())
        return Status::unavailable(
            fmt::format("the server answered PING with {}, expected +PONG "
                        "(log: {})",
                        pong.value().to_string(), options_.log.string()));
    }
    // Not listening yet: the socket is opened moments after exec.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  process_.kill();
  return Status::unavailable(
      fmt::format("the server did not answer PING on {} within {} s; end of "
                  "its log {}:\n{}",
                  address_.to_string(), options_.ready_timeout.count() / 1000,
                  options_.log.string(), tail_of_file(options_.log, 8)));
}

}  // namespace kv::grader
