// kvfault_probe: runs a script of filesystem operations on one directory,
// for powercut_test.cc to run under libkvfault.so as a real process. Each
// argument after the directory is one command, words separated by spaces;
// names are relative to the directory and texts have no spaces. Any failed
// call ends the probe with exit code 2 and says which, so a test tells a
// broken script from a crash.
//
//   kvfault_probe DIR "create f" "append f abc" "fsync f" "dirsync" ...
//
// The calls are made in different forms (absolute paths, *at() on a
// directory descriptor, stdio) so the tests cover each interposed entry.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string g_dir;
int g_dirfd = -1;

[[noreturn]] void fail(const std::string& what) {
  fprintf(stderr, "kvfault_probe: %s: %s\n", what.c_str(), strerror(errno));
  exit(2);
}

std::string path_of(const std::string& name) { return g_dir + "/" + name; }

int check(int r, const std::string& what) {
  if (r < 0) fail(what);
  return r;
}

void write_all(int fd, const std::string& text, const std::string& what) {
  if (::write(fd, text.data(), text.size()) !=
      static_cast<ssize_t>(text.size()))
    fail(what);
}

int open_file(const std::string& name, int flags) {
  return check(::open(path_of(name).c_str(), flags | O_CLOEXEC, 0644),
               "open " + name);
}

void append_text(const std::string& name, const std::string& text) {
  int fd = check(::openat(g_dirfd, name.c_str(), O_WRONLY | O_APPEND),
                 "openat " + name);
  write_all(fd, text, "append " + name);
  ::close(fd);
}

void sync_file(const std::string& name, bool data_only) {
  int fd = open_file(name, O_RDONLY);
  check(data_only ? ::fdatasync(fd) : ::fsync(fd), "fsync " + name);
  ::close(fd);
}

void sync_dir() {
  int fd = check(::open(g_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                 "open dir");
  check(::fsync(fd), "fsync dir");
  ::close(fd);
}

void stdio_write(const std::string& name, const char* mode,
                 const std::string& text) {
  FILE* f = ::fopen(path_of(name).c_str(), mode);
  if (f == nullptr) fail("fopen " + name);
  if (fputs(text.c_str(), f) < 0 || fclose(f) != 0) fail("fputs " + name);
}

// Several threads append and fsync, then append and overwrite without
// fsync: the image must hold exactly the first phase (see the test).
void run_threads(int threads, int records) {
  int log = open_file("log", O_WRONLY | O_CREAT | O_APPEND);
  ::close(log);
  sync_dir();
  auto phase = [&](bool durable) {
    std::vector<std::jthread> workers;  // joined when the phase returns
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([t, records, durable] {
        std::string own = "t" + std::to_string(t);
        int log = open_file("log", O_WRONLY | O_APPEND);
        int mine = open_file(durable ? own : "u" + std::to_string(t),
                             O_WRONLY | O_CREAT | O_APPEND);
        int overwrite = open_file(own, O_WRONLY);
        for (int i = 0; i < records; ++i) {
          std::string line = (durable ? "s" : "u") + std::to_string(t) + "." +
                             std::to_string(i) + "\n";
          write_all(log, line, "append log");
          write_all(mine, line, "append own");
          if (durable) {
            check(::fsync(log), "fsync log");
            check(::fdatasync(mine), "fdatasync own");
          } else {
            check(static_cast<int>(::pwrite(overwrite, "XX", 2, 2 * i)),
                  "pwrite own");
          }
        }
        ::close(log);
        ::close(mine);
        ::close(overwrite);
      });
    }
  };
  phase(true);
  sync_dir();
  phase(false);
}

void run(const std::vector<std::string>& w) {
  auto arg = [&](size_t i) -> const std::string& {
    if (i >= w.size()) {
      errno = EINVAL;
      fail("missing argument to " + w[0]);
    }
    return w[i];
  };
  auto number = [&](size_t i) {
    return std::strtoll(arg(i).c_str(), nullptr, 10);
  };
  const std::string& op = w[0];
  if (op == "create") {
    ::close(open_file(arg(1), O_WRONLY | O_CREAT | O_EXCL));
  } else if (op == "append") {
    append_text(arg(1), arg(2));
  } else if (op == "pwrite") {
    int fd = open_file(arg(1), O_WRONLY);
    const std::string& text = arg(3);
    if (::pwrite(fd, text.data(), text.size(), number(2)) !=
        static_cast<ssize_t>(text.size()))
      fail("pwrite " + w[1]);
    ::close(fd);
  } else if (op == "writev") {  // two halves, at the end, in one call
    int fd = open_file(arg(1), O_WRONLY);
    check(static_cast<int>(::lseek(fd, 0, SEEK_END)), "lseek");
    std::string text = arg(2);
    iovec iov[2] = {
        {text.data(), text.size() / 2},
        {text.data() + text.size() / 2, text.size() - text.size() / 2}};
    check(static_cast<int>(::writev(fd, iov, 2)), "writev " + w[1]);
    ::close(fd);
  } else if (op == "osync-append") {
    int fd = open_file(arg(1), O_WRONLY | O_APPEND | O_SYNC);
    write_all(fd, arg(2), "append " + w[1]);
    ::close(fd);
  } else if (op == "fsync" || op == "fdatasync") {
    sync_file(arg(1), op == "fdatasync");
  } else if (op == "dirsync") {
    sync_dir();
  } else if (op == "sync") {
    ::sync();
  } else if (op == "rename") {
    check(::rename(path_of(arg(1)).c_str(), path_of(arg(2)).c_str()),
          "rename " + w[1]);
  } else if (op == "renameat") {
    check(::renameat(g_dirfd, arg(1).c_str(), g_dirfd, arg(2).c_str()),
          "renameat " + w[1]);
  } else if (op == "unlink") {
    check(::unlink(path_of(arg(1)).c_str()), "unlink " + w[1]);
  } else if (op == "unlinkat") {
    check(::unlinkat(g_dirfd, arg(1).c_str(), 0), "unlinkat " + w[1]);
  } else if (op == "remove") {
    check(::remove(path_of(arg(1)).c_str()), "remove " + w[1]);
  } else if (op == "truncate") {
    check(::truncate(path_of(arg(1)).c_str(), number(2)), "truncate " + w[1]);
  } else if (op == "ftruncate") {
    int fd = open_file(arg(1), O_WRONLY);
    check(::ftruncate(fd, number(2)), "ftruncate " + w[1]);
    ::close(fd);
  } else if (op == "punch") {
    int fd = open_file(arg(1), O_WRONLY);
    check(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, number(2),
                      number(3)),
          "fallocate " + w[1]);
    ::close(fd);
  } else if (op == "otrunc") {
    ::close(open_file(arg(1), O_WRONLY | O_TRUNC));
  } else if (op == "fopen-append") {
    stdio_write(arg(1), "a", arg(2));
  } else if (op == "fopen-write") {
    stdio_write(arg(1), "w", arg(2));
  } else if (op == "threads") {
    run_threads(static_cast<int>(number(1)), static_cast<int>(number(2)));
  } else {
    errno = EINVAL;
    fail("unknown command " + op);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: kvfault_probe DIR COMMAND...\n");
    return 2;
  }
  g_dir = argv[1];
  g_dirfd = check(::open(g_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                  "open " + g_dir);
  for (int i = 2; i < argc; ++i) {
    std::istringstream in(argv[i]);
    std::vector<std::string> words;
    for (std::string word; in >> word;) words.push_back(word);
    if (!words.empty()) run(words);
  }
  return 0;
}
