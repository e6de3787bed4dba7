// See powercut.h; the model is described in powercut/README.md.
#include "powercut.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <map>
#include <set>
#include <system_error>
#include <unordered_map>

#include <fmt/format.h>

#include "common/unique_fd.h"

namespace kv::grader {
namespace {

namespace fs = std::filesystem;
using powercut::EntryKind;
using powercut::RecordType;

// ---- The model: the journal folded -------------------------------------

struct InodeModel {
  uint64_t durable_size = 0;
  std::vector<const JournalRecord*> undos;  // since the last SYNC, in order
};

struct Model {
  uint64_t dev = 0;
  std::vector<JournalEntry> durable;   // the last DIRSYNC, else the BASELINE
  std::vector<FsOp> unsynced_unlinks;  // begun since that listing
  std::unordered_map<uint64_t, InodeModel> inodes;
  uint64_t ops = 0;
  std::optional<FsOp> last_op;
  std::optional<FsOp> crash_op;
};

Result<Model> fold(const Journal& journal) {
  if (journal.runs == 0)
    return Status::data_loss(
        "the power-cut journal is empty: the server died before "
        "libkvfault.so loaded, or it was not preloaded");
  Model m;
  for (const JournalRecord& r : journal.records) {
    switch (r.type) {
      case RecordType::kHello:
        m.dev = r.dir_dev;
        break;
      case RecordType::kBaseline:
        m.durable = r.listing;
        m.unsynced_unlinks.clear();
        for (const JournalEntry& e : r.listing)
          if (e.kind == EntryKind::kFile) m.inodes[e.ino] = {e.size, {}};
        break;
      case RecordType::kDirSync:
        m.durable = r.listing;
        m.unsynced_unlinks.clear();
        break;
      case RecordType::kNew:
        m.inodes[r.ino] = {};
        break;
      case RecordType::kSync:
        m.inodes[r.ino] = {r.size, {}};
        break;
      case RecordType::kUndo:
        m.inodes[r.ino].undos.push_back(&r);
        break;
      case RecordType::kOp:
        m.ops = r.op.number;
        m.last_op = r.op;
        if (r.op.kind == powercut::OpKind::kUnlink)
          m.unsynced_unlinks.push_back(r.op);
        break;
      case RecordType::kCrash:
        m.crash_op = r.op;
        break;
      case RecordType::kStash:
        break;
      case RecordType::kError:
        return Status::io_error("libkvfault.so could not keep its model: " +
                                r.bytes);
    }
  }
  return m;
}

// ---- Files ---------------------------------------------------------------

Result<std::string> read_whole(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return Status::from_errno("open " + path.string(), errno);
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::from_errno("read " + path.string(), errno);
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

Status fsync_path(const fs::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::from_errno("open " + path.string(), errno);
  if (::fsync(fd.get()) != 0)
    return Status::from_errno("fsync " + path.string(), errno);
  return Status();
}

Status write_durably(const fs::path& path, std::string_view bytes) {
  UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::from_errno("create " + path.string(), errno);
  while (!bytes.empty()) {
    ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::from_errno("write " + path.string(), errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd.get()) != 0)
    return Status::from_errno("fsync " + path.string(), errno);
  return Status();
}

// An entry of the data dir as the kill left it.
struct Found {
  fs::path path;
  uint64_t ino = 0;
  EntryKind kind = EntryKind::kOther;
};

Result<std::map<std::string, Found>> list_dir(const fs::path& dir) {
  std::map<std::string, Found> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) continue;  // raced away
    Found f{it->path(), st.st_ino,
            S_ISREG(st.st_mode)   ? EntryKind::kFile
            : S_ISDIR(st.st_mode) ? EntryKind::kDirectory
                                  : EntryKind::kOther};
    out.emplace(it->path().filename().string(), std::move(f));
  }
  if (ec)
    return Status::io_error(
        fmt::format("list {}: {}", dir.string(), ec.message()));
  return out;
}

// Where each file inode can still be read: under a current name, or under
// the stash link the interposer made before it lost its last name.
std::unordered_map<uint64_t, fs::path> inode_paths(
    const std::map<std::string, Found>& current, const fs::path& stash_dir,
    uint64_t dev) {
  std::unordered_map<uint64_t, fs::path> out;
  for (const auto& [name, f] : current)
    if (f.kind == EntryKind::kFile) out.emplace(f.ino, f.path);
  std::error_code ec;
  for (fs::directory_iterator it(stash_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();  // "<dev>-<ino>"
    size_t dash = name.find('-');
    uint64_t link_dev = 0;
    uint64_t ino = 0;
    if (dash == std::string::npos) continue;
    auto [p1, e1] = std::from_chars(name.data(), name.data() + dash, link_dev);
    auto [p2, e2] =
        std::from_chars(name.data() + dash + 1, name.data() + name.size(), ino);
    if (e1 != std::errc() || e2 != std::errc() || link_dev != dev) continue;
    out.emplace(ino, it->path());
  }
  return out;
}

// The durable contents of one inode: its current bytes with the UNDOs since
// its last SYNC applied newest first, cut to its durable size.
std::string durable_contents(std::string bytes, const InodeModel& inode) {
  for (auto it = inode.undos.rbegin(); it != inode.undos.rend(); ++it) {
    const JournalRecord& undo = **it;
    size_t end = undo.offset + undo.bytes.size();
    if (bytes.size() < end) bytes.resize(end, '\0');
    std::copy(undo.bytes.begin(), undo.bytes.end(),
              bytes.begin() + static_cast<std::ptrdiff_t>(undo.offset));
  }
  bytes.resize(inode.durable_size, '\0');
  return bytes;
}

uint64_t bytes_differing(std::string_view a, std::string_view b) {
  uint64_t n = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) n += a[i] != b[i];
  return n;
}

Status check_empty_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return Status::io_error(
        fmt::format("create {}: {}", dir.string(), ec.message()));
  if (!fs::is_empty(dir, ec) || ec)
    return Status::invalid_argument(
        fmt::format("{} is not an empty directory", dir.string()));
  return Status();
}

