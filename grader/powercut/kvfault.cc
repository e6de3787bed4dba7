// libkvfault.so: an LD_PRELOAD interposer that journals, for one data
// directory, everything the grader needs to compute what a power cut would
// leave (README.md beside this file; the journal's bytes are defined in
// journal_format.h). It changes no behaviour: every call reaches libc (or a
// sanitizer's interceptor) as it would without it; it only records, and
// with KVFAULT_CRASH_AT it kills the process just before a chosen op.
//
// Environment, read once at load: KVFAULT_DIR (absolute path of the data
// dir; unset: every wrapper just forwards), KVFAULT_JOURNAL (appended to),
// KVFAULT_STASH (a directory on the data dir's filesystem where inodes are
// hard-linked before they lose a name that may still be durable),
// KVFAULT_CRASH_AT=N (SIGKILL just before op N) or KIND:NAME:K (just
// before the Kth op of that kind, as a number, on that name). KVFAULT_DIR is
// removed from the environment at load, so a program this one execs is not
// modelled (it would start a second, conflicting journal run).
//
// The model covers the files directly in the data dir; subdirectories are
// listed by name only and their contents are not modelled. Limits: calls
// made inside libc bypass LD_PRELOAD, so stdio's writes (fwrite, fflush)
// are not seen; appends through stdio are still right, since contents are
// judged by the size fstat gives at each fsync and cut back to it, but an
// in-place overwrite through stdio, mmap or O_TMPFILE+linkat is not undone.
// copy_file_range, sendfile, splice and link into the dir are not seen.
// sync_file_range and msync are (correctly) not durability; fdatasync is
// treated as fsync, and a write on an O_SYNC/O_DSYNC descriptor as a write
// followed by fsync. A forked child keeps journaling with its own copy of
// the state and its own op count.
//
// Everything that journals runs under one mutex held across the record and
// the real call, so the journal's order is the order the ops took effect in,
// across threads. Nothing here allocates through libstdc++; buffers are
// malloc'd, and the journal is written with a raw syscall, so nothing
// recurses into these wrappers.
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "journal_format.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "journal_format.h is little-endian; this writes native order");

#define KVFAULT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using kv::powercut::EntryKind;
using kv::powercut::OpKind;
using kv::powercut::RecordType;

// ---- Output that never re-enters a wrapper ----------------------------

void say(const char* a, const char* b = "", const char* c = "") {
  const char* parts[] = {"kvfault: ", a, b, c, "\n"};
  for (const char* s : parts) syscall(SYS_write, 2, s, strlen(s));
}

// The model can no longer be kept and nothing can say so in the journal
// (it cannot be written, memory ran out): die loudly rather than let the
// grader compute an image from a journal with a hole in it.
[[noreturn]] void fatal(const char* what, const char* detail = "") {
  say(what, detail[0] ? ": " : "", detail);
  abort();
}

void* next_symbol(const char* name) {
  void* symbol = dlsym(RTLD_NEXT, name);
  if (symbol == nullptr) fatal("no next definition of", name);
  return symbol;
}

// The next definition of a libc function (libc's own, or a sanitizer's
// interceptor, which then calls libc's), resolved on first use: a wrapper
// may run before this library's constructor.
#define REAL(fn)                                        \
  ([]() {                                               \
    static void* slot = nullptr;                        \
    void* p = __atomic_load_n(&slot, __ATOMIC_ACQUIRE); \
    if (p == nullptr) {                                 \
      p = next_symbol(#fn);                             \
      __atomic_store_n(&slot, p, __ATOMIC_RELEASE);     \
    }                                                   \
    return reinterpret_cast<decltype(&::fn)>(p);        \
  }())

// ---- A growable byte buffer (malloc, not operator new) ---------------

class Buf {
 public:
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { free(data_); }

  char* data() { return data_; }
  size_t size() const { return size_; }
  char* grow(size_t n) {  // n more bytes at the end, uninitialised
    if (size_ + n > cap_) {
      size_t cap = cap_ ? cap_ : 256;
      while (cap < size_ + n) cap *= 2;
      void* p = realloc(data_, cap);
      if (p == nullptr) fatal("out of memory");
      data_ = static_cast<char*>(p);
      cap_ = cap;
    }
    size_ += n;
    return data_ + size_ - n;
  }
  void shrink_to(size_t n) { size_ = n; }
  void put(const void* p, size_t n) { memcpy(grow(n), p, n); }
  void u8(uint8_t v) { put(&v, 1); }
  void u16(uint16_t v) { put(&v, 2); }
  void u32(uint32_t v) { put(&v, 4); }
  void u64(uint64_t v) { put(&v, 8); }
  void str16(const char* s) {
    size_t n = strlen(s);
    u16(static_cast<uint16_t>(n));
    put(s, n);
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

// ---- State, all guarded by g_mu once g_enabled ------------------------

struct Inode {
  uint64_t ino;
  uint64_t synced_size;     // the model's durable size
  bool stashed;             // hard-linked under the stash dir
  char name[NAME_MAX + 1];  // a current name in the dir, "" if none known
};

pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
bool g_enabled = false;  // set once by the constructor; read atomically
int g_journal = -1;
dev_t g_dev = 0;
ino_t g_dir_ino = 0;
char g_dir[PATH_MAX];
char g_stash[PATH_MAX];
uint64_t g_crash_at = 0;  // 0: never
uint64_t g_ops = 0;
// KVFAULT_CRASH_AT=KIND:NAME:K: just before the Kth op of that kind on that
// name, whatever ops of other threads came between.
int g_crash_kind = 0;  // 0: not this form
char g_crash_name[PATH_MAX];
uint64_t g_crash_occurrence = 0;
uint64_t g_crash_seen = 0;
Inode* g_inodes = nullptr;  // every inode the model tracks
size_t g_inode_count = 0;
size_t g_inode_cap = 0;
uint64_t* g_durable = nullptr;  // file inodes of the last durable listing
size_t g_durable_count = 0;

// Whether this thread holds g_mu. Initial-exec: a preloaded library has
// static TLS, and the general model could allocate on first access.
__attribute__((tls_model("initial-exec"))) __thread bool t_holds_lock = false;

bool enabled() { return __atomic_load_n(&g_enabled, __ATOMIC_ACQUIRE); }

// The test at each hook's entry. A signal handler that writes a file while
// its thread is inside a hook would deadlock on g_mu; it is forwarded
// unrecorded instead.
bool may_enter() { return enabled() && !t_holds_lock; }

class Lock {
 public:
  Lock() {
    pthread_mutex_lock(&g_mu);
    t_holds_lock = true;
  }
  ~Lock() {
    t_holds_lock = false;
    pthread_mutex_unlock(&g_mu);
  }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
};

// Keeps errno as the real call left it while the bookkeeping after it
// makes syscalls of its own.
class KeepErrno {
 public:
  KeepErrno() : saved_(errno) {}
  ~KeepErrno() { errno = saved_; }
  KeepErrno(const KeepErrno&) = delete;
  KeepErrno& operator=(const KeepErrno&) = delete;

 private:
  int saved_;
};

// ---- Journal ----------------------------------------------------------

// A record under construction: header reserved, length filled by emit().
class Record : public Buf {
 public:
  explicit Record(RecordType type) {
    u32(0);
    u8(static_cast<uint8_t>(type));
  }
};

void emit(Record& r) {
  uint32_t length =
      static_cast<uint32_t>(r.size() - kv::powercut::kLengthBytes);
  memcpy(r.data(), &length, sizeof length);
  const char* p = r.data();
  size_t left = r.size();
  while (left > 0) {
    long n = syscall(SYS_write, g_journal, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fatal("cannot write the journal", strerror(errno));
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void emit_ino(RecordType type, uint64_t ino, const uint64_t* size = nullptr) {
  Record r(type);
  r.u64(ino);
  if (size) r.u64(*size);
  emit(r);
}

// The model is broken (a stash link failed): say so in the journal, where
// the grader turns it into an error, and stop modelling.
void model_error(const char* what, const char* detail) {
  say(what, ": ", detail);
  Record r(RecordType::kError);
  r.put(what, strlen(what));
  r.put(": ", 2);
  r.put(detail, strlen(detail));
  emit(r);
  __atomic_store_n(&g_enabled, false, __ATOMIC_RELEASE);
}

// Numbers the op; with KVFAULT_CRASH_AT at this number, journals CRASH and
// dies here, the lock still held so no other thread's op slips in after.
void begin_op(OpKind kind, const char* name, const char* new_name = "") {
  uint64_t number = ++g_ops;
  bool crash = number == g_crash_at;
  if (g_crash_kind == static_cast<int>(kind) &&
      strcmp(name, g_crash_name) == 0 && ++g_crash_seen == g_crash_occurrence)
    crash = true;
  Record r(crash ? RecordType::kCrash : RecordType::kOp);
  r.u64(number);
  r.u8(static_cast<uint8_t>(kind));
  r.str16(name[0] ? name : "?");
  r.str16(new_name);
  emit(r);
  if (crash) {
    for (;;) syscall(SYS_kill, getpid(), SIGKILL);
  }
}

// ---- Inode table ------------------------------------------------------

Inode* find_inode(uint64_t ino) {
  for (size_t i = 0; i < g_inode_count; ++i)
    if (g_inodes[i].ino == ino) return &g_inodes[i];
  return nullptr;
}

// One name names one inode: giving it to ino takes it from any other.
void set_name(Inode* inode, const char* name) {
  for (size_t i = 0; i < g_inode_count; ++i)
    if (&g_inodes[i] != inode && strcmp(g_inodes[i].name, name) == 0)
      g_inodes[i].name[0] = '\0';
  strncpy(inode->name, name, NAME_MAX);
  inode->name[NAME_MAX] = '\0';
}

Inode* add_inode(uint64_t ino, uint64_t synced_size, const char* name) {
  Inode* inode = find_inode(ino);
  if (inode == nullptr) {
    if (g_inode_count == g_inode_cap) {
      size_t cap = g_inode_cap ? 2 * g_inode_cap : 64;
      void* p = realloc(g_inodes, cap * sizeof(Inode));
      if (p == nullptr) fatal("out of memory");
      g_inodes = static_cast<Inode*>(p);
      g_inode_cap = cap;
    }
    inode = &g_inodes[g_inode_count++];
    inode->ino = ino;
    inode->name[0] = '\0';
  }
  inode->synced_size = synced_size;
  inode->stashed = false;
  set_name(inode, name);
  return inode;
}

// An inode enters the model (created, moved in, or first seen): nothing of
// it is durable yet. NEW also tells the grader to forget whatever an
// earlier inode with the same number left in the journal.
Inode* track_new(uint64_t ino, const char* name) {
  emit_ino(RecordType::kNew, ino);
  return add_inode(ino, 0, name);
}

void drop_inode(uint64_t ino) {
  Inode* inode = find_inode(ino);
  if (inode) *inode = g_inodes[--g_inode_count];
}

bool is_durable(uint64_t ino) {
  for (size_t i = 0; i < g_durable_count; ++i)
    if (g_durable[i] == ino) return true;
  return false;
}

// ---- Paths ------------------------------------------------------------

// Whether path (relative to dirfd) names an entry directly in the data
// dir; if so, copies its last component to name. Compares the parent's
// dev/ino, so relative paths, symlinked parents and "dir/./x" all count.
bool in_data_dir(int dirfd, const char* path, char* name) {
  if (path == nullptr) return false;
  size_t len = strlen(path);
  if (len == 0 || len >= PATH_MAX || path[len - 1] == '/') return false;
  const char* slash = strrchr(path, '/');
  const char* base = slash ? slash + 1 : path;
  if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) return false;
  if (strlen(base) > NAME_MAX) return false;
  struct stat st;
  int r;
  if (slash == nullptr) {
    r = dirfd == AT_FDCWD ? stat(".", &st) : fstat(dirfd, &st);
  } else {
    char parent[PATH_MAX];
    size_t n = slash == path ? 1 : static_cast<size_t>(slash - path);
    memcpy(parent, path, n);
    parent[n] = '\0';
    r = fstatat(dirfd, parent, &st, 0);
  }
  if (r != 0 || st.st_dev != g_dev || st.st_ino != g_dir_ino) return false;
  strcpy(name, base);
  return true;
}

void append_decimal(char* out, uint64_t v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  out += strlen(out);
  while (n) *out++ = digits[--n];
  *out = '\0';
}

// The inode of fd if the model tracks it. An inode the model has not seen
// (made by fopen's internal open, say) is looked up by the name the kernel
// gives the descriptor, and tracked from then on if it is in the data dir.
Inode* tracked_inode(int fd, const struct stat& st) {
  if (Inode* inode = find_inode(st.st_ino)) return inode;
  if (st.st_nlink == 0) return nullptr;
  char link[64] = "/proc/self/fd/";
  append_decimal(link, static_cast<uint64_t>(fd));
  char path[PATH_MAX];
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return nullptr;
  path[n] = '\0';
  char name[NAME_MAX + 1];
  if (!in_data_dir(AT_FDCWD, path, name)) return nullptr;
  struct stat named;
  if (stat(path, &named) != 0 || named.st_ino != st.st_ino) return nullptr;
  return track_new(st.st_ino, name);
}

// ---- Undo and stash ---------------------------------------------------

// Journals the current bytes of [begin, end) that lie inside the inode's
// durable size, read through read_fd, before a change overwrites them.
void save_undo(int read_fd, Inode* inode, uint64_t begin, uint64_t end) {
  if (end > inode->synced_size) end = inode->synced_size;
  while (begin < end) {
    uint64_t want = end - begin;
    if (want > kv::powercut::kMaxUndoBytes) want = kv::powercut::kMaxUndoBytes;
    Record r(RecordType::kUndo);
    r.u64(inode->ino);
    r.u64(begin);
    size_t header = r.size();
    char* p = r.grow(want);
    uint64_t got = 0;
    while (got < want) {
      ssize_t n =
          pread(read_fd, p + got, want - got, static_cast<off_t>(begin + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // end of file: an earlier UNDO holds the rest
      got += static_cast<uint64_t>(n);
    }
    if (got == 0) return;
    r.shrink_to(header + got);
    emit(r);
    begin += got;
  }
}

// As save_undo, reading through a fresh read-only descriptor: the caller's
// may be write-only.
void save_undo_fd(int fd, Inode* inode, uint64_t begin, uint64_t end) {
  if (begin >= end || begin >= inode->synced_size) return;
  char link[64] = "/proc/self/fd/";
  append_decimal(link, static_cast<uint64_t>(fd));
  int read_fd = static_cast<int>(
      syscall(SYS_openat, AT_FDCWD, link, O_RDONLY | O_CLOEXEC));
  if (read_fd < 0) {
    save_undo(fd, inode, begin, end);
    return;
  }
  save_undo(read_fd, inode, begin, end);
  syscall(SYS_close, read_fd);
}

void save_undo_path(int dirfd, const char* path, Inode* inode, uint64_t begin,
                    uint64_t end) {
  if (begin >= end || begin >= inode->synced_size) return;
  int read_fd = static_cast<int>(
      syscall(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (read_fd < 0) return;
  save_undo(read_fd, inode, begin, end);
  syscall(SYS_close, read_fd);
}

// Before the entry (dirfd, path), a file with stat st, loses its name: if
// its inode is named in the last durable listing, a power cut brings that
// name back, so keep the inode reachable under the stash dir.
void stash_if_durable(int dirfd, const char* path, const struct stat& st,
                      const char* name) {
  if (!is_durable(st.st_ino)) return;
  Inode* inode = find_inode(st.st_ino);
  if (inode == nullptr) inode = track_new(st.st_ino, name);
  if (inode->stashed) return;
  char target[PATH_MAX + 64];
  strcpy(target, g_stash);
  strcat(target, "/");
  append_decimal(target, g_dev);
  strcat(target, "-");
  append_decimal(target, st.st_ino);
  if (syscall(SYS_linkat, dirfd, path, AT_FDCWD, target, 0) != 0 &&
      errno != EEXIST) {
    model_error("cannot stash a durable file before it loses its name",
                strerror(errno));
    return;
  }
  inode->stashed = true;
  emit_ino(RecordType::kStash, st.st_ino);
}

// After a name of the file st was removed: an inode that no durable name
// needs and no other link keeps is gone, and its number may be reused.
void forget_if_gone(const struct stat& st) {
  Inode* inode = find_inode(st.st_ino);
  if (inode == nullptr) return;
  if (!inode->stashed && st.st_nlink <= 1) drop_inode(st.st_ino);
}

// ---- Listings and syncs -----------------------------------------------

// Calls fn(name, st) for every entry of the data dir but "." and "..",
// reading the directory with raw system calls (nothing here may recurse
// into a hook). False when the dir cannot be opened.
template <typename Fn>
bool for_each_entry(Fn&& fn) {
  int dirfd = static_cast<int>(
      syscall(SYS_openat, AT_FDCWD, g_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd < 0) return false;
  Buf dents;
  char* buf = dents.grow(32768);
  for (;;) {
    long n = syscall(SYS_getdents64, dirfd, buf, 32768);
    if (n <= 0) break;
    for (long at = 0; at < n;) {
      // struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
      uint16_t reclen;
      memcpy(&reclen, buf + at + 16, 2);
      const char* name = buf + at + 19;
      at += reclen;
      if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
      struct stat st;
      if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      fn(name, st);
    }
  }
  syscall(SYS_close, dirfd);
  return true;
}

// Journals the data dir's listing as type (BASELINE or DIRSYNC) and makes
// its files the durable set; a BASELINE's sizes are durable too.
void journal_listing(RecordType type) {
  Record r(type);
  size_t count_at = r.size();
  r.u32(0);
  uint32_t count = 0;
  g_durable_count = 0;
  size_t durable_cap = 0;
  const bool listed =
      for_each_entry([&](const char* name, const struct stat& st) {
        EntryKind kind = S_ISREG(st.st_mode)   ? EntryKind::kFile
                         : S_ISDIR(st.st_mode) ? EntryKind::kDirectory
                                               : EntryKind::kOther;
        uint64_t size = kind == EntryKind::kFile ? st.st_size : 0;
        r.u64(st.st_ino);
        r.u64(size);
        r.u8(static_cast<uint8_t>(kind));
        r.str16(name);
        ++count;
        if (kind != EntryKind::kFile) return;
        if (g_durable_count == durable_cap) {
          durable_cap = durable_cap ? 2 * durable_cap : 64;
          void* p = realloc(g_durable, durable_cap * sizeof(uint64_t));
          if (p == nullptr) fatal("out of memory");
          g_durable = static_cast<uint64_t*>(p);
        }
        g_durable[g_durable_count++] = st.st_ino;
        // The baseline's files enter the model with their size durable;
        // files it had not seen (made by fopen's internal open) enter now.
        if (type == RecordType::kBaseline)
          add_inode(st.st_ino, size, name);
        else if (find_inode(st.st_ino) == nullptr)
          track_new(st.st_ino, name);
      });
  if (!listed) {
    model_error("cannot list the data dir", strerror(errno));
    return;
  }
  memcpy(r.data() + count_at, &count, sizeof count);
  emit(r);
}

// fsync of a file the model tracks succeeded: durable up to size.
void journal_sync(Inode* inode, uint64_t size) {
  emit_ino(RecordType::kSync, inode->ino, &size);
  inode->synced_size = size;
}

// sync(2)/syncfs(2): every file in the dir is durable, and the listing.
void journal_sync_all() {
  for_each_entry([](const char* name, const struct stat& st) {
    if (!S_ISREG(st.st_mode)) return;
    Inode* inode = find_inode(st.st_ino);
    if (inode == nullptr) inode = track_new(st.st_ino, name);
    journal_sync(inode, static_cast<uint64_t>(st.st_size));
  });
  journal_listing(RecordType::kDirSync);
}

}  // namespace

// ---- Hooks: what each family of calls journals around the real call ----

namespace {

constexpr int64_t kAtPosition = -1;  // write(2): at the file position
constexpr int64_t kAtEnd = -2;       // pwritev2 with RWF_APPEND

// The write family. A write into the durable part of a tracked file first
// saves the bytes it overwrites; an append past it needs nothing, since
// the image is cut back to the durable size anyway.
template <typename Call>
ssize_t write_hook(int fd, int64_t offset, uint64_t length, Call call) {
  struct stat st;
  if (!may_enter() || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_dev != g_dev)
    return call();
  Lock lock;
  Inode* inode;
  if (!enabled() || fstat(fd, &st) != 0 ||
      (inode = tracked_inode(fd, st)) == nullptr)
    return call();
  begin_op(OpKind::kWrite, inode->name);
  int flags = fcntl(fd, F_GETFL);
  uint64_t at = static_cast<uint64_t>(offset);
  if ((flags >= 0 && (flags & O_APPEND)) || offset == kAtEnd) {
    at = static_cast<uint64_t>(st.st_size);
  } else if (offset == kAtPosition) {
    off_t position = lseek(fd, 0, SEEK_CUR);
    at = position < 0 ? 0 : static_cast<uint64_t>(position);
  }
  save_undo_fd(fd, inode, at, at + length);
  ssize_t r = call();
  KeepErrno keep;
  // O_SYNC includes O_DSYNC's bit: either makes each write durable.
  if (r > 0 && flags >= 0 && (flags & O_DSYNC) && fstat(fd, &st) == 0)
    journal_sync(inode, static_cast<uint64_t>(st.st_size));
  return r;
}

// The open family (and fopen, whose own open libc makes internally).
// fd_of maps the call's result to its descriptor.
template <typename Call, typename FdOf>
auto open_hook(int dirfd, const char* path, int flags, Call call, FdOf fd_of)
    -> decltype(call()) {
  char name[NAME_MAX + 1];
  if (!may_enter() || !in_data_dir(dirfd, path, name)) return call();
  Lock lock;
  if (!enabled()) return call();
  struct stat st;
  bool exists = fstatat(dirfd, path, &st, 0) == 0;
  bool creates = (flags & O_CREAT) && !exists;
  if (creates) {
    begin_op(OpKind::kCreate, name);
  } else if (exists && S_ISREG(st.st_mode) && (flags & O_TRUNC)) {
    Inode* inode = find_inode(st.st_ino);
    if (inode == nullptr) inode = track_new(st.st_ino, name);
    begin_op(OpKind::kTruncate, name);
    save_undo_path(dirfd, path, inode, 0, static_cast<uint64_t>(st.st_size));
  }
  auto result = call();
  KeepErrno keep;
  int fd = fd_of(result);
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_dev == g_dev) {
    Inode* inode = find_inode(st.st_ino);
    if (creates || inode == nullptr)
      track_new(st.st_ino, name);
    else
      set_name(inode, name);
  }
  return result;
}

int same_fd(int fd) { return fd; }

int stdio_open_flags(const char* mode) {
  if (mode == nullptr) return 0;
  if (mode[0] == 'w') return O_CREAT | O_TRUNC;
  if (mode[0] == 'a') return O_CREAT;
  return 0;
}

// ftruncate and fallocate: save the durable bytes from `begin` on that
// the call removes or rewrites.
template <typename Call>
int shrink_hook(int fd, OpKind kind, uint64_t begin, uint64_t end, Call call) {
  struct stat st;
  if (!may_enter() || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_dev != g_dev)
    return call();
  Lock lock;
  Inode* inode;
  if (!enabled() || (inode = tracked_inode(fd, st)) == nullptr) return call();
  begin_op(kind, inode->name);
  save_undo_fd(fd, inode, begin, end);
  return call();
}

template <typename Call>
int truncate_hook(const char* path, int64_t length, Call call) {
  char name[NAME_MAX + 1];
  if (!may_enter() || !in_data_dir(AT_FDCWD, path, name)) return call();
  Lock lock;
  struct stat st;
  if (!enabled() || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return call();
  Inode* inode = find_inode(st.st_ino);
  if (inode == nullptr) inode = track_new(st.st_ino, name);
  begin_op(OpKind::kTruncate, name);
  if (length >= 0)
    save_undo_path(AT_FDCWD, path, inode, static_cast<uint64_t>(length),
                   UINT64_MAX);
  return call();
}

// fsync and fdatasync: of a tracked file, durable up to its size now (the
// size before the call: nothing interposed can grow it while we hold the
// lock, and stdio's unseen writes after it are not promised); of the data
// dir, its listing becomes durable.
template <typename Call>
int fsync_hook(int fd, OpKind kind, Call call) {
  struct stat st;
  if (!may_enter() || fstat(fd, &st) != 0 || st.st_dev != g_dev) return call();
  if (S_ISDIR(st.st_mode)) {
    if (st.st_ino != g_dir_ino) return call();
    Lock lock;
    if (!enabled()) return call();
    begin_op(OpKind::kDirSync, ".");
    int r = call();
    KeepErrno keep;
    if (r == 0) journal_listing(RecordType::kDirSync);
    return r;
  }
  if (!S_ISREG(st.st_mode)) return call();
  Lock lock;
  Inode* inode;
  if (!enabled() || fstat(fd, &st) != 0 ||
      (inode = tracked_inode(fd, st)) == nullptr)
    return call();
  begin_op(kind, inode->name);
  int r = call();
  KeepErrno keep;
  if (r == 0) journal_sync(inode, static_cast<uint64_t>(st.st_size));
  return r;
}

// sync(2), and syncfs(2) of the data dir's filesystem.
template <typename Call>
auto sync_hook(Call call) -> decltype(call()) {
  Lock lock;
  if (!enabled()) return call();
  begin_op(OpKind::kSync, ".");
  auto r = call();
  KeepErrno keep;
  journal_sync_all();
  return r;
}

// unlink, unlinkat, remove: a durable file keeps its inode in the stash.
template <typename Call>
int unlink_hook(int dirfd, const char* path, Call call) {
  char name[NAME_MAX + 1];
  if (!may_enter() || !in_data_dir(dirfd, path, name)) return call();
  Lock lock;
  if (!enabled()) return call();
  struct stat st;
  bool file = fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
              S_ISREG(st.st_mode);
  begin_op(OpKind::kUnlink, name);
  if (file) stash_if_durable(dirfd, path, st, name);
  int r = call();
  KeepErrno keep;
  if (r == 0 && file) {
    Inode* inode = find_inode(st.st_ino);
    if (inode && strcmp(inode->name, name) == 0) inode->name[0] = '\0';
    forget_if_gone(st);
  }
  return r;
}

// After a file left the data dir (renamed out, or exchanged out).
void left_dir(const struct stat& st) {
  Inode* inode = find_inode(st.st_ino);
  if (inode == nullptr) return;
  inode->name[0] = '\0';
  forget_if_gone(st);
}

// After a file arrived under name (renamed within or into the data dir).
void arrived(const struct stat& st, const char* name) {
  Inode* inode = find_inode(st.st_ino);
  if (inode)
    set_name(inode, name);
  else
    track_new(st.st_ino, name);  // from outside: nothing of it durable here
}

// rename, renameat, renameat2. Before: stash durable inodes that lose a
// name (the one replaced at the target, one that moves out). After: the
// model follows the names.
template <typename Call>
int rename_hook(int old_dirfd, const char* old_path, int new_dirfd,
                const char* new_path, unsigned flags, Call call) {
  if (!may_enter()) return call();
  char old_name[NAME_MAX + 1] = "";
  char new_name[NAME_MAX + 1] = "";
  bool old_in = in_data_dir(old_dirfd, old_path, old_name);
  bool new_in = in_data_dir(new_dirfd, new_path, new_name);
  if (!old_in && !new_in) return call();
  Lock lock;
  if (!enabled()) return call();
  struct stat old_st;
  struct stat new_st;
  bool old_file =
      fstatat(old_dirfd, old_path, &old_st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISREG(old_st.st_mode);
  bool new_file =
      fstatat(new_dirfd, new_path, &new_st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISREG(new_st.st_mode);
  // Two names of one inode: rename(2) does nothing.
  bool same = old_file && new_file && old_st.st_ino == new_st.st_ino;
  bool exchange = flags & RENAME_EXCHANGE;
  bool replaces = new_in && new_file && !exchange && !same;
  begin_op(OpKind::kRename, old_in ? old_name : old_path,
           new_in ? new_name : new_path);
  if (replaces) stash_if_durable(new_dirfd, new_path, new_st, new_name);
  if (old_in && !new_in && old_file)
    stash_if_durable(old_dirfd, old_path, old_st, old_name);
  if (exchange && new_in && !old_in && new_file)
    stash_if_durable(new_dirfd, new_path, new_st, new_name);
  int r = call();
  KeepErrno keep;
  if (r != 0 || same) return r;
  if (replaces) forget_if_gone(new_st);
  if (old_file) {
    if (new_in)
      arrived(old_st, new_name);
    else
      left_dir(old_st);
  }
  if (exchange && new_file) {
    if (old_in)
      arrived(new_st, old_name);
    else
      left_dir(new_st);
  }
  return r;
}

uint64_t iov_bytes(const struct iovec* iov, int count) {
  uint64_t total = 0;
  for (int i = 0; iov != nullptr && i < count; ++i) total += iov[i].iov_len;
  return total;
}

int mode_wanted(int flags) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

// ---- Load ---------------------------------------------------------------

void lock_for_fork() { pthread_mutex_lock(&g_mu); }
void unlock_after_fork() { pthread_mutex_unlock(&g_mu); }

__attribute__((constructor)) void kvfault_load() {
  const char* dir = getenv("KVFAULT_DIR");
  if (dir == nullptr || dir[0] == '\0') return;
  const char* journal = getenv("KVFAULT_JOURNAL");
  const char* stash = getenv("KVFAULT_STASH");
  const char* crash_at = getenv("KVFAULT_CRASH_AT");
  if (journal == nullptr || stash == nullptr)
    fatal("KVFAULT_DIR needs KVFAULT_JOURNAL and KVFAULT_STASH");
  if (strlen(dir) >= PATH_MAX || strlen(stash) >= PATH_MAX)
    fatal("path too long", dir);
  strcpy(g_dir, dir);
  strcpy(g_stash, stash);
  if (crash_at != nullptr && crash_at[0] != '\0') {
    char* end = nullptr;
    const char* colon = strchr(crash_at, ':');
    const char* last = strrchr(crash_at, ':');
    if (colon == nullptr) {
      g_crash_at = strtoull(crash_at, &end, 10);
      if (*end != '\0') fatal("KVFAULT_CRASH_AT is not a number", crash_at);
    } else {
      // KIND:NAME:K; NAME may itself hold colons.
      g_crash_kind = static_cast<int>(strtol(crash_at, &end, 10));
      size_t name_length = static_cast<size_t>(last - colon - 1);
      if (end != colon || last == colon || name_length >= PATH_MAX)
        fatal("KVFAULT_CRASH_AT is neither N nor KIND:NAME:K", crash_at);
      memcpy(g_crash_name, colon + 1, name_length);
      g_crash_name[name_length] = '\0';
      g_crash_occurrence = strtoull(last + 1, &end, 10);
      if (*end != '\0' || g_crash_occurrence == 0)
        fatal("KVFAULT_CRASH_AT is neither N nor KIND:NAME:K", crash_at);
    }
  }
  g_journal = static_cast<int>(
      syscall(SYS_openat, AT_FDCWD, journal,
              O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (g_journal < 0) fatal("cannot open KVFAULT_JOURNAL", journal);
  // A program this one execs would start a run of its own in the journal.
  const char* ours[] = {"KVFAULT_DIR", "KVFAULT_JOURNAL", "KVFAULT_STASH",
                        "KVFAULT_CRASH_AT"};
  for (const char* v : ours) unsetenv(v);

  Lock lock;
  struct stat st;
  bool dir_ok = stat(g_dir, &st) == 0 && S_ISDIR(st.st_mode);
  Record hello(RecordType::kHello);
  hello.put(kv::powercut::kHelloMagic, sizeof kv::powercut::kHelloMagic);
  hello.u32(static_cast<uint32_t>(getpid()));
  hello.u64(dir_ok ? st.st_dev : 0);
  hello.u64(dir_ok ? st.st_ino : 0);
  emit(hello);
  if (!dir_ok) {
    model_error("KVFAULT_DIR is not a directory", g_dir);
    return;
  }
  g_dev = st.st_dev;
  g_dir_ino = st.st_ino;
  if (stat(g_stash, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_dev != g_dev) {
    model_error("KVFAULT_STASH is not a directory on the data dir's filesystem",
                g_stash);
    return;
  }
  journal_listing(RecordType::kBaseline);
  pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork);
  __atomic_store_n(&g_enabled, true, __ATOMIC_RELEASE);
}

}  // namespace

// ---- The interposed functions -------------------------------------------

KVFAULT_EXPORT int open(const char* path, int flags, ...) {
  int mode = 0;
  if (mode_wanted(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, int);
    va_end(ap);
  }
  return open_hook(
      AT_FDCWD, path, flags, [&] { return REAL(open)(path, flags, mode); },
      same_fd);
}

KVFAULT_EXPORT int open64(const char* path, int flags, ...) {
  int mode = 0;
  if (mode_wanted(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, int);
    va_end(ap);
  }
  return open_hook(
      AT_FDCWD, path, flags, [&] { return REAL(open64)(path, flags, mode); },
      same_fd);
}

KVFAULT_EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  int mode = 0;
  if (mode_wanted(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, int);
    va_end(ap);
  }
  return open_hook(
      dirfd, path, flags,
      [&] { return REAL(openat)(dirfd, path, flags, mode); }, same_fd);
}

KVFAULT_EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  int mode = 0;
  if (mode_wanted(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, int);
    va_end(ap);
  }
  return open_hook(
      dirfd, path, flags,
      [&] { return REAL(openat64)(dirfd, path, flags, mode); }, same_fd);
}

// What _FORTIFY_SOURCE builds call instead of open and openat.
KVFAULT_EXPORT int __open_2(const char* path, int flags) {
  return open_hook(
      AT_FDCWD, path, flags, [&] { return REAL(__open_2)(path, flags); },
      same_fd);
}

KVFAULT_EXPORT int __open64_2(const char* path, int flags) {
  return open_hook(
      AT_FDCWD, path, flags, [&] { return REAL(__open64_2)(path, flags); },
      same_fd);
}

KVFAULT_EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  return open_hook(
      dirfd, path, flags, [&] { return REAL(__openat_2)(dirfd, path, flags); },
      same_fd);
}

KVFAULT_EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  return open_hook(
      dirfd, path, flags,
      [&] { return REAL(__openat64_2)(dirfd, path, flags); }, same_fd);
}

KVFAULT_EXPORT int creat(const char* path, mode_t mode) {
  return open_hook(
      AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC,
      [&] { return REAL(creat)(path, mode); }, same_fd);
}

KVFAULT_EXPORT int creat64(const char* path, mode_t mode) {
  return open_hook(
      AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC,
      [&] { return REAL(creat64)(path, mode); }, same_fd);
}

KVFAULT_EXPORT FILE* fopen(const char* path, const char* mode) {
  return open_hook(
      AT_FDCWD, path, stdio_open_flags(mode),
      [&] { return REAL(fopen)(path, mode); },
      [](FILE* f) { return f ? fileno(f) : -1; });
}

KVFAULT_EXPORT FILE* fopen64(const char* path, const char* mode) {
  return open_hook(
      AT_FDCWD, path, stdio_open_flags(mode),
      [&] { return REAL(fopen64)(path, mode); },
      [](FILE* f) { return f ? fileno(f) : -1; });
}

KVFAULT_EXPORT ssize_t write(int fd, const void* buf, size_t n) {
  return write_hook(fd, kAtPosition, n,
                    [&] { return REAL(write)(fd, buf, n); });
}

KVFAULT_EXPORT ssize_t pwrite(int fd, const void* buf, size_t n, off_t at) {
  return write_hook(fd, at, n, [&] { return REAL(pwrite)(fd, buf, n, at); });
}

KVFAULT_EXPORT ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t at) {
  return write_hook(fd, at, n, [&] { return REAL(pwrite64)(fd, buf, n, at); });
}

KVFAULT_EXPORT ssize_t writev(int fd, const struct iovec* iov, int count) {
  return write_hook(fd, kAtPosition, iov_bytes(iov, count),
                    [&] { return REAL(writev)(fd, iov, count); });
}

KVFAULT_EXPORT ssize_t pwritev(int fd, const struct iovec* iov, int count,
                               off_t at) {
  return write_hook(fd, at, iov_bytes(iov, count),
                    [&] { return REAL(pwritev)(fd, iov, count, at); });
}

KVFAULT_EXPORT ssize_t pwritev64(int fd, const struct iovec* iov, int count,
                                 off64_t at) {
  return write_hook(fd, at, iov_bytes(iov, count),
                    [&] { return REAL(pwritev64)(fd, iov, count, at); });
}

KVFAULT_EXPORT ssize_t pwritev2(int fd, const struct iovec* iov, int count,
                                off_t at, int flags) {
  int64_t where = (flags & RWF_APPEND) ? kAtEnd : at == -1 ? kAtPosition : at;
  return write_hook(fd, where, iov_bytes(iov, count),
                    [&] { return REAL(pwritev2)(fd, iov, count, at, flags); });
}

KVFAULT_EXPORT ssize_t pwritev64v2(int fd, const struct iovec* iov, int count,
                                   off64_t at, int flags) {
  int64_t where = (flags & RWF_APPEND) ? kAtEnd : at == -1 ? kAtPosition : at;
  return write_hook(fd, where, iov_bytes(iov, count), [&] {
    return REAL(pwritev64v2)(fd, iov, count, at, flags);
  });
}

KVFAULT_EXPORT int ftruncate(int fd, off_t length) noexcept {
  return shrink_hook(fd, OpKind::kTruncate, static_cast<uint64_t>(length),
                     UINT64_MAX, [&] { return REAL(ftruncate)(fd, length); });
}

KVFAULT_EXPORT int ftruncate64(int fd, off64_t length) noexcept {
  return shrink_hook(fd, OpKind::kTruncate, static_cast<uint64_t>(length),
                     UINT64_MAX, [&] { return REAL(ftruncate64)(fd, length); });
}

KVFAULT_EXPORT int truncate(const char* path, off_t length) noexcept {
  return truncate_hook(path, length,
                       [&] { return REAL(truncate)(path, length); });
}

KVFAULT_EXPORT int truncate64(const char* path, off64_t length) noexcept {
  return truncate_hook(path, length,
                       [&] { return REAL(truncate64)(path, length); });
}

namespace {

// The bytes fallocate(2) with mode can change, as [begin, end).
void fallocate_range(int mode, off64_t at, off64_t length, uint64_t* begin,
                     uint64_t* end) {
  *begin = static_cast<uint64_t>(at);
  *end = *begin;
  if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
    *end = *begin + static_cast<uint64_t>(length);
  if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
    *end = UINT64_MAX;  // everything after `at` moves
}

}  // namespace

KVFAULT_EXPORT int fallocate(int fd, int mode, off_t at, off_t length) {
  uint64_t begin, end;
  fallocate_range(mode, at, length, &begin, &end);
  return shrink_hook(fd, OpKind::kFallocate, begin, end,
                     [&] { return REAL(fallocate)(fd, mode, at, length); });
}

KVFAULT_EXPORT int fallocate64(int fd, int mode, off64_t at, off64_t length) {
  uint64_t begin, end;
  fallocate_range(mode, at, length, &begin, &end);
  return shrink_hook(fd, OpKind::kFallocate, begin, end,
                     [&] { return REAL(fallocate64)(fd, mode, at, length); });
}

KVFAULT_EXPORT int fsync(int fd) {
  return fsync_hook(fd, OpKind::kFsync, [&] { return REAL(fsync)(fd); });
}

KVFAULT_EXPORT int fdatasync(int fd) {
  return fsync_hook(fd, OpKind::kFdatasync,
                    [&] { return REAL(fdatasync)(fd); });
}

KVFAULT_EXPORT void sync() noexcept {
  if (!may_enter()) return REAL(sync)();
  sync_hook([] {
    REAL(sync)();
    return 0;
  });
}

KVFAULT_EXPORT int syncfs(int fd) noexcept {
  struct stat st;
  if (!may_enter() || fstat(fd, &st) != 0 || st.st_dev != g_dev)
    return REAL(syncfs)(fd);
  return sync_hook([&] { return REAL(syncfs)(fd); });
}

KVFAULT_EXPORT int rename(const char* old_path, const char* new_path) noexcept {
  return rename_hook(AT_FDCWD, old_path, AT_FDCWD, new_path, 0,
                     [&] { return REAL(rename)(old_path, new_path); });
}

KVFAULT_EXPORT int renameat(int old_dirfd, const char* old_path, int new_dirfd,
                            const char* new_path) noexcept {
  return rename_hook(old_dirfd, old_path, new_dirfd, new_path, 0, [&] {
    return REAL(renameat)(old_dirfd, old_path, new_dirfd, new_path);
  });
}

KVFAULT_EXPORT int renameat2(int old_dirfd, const char* old_path, int new_dirfd,
                             const char* new_path, unsigned flags) noexcept {
  return rename_hook(old_dirfd, old_path, new_dirfd, new_path, flags, [&] {
    return REAL(renameat2)(old_dirfd, old_path, new_dirfd, new_path, flags);
  });
}

KVFAULT_EXPORT int unlink(const char* path) noexcept {
  return unlink_hook(AT_FDCWD, path, [&] { return REAL(unlink)(path); });
}

KVFAULT_EXPORT int unlinkat(int dirfd, const char* path, int flags) noexcept {
  return unlink_hook(dirfd, path,
                     [&] { return REAL(unlinkat)(dirfd, path, flags); });
}

KVFAULT_EXPORT int remove(const char* path) noexcept {
  return unlink_hook(AT_FDCWD, path, [&] { return REAL(remove)(path); });
}