// One durable file of the image, and what it tells the summary.
Status restore_file(const JournalEntry& entry, const Model& model,
                    const std::map<std::string, Found>& current,
                    const std::unordered_map<uint64_t, fs::path>& paths,
                    const fs::path& out_dir, PowerCut& cut) {
  auto inode_it = model.inodes.find(entry.ino);
  InodeModel never_synced;
  const InodeModel& inode =
      inode_it != model.inodes.end() ? inode_it->second : never_synced;
  std::string bytes;
  if (inode.durable_size > 0) {
    auto where = paths.find(entry.ino);
    if (where == paths.end())
      return Status::data_loss(fmt::format(
          "power cut: the durable file '{}' (inode {}) is gone: it lost its "
          "last name through a call libkvfault.so does not see",
          entry.name, entry.ino));
    Result<std::string> now = read_whole(where->second);
    if (!now.ok()) return now.status();
    bytes = durable_contents(std::move(now).value(), inode);
  }
  auto at_kill = current.find(entry.name);
  if (at_kill == current.end() || at_kill->second.kind != EntryKind::kFile) {
    cut.came_back.push_back(entry.name);
  } else {
    Result<std::string> then = read_whole(at_kill->second.path);
    if (!then.ok()) return then.status();
    if (then.value() != bytes)
      cut.rolled_back.push_back({entry.name, then.value().size(), bytes.size(),
                                 bytes_differing(then.value(), bytes)});
  }
  return write_durably(out_dir / entry.name, bytes);
}

// A subdirectory or other entry: outside the model, copied as it is.
Status restore_other(const JournalEntry& entry,
                     const std::map<std::string, Found>& current,
                     const fs::path& out_dir, PowerCut& cut) {
  auto at_kill = current.find(entry.name);
  bool present = at_kill != current.end() && at_kill->second.kind == entry.kind;
  if (!present) cut.came_back.push_back(entry.name);
  std::error_code ec;
  fs::path target = out_dir / entry.name;
  if (entry.kind == EntryKind::kDirectory) {
    if (present)
      fs::copy(at_kill->second.path, target,
               fs::copy_options::recursive | fs::copy_options::copy_symlinks,
               ec);
    else
      fs::create_directory(target, ec);
    if (ec)
      return Status::io_error(
          fmt::format("copy {}: {}", entry.name, ec.message()));
    return sync_tree(target);
  }
  if (present && fs::is_symlink(at_kill->second.path, ec))
    fs::copy_symlink(at_kill->second.path, target, ec);
  return Status();  // fifos, sockets, devices: nothing a server keeps
}

std::string name_list(const std::vector<std::string>& names) {
  constexpr size_t kShown = 5;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kShown; ++i)
    out += (i ? ", " : "") + names[i];
  if (names.size() > kShown)
    out += fmt::format(" and {} more", names.size() - kShown);
  return out;
}

bool inside(const fs::path& dir, const fs::path& path) {
  std::error_code ec;
  fs::path d = fs::weakly_canonical(dir, ec);
  fs::path p = fs::weakly_canonical(path, ec);
  auto [d_end, p_it] = std::mismatch(d.begin(), d.end(), p.begin(), p.end());
  return d_end == d.end();
}

}  // namespace

std::string PowerCut::to_string() const {
  std::string out;
  if (crash_op)
    out = fmt::format("power cut just before op {}, {}", crash_op->number,
                      crash_op->to_string());
  else if (last_op)
    out = fmt::format("power cut after op {}, {}", last_op->number,
                      last_op->to_string());
  else
    out = "power cut before any op on the data dir";
  if (!rolled_back.empty()) {
    out += "; rolled back: ";
    constexpr size_t kShown = 5;
    for (size_t i = 0; i < rolled_back.size() && i < kShown; ++i) {
      const FileRollback& f = rolled_back[i];
      out += fmt::format("{}{} {} -> {} bytes", i ? ", " : "", f.name,
                         f.size_at_kill, f.durable_size);
      if (f.bytes_rewritten)
        out += fmt::format(" ({} rewritten)", f.bytes_rewritten);
    }
    if (rolled_back.size() > kShown)
      out += fmt::format(" and {} more", rolled_back.size() - kShown);
  }
  if (!vanished.empty()) out += "; vanished: " + name_list(vanished);
  if (!came_back.empty()) out += "; came back: " + name_list(came_back);
  if (rolled_back.empty() && vanished.empty() && came_back.empty())
    out += "; nothing was lost";
  return out;
}

Result<fs::path> kvfault_library() {
  std::error_code ec;
  if (const char* env = std::getenv("KVFAULT_LIBRARY"); env && *env) {
    if (fs::exists(env, ec)) return fs::absolute(env, ec);
    return Status::not_found(
        fmt::format("KVFAULT_LIBRARY={} does not exist", env));
  }
  fs::path beside =
      fs::read_symlink("/proc/self/exe", ec).parent_path() / "libkvfault.so";
  if (!ec && fs::exists(beside, ec)) return beside;
  fs::path built = KVLAB_KVFAULT_LIBRARY;
  if (fs::exists(built, ec)) return built;
  return Status::not_found(fmt::format(
      "libkvfault.so is neither beside this binary nor at {}: build the "
      "kvfault target",
      built.string()));
}

Status sync_tree(const fs::path& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    fs::file_status s = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_regular_file(s)) {
      if (Status st = fsync_path(it->path(), 0); !st.ok()) return st;
    } else if (fs::is_directory(s)) {
      if (Status st = fsync_path(it->path(), O_DIRECTORY); !st.ok()) return st;
    }
  }
  if (ec)
    return Status::io_error(
        fmt::format("sync {}: {}", dir.string(), ec.message()));
  return fsync_path(dir, O_DIRECTORY);
}

CrashPoint crash_point_of(const std::vector<FsOp>& ops, size_t index) {
  CrashPoint point{ops[index].kind, ops[index].name, 0};
  for (size_t i = 0; i <= index; ++i)
    if (ops[i].kind == point.kind && ops[i].name == point.name)
      ++point.occurrence;
  return point;
}

std::string CrashPoint::to_string() const {
  const char* suffix = occurrence % 10 == 1 && occurrence % 100 != 11   ? "st"
                       : occurrence % 10 == 2 && occurrence % 100 != 12 ? "nd"
                       : occurrence % 10 == 3 && occurrence % 100 != 13 ? "rd"
                                                                        : "th";
  FsOp op;
  op.kind = kind;
  op.name = name;
  op.new_name = "...";
  return fmt::format("the {}{} {}", occurrence, suffix, op.to_string());
}

Result<std::vector<std::string>> prepare_power_cut(const PowerCutFiles& files,
                                                   const CrashPoint& point) {
  Result<std::vector<std::string>> env = prepare_power_cut(files);
  if (!env.ok()) return env;
  env.value().push_back(fmt::format("KVFAULT_CRASH_AT={}:{}:{}",
                                    static_cast<int>(point.kind), point.name,
                                    point.occurrence));
  return env;
}

Result<std::vector<std::string>> prepare_power_cut(
    const PowerCutFiles& files, std::optional<uint64_t> crash_at) {
  Result<fs::path> library = kvfault_library();
  if (!library.ok()) return library.status();
  std::error_code ec;
  if (!fs::is_directory(files.data_dir, ec))
    return Status::invalid_argument(fmt::format(
        "power cut: data dir {} does not exist", files.data_dir.string()));
  // The stash is emptied below: it must not hold the data dir either.
  if (inside(files.data_dir, files.journal) ||
      inside(files.data_dir, files.stash_dir) ||
      inside(files.stash_dir, files.data_dir))
    return Status::invalid_argument(
        "power cut: the data dir, the journal and the stash must be apart");
  // Stash links from an earlier run would keep old inodes alive for nothing.
  fs::remove_all(files.stash_dir, ec);
  fs::create_directories(files.stash_dir, ec);
  if (ec)
    return Status::io_error(
        fmt::format("create {}: {}", files.stash_dir.string(), ec.message()));
  struct stat data_st;
  struct stat stash_st;
  if (::stat(files.data_dir.c_str(), &data_st) != 0 ||
      ::stat(files.stash_dir.c_str(), &stash_st) != 0 ||
      data_st.st_dev != stash_st.st_dev)
    return Status::invalid_argument(fmt::format(
        "power cut: the stash {} must be on the data dir's filesystem",
        files.stash_dir.string()));
  fs::remove(files.journal, ec);
  if (Status s = sync_tree(files.data_dir); !s.ok()) return s;

  std::vector<std::string> env;
  const char* preload = std::getenv("LD_PRELOAD");
  env.push_back("LD_PRELOAD=" + library.value().string() +
                (preload && *preload ? std::string(":") + preload : ""));
  env.push_back("KVFAULT_DIR=" + fs::absolute(files.data_dir).string());
  env.push_back("KVFAULT_JOURNAL=" + fs::absolute(files.journal).string());
  env.push_back("KVFAULT_STASH=" + fs::absolute(files.stash_dir).string());
  if (crash_at) env.push_back(fmt::format("KVFAULT_CRASH_AT={}", *crash_at));
  const char* asan = std::getenv("ASAN_OPTIONS");
  env.push_back(std::string("ASAN_OPTIONS=") +
                (asan && *asan ? std::string(asan) + ":" : "") +
                "verify_asan_link_order=0");
  return env;
}

Result<PowerCut> power_cut_image(const fs::path& journal,
                                 const fs::path& data_dir,
                                 const fs::path& stash_dir,
                                 const fs::path& out_dir, UnsyncedNames names) {
  Result<Journal> parsed = read_journal(journal);
  if (!parsed.ok()) return parsed.status();
  Result<Model> folded = fold(parsed.value());
  if (!folded.ok()) return folded.status();
  const Model& model = folded.value();
  Result<std::map<std::string, Found>> listed = list_dir(data_dir);
  if (!listed.ok()) return listed.status();
  const std::map<std::string, Found>& current = listed.value();
  if (Status s = check_empty_dir(out_dir); !s.ok()) return s;
  std::unordered_map<uint64_t, fs::path> paths =
      inode_paths(current, stash_dir, model.dev);

  PowerCut cut;
  cut.ops = model.ops;
  cut.last_op = model.last_op;
  cut.crash_op = model.crash_op;
  std::vector<JournalEntry> durable = model.durable;
  if (names == UnsyncedNames::kRemovalsKept) {
    // Only removals that really happened: an OP record is written before
    // its call, which a SIGKILL may have prevented, and a name removed and
    // made again since is not gone.
    for (const FsOp& op : model.unsynced_unlinks)
      if (!current.count(op.name))
        std::erase_if(durable, [&](const JournalEntry& entry) {
          return entry.name == op.name;
        });
  }
  std::set<std::string> durable_names;
  for (const JournalEntry& entry : durable) {
    durable_names.insert(entry.name);
    Status s = entry.kind == EntryKind::kFile
                   ? restore_file(entry, model, current, paths, out_dir, cut)
                   : restore_other(entry, current, out_dir, cut);
    if (!s.ok()) return s;
  }
  for (const auto& [name, found] : current)
    if (!durable_names.count(name)) cut.vanished.push_back(name);
  if (Status s = fsync_path(out_dir, O_DIRECTORY); !s.ok()) return s;
  return cut;
}

Result<PowerCut> power_cut_image(const PowerCutFiles& files,
                                 const fs::path& out_dir, UnsyncedNames names) {
  return power_cut_image(files.journal, files.data_dir, files.stash_dir,
                         out_dir, names);
}

Result<std::vector<FsOp>> journal_ops(const fs::path& journal) {
  Result<Journal> parsed = read_journal(journal);
  if (!parsed.ok()) return parsed.status();
  std::vector<FsOp> ops;
  for (const JournalRecord& r : parsed.value().records)
    if (r.type == RecordType::kOp) ops.push_back(r.op);
  return ops;
}

}  // namespace kv::grader
