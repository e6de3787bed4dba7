// See node.h.
#include "node.h"

#include <algorithm>
#include <random>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/check.h"
#include "common/not_implemented.h"
#include "follower_link.h"
#include "leader_link.h"

namespace kv::lab04 {
namespace {

HistoryId new_history() {
  std::random_device device;
  std::mt19937_64 rng((uint64_t{device()} << 32) | device());
  HistoryId id = kNoHistory;
  while (id == kNoHistory) id = rng();
  return id;
}

Position stored_position(const lab02::DurableStore& store,
                         std::string_view key) {
  std::optional<std::string> text = store.get(key);
  if (!text) return {};
  std::optional<Position> position = decode_position(*text);
  // Written only by this lab; anything else is damage the log's checksums
  // did not catch. Starting over with a full sync is safe.
  if (!position) {
    spdlog::warn(
        "replication position '{}' does not parse; starting as a "
        "node with no history",
        *text);
    return {};
  }
  return *position;
}

}  // namespace

Node::Node(const NodeOptions& options, lab02::DurableStore& store)
    : options_(options),
      store_(store),
      role_(options.role),
      backlog_(0, options.backlog_bytes) {}

Result<std::unique_ptr<Node>> Node::start(const NodeOptions& options,
                                          lab02::DurableStore& store) {
  std::unique_ptr<Node> node(new Node(options, store));
  {
    std::lock_guard lock(node->mu_);
    node->position_ = stored_position(store, kPositionKey);
    node->previous_ = stored_position(store, kPreviousKey);
    if (node->role_ == Role::kLeader) {
      // Every start as leader begins a history of its own, continuing the
      // offsets. Keeping the stored one would let two nodes number
      // different writes alike: a follower restarted with --role leader
      // takes writes as offsets its old leader also used, and a FOLLOW
      // between them would CONTINUE over the difference. The stored
      // history becomes the previous one: its followers, up to here, still
      // continue.
      if (node->position_.history != kNoHistory) {
        node->previous_ = node->position_;
        store.set(std::string(kPreviousKey), encode_position(node->previous_));
      }
      node->position_.history = new_history();
      node->persist_position_locked();
    }
    node->backlog_.reset(node->position_.offset);
  }
  store.wait_durable();
  Result<std::unique_ptr<LeaderLink>> link =
      LeaderLink::start(*node, options.repl_listen);
  if (!link.ok()) return link.status();
  node->leader_link_ = std::move(link).value();
  spdlog::info("{} at {}; followers connect to {}",
               options.role == Role::kLeader ? "leader" : "follower",
               node->position().to_string(),
               node->leader_link_->address().to_string());
  if (options.role == Role::kFollower) {
    std::lock_guard lock(node->role_change_mu_);
    node->start_following(options.leader);
  }
  return node;
}

Node::~Node() { stop(); }

void Node::stop() {
  std::lock_guard change(role_change_mu_);
  if (stopped_) return;
  stopped_ = true;
  stop_following();
  {
    std::lock_guard lock(mu_);
    ++epoch_;
  }
  new_write_.notify_all();
  acked_.notify_all();
  if (leader_link_) leader_link_->stop();
}

HostPort Node::repl_address() const { return leader_link_->address(); }

Role Node::role() const {
  std::lock_guard lock(mu_);
  return role_;
}

Position Node::position() const {
  std::lock_guard lock(mu_);
  return position_;
}

void Node::persist_position_locked() {
  store_.set(std::string(kPositionKey), encode_position(position_));
}

size_t Node::streaming_followers_locked() const {
  return std::count_if(followers_.begin(), followers_.end(),
                       [](const auto& f) { return f.second.streaming; });
}

// ---------------------------------------------------------------------
// Client writes on the leader.

std::string Node::refusal_locked() const {
  if (role_ != Role::kLeader) {
    if (leader_client_address_.empty())
      return "READONLY this node is a follower; its leader is not known yet";
    return fmt::format(
        "READONLY this node is a follower: send writes to the leader at {}",
        leader_client_address_);
  }
  // Semi-sync refuses up front when it cannot succeed, so that the client
  // knows the write did not happen anywhere.
  if (size_t have = streaming_followers_locked(); have < options_.sync_replicas)
    return fmt::format(
        "NOREPLICAS {} of the {} followers this write must reach are "
        "connected (--sync-replicas {}); nothing was written",
        have, options_.sync_replicas, options_.sync_replicas);
  return "";
}

WriteOutcome Node::set(std::string key, std::string value) {
  // LAB04 BEGIN: Node::set — refuse or number it, log it, keep it, notify
  std::lock_guard lock(mu_);
  if (std::string refusal = refusal_locked(); !refusal.empty())
    return {std::move(refusal), 0};
  const uint64_t offset = position_.offset + 1;
  position_.offset = offset;
  // The position goes to the log before the write it counts. A power cut
  // can tear the log between the two: then we recover knowing offset n
  // without write n, and a follower at n - 1 gets a full sync. The other
  // order would leave write n here and on no follower, for ever.
  persist_position_locked();
  store_.set(key, value);
  backlog_.append(
      Write{offset, Write::Op::kSet, std::move(key), std::move(value)});
  new_write_.notify_all();
  return {"", offset};
  // LAB04 END
}

WriteOutcome Node::del(std::string_view key) {
  std::lock_guard lock(mu_);
  if (std::string refusal = refusal_locked(); !refusal.empty())
    return {std::move(refusal), 0};
  // A DEL of a missing key changes nothing and is not numbered, as lab 02
  // logs nothing for it.
  if (!store_.contains(key)) return {"", 0};
  const uint64_t offset = position_.offset + 1;
  position_.offset = offset;
  persist_position_locked();
  store_.erase(key);
  backlog_.append(Write{offset, Write::Op::kDel, std::string(key), ""});
  new_write_.notify_all();
  return {"", offset};
}

std::optional<std::string> Node::wait_replicated(uint64_t offset) {
  // LAB04 BEGIN: Node::wait_replicated — wait for N durable ACKs, bounded
  if (options_.sync_replicas == 0 || offset == 0) return std::nullopt;
  const auto deadline =
      std::chrono::steady_clock::now() + options_.sync_timeout;
  std::unique_lock lock(mu_);
  auto confirmed = [&] {
    return static_cast<size_t>(
        std::count_if(followers_.begin(), followers_.end(),
                      [&](const auto& f) { return f.second.acked >= offset; }));
  };
  if (acked_.wait_until(lock, deadline,
                        [&] {
                          return confirmed() >= options_.sync_replicas ||
                                 role_ != Role::kLeader;
                        }) &&
      role_ == Role::kLeader)
    return std::nullopt;
  return fmt::format(
      "TIMEOUT the write is durable on the leader but only {} of the {} "
      "followers confirmed it within {} ms; it may be lost if the leader "
      "fails now",
      confirmed(), options_.sync_replicas, options_.sync_timeout.count());
  // LAB04 END
}

// ---------------------------------------------------------------------
// The leader's side of a follower's session (LeaderLink).

Handshake Node::handshake(const Position& follower, std::string peer) {
  Handshake h;
  std::lock_guard lock(mu_);
  h.epoch = epoch_;
  if (role_ != Role::kLeader) {
    h.refused = leader_client_address_.empty()
                    ? "this node is a follower"
                    : fmt::format("this node is a follower of {}",
                                  leader_client_address_);
    return h;
  }
  h.leader_address = options_.advertise;
  h.plan = plan_sync(LeaderView{position_, previous_, backlog_.first_offset()},
                     follower);
  if (h.plan.kind == SyncPlan::Kind::kContinue) {
    h.from = Position{position_.history, follower.offset};
    ++continues_served_;
  } else {
    // A consistent cut: no write can come between this copy and the
    // offset it is taken at, since both happen under mu_.
    h.from = position_;
    for (auto& [key, value] : store_.entries())
      if (!is_reserved_key(key)) h.snapshot.emplace_back(key, value);
    ++full_syncs_served_;
  }
  h.follower_id = next_follower_id_++;
  // A follower sent the whole state holds none of our writes until it
  // ACKs them: its own offset counts another history's writes, or writes
  // past ours, and counting it would confirm semi-sync writes it never got.
  const uint64_t acked =
      h.plan.kind == SyncPlan::Kind::kContinue ? follower.offset : 0;
  followers_[h.follower_id] = Follower{std::move(peer), acked, false};
  return h;
}

Node::Next Node::next_writes(uint64_t from, uint64_t epoch,
                             std::stop_token stop, std::vector<Write>& out) {
  constexpr size_t kBatchBytes = 256 << 10;
  std::unique_lock lock(mu_);
  new_write_.wait_for(lock, stop, options_.heartbeat, [&] {
    return epoch_ != epoch || backlog_.last_offset() >= from;
  });
  if (stop.stop_requested() || epoch_ != epoch) return Next::kEnded;
  if (backlog_.last_offset() < from) return Next::kIdle;
  if (!backlog_.copy_from(from, kBatchBytes, out)) return Next::kFellBehind;
  return Next::kWrites;
}

void Node::follower_streaming(uint64_t follower_id) {
  {
    std::lock_guard lock(mu_);
    auto it = followers_.find(follower_id);
    if (it != followers_.end()) it->second.streaming = true;
  }
  acked_.notify_all();
}

void Node::follower_acked(uint64_t follower_id, uint64_t offset) {
  {
    std::lock_guard lock(mu_);
    auto it = followers_.find(follower_id);
    if (it == followers_.end()) return;
    // A follower never unlearns a write; an ACK below an earlier one is a
    // bug of the follower's, and must not make us wait for it again.
    it->second.acked = std::max(it->second.acked, offset);
  }
  acked_.notify_all();
}

void Node::follower_gone(uint64_t follower_id) {
  {
    std::lock_guard lock(mu_);
    followers_.erase(follower_id);
  }
  acked_.notify_all();
}

// ---------------------------------------------------------------------
// The follower's side (FollowerLink).

Status Node::on_continue(const ContinueMsg& message) {
  std::lock_guard lock(mu_);
  if (message.position.offset != position_.offset)
    return Status::invalid_argument(fmt::format(
        "the leader continues from offset {}, but this follower is at {}",
        message.position.offset, position_.offset));
  leader_client_address_ = message.leader_address;
  ++continues_;
  if (position_.history != message.position.history) {
    // The leader was promoted from the history we hold, and our writes
    // are all in its history too: from now on we are on its history.
    position_.history = message.position.history;
    persist_position_locked();
  }
  return Status::ok_status();
}

Status Node::apply_full_sync(
    const Position& at, std::string leader_address,
    const std::vector<std::pair<std::string, std::string>>& entries) {
  // LAB04 BEGIN: Node::apply_full_sync — mark, replace, then the position
  {
    std::lock_guard lock(mu_);
    leader_client_address_ = std::move(leader_address);
    ++full_syncs_;
    if (position_.offset > 0 || position_.history != kNoHistory)
      spdlog::warn(
          "full sync: replacing this node's state at {} with the "
          "leader's at {}",
          position_.to_string(), at.to_string());
    // First, in the log before any data changes: "no history". A crash in
    // the middle of the replacement leaves a mix of old and new data, and
    // this makes the next handshake a full sync again, never a CONTINUE
    // from the old offset over the mix.
    position_ = Position{};
    persist_position_locked();
    std::unordered_map<std::string_view, std::string_view> wanted;
    for (const auto& [key, value] : entries) wanted[key] = value;
    for (const auto& [key, value] : store_.entries()) {
      if (is_reserved_key(key)) continue;
      auto it = wanted.find(key);
      if (it == wanted.end()) store_.erase(key);
    }
    for (const auto& [key, value] : entries) {
      std::optional<std::string> have = store_.get(key);
      if (!have || *have != value) store_.set(key, value);
    }
    position_ = at;
    persist_position_locked();
  }
  store_.wait_durable();
  return Status::ok_status();
  // LAB04 END
}

Status Node::apply_stream(const std::vector<Write>& writes) {
  // LAB04 BEGIN: Node::apply_stream — check, apply in order, position, sync
  {
    std::lock_guard lock(mu_);
    for (const Write& write : writes) {
      if (write.offset != position_.offset + 1) {
        // A gap (or a repeat) means this link lost or reordered bytes:
        // applying past it would leave a write out for ever.
        persist_position_locked();
        return Status::invalid_argument(
            fmt::format("the stream jumped from offset {} to {}",
                        position_.offset, write.offset));
      }
      if (write.op == Write::Op::kSet)
        store_.set(write.key, write.value);
      else
        store_.erase(write.key);
      position_.offset = write.offset;
    }
    // After the data, in the same log: a crash between them makes us
    // recover an older offset and receive those writes again, which ends
    // in the same state, since a suffix of writes applied in order
    // overwrites whatever an earlier copy of it left.
    persist_position_locked();
  }
  store_.wait_durable();
  return Status::ok_status();
  // LAB04 END
}

void Node::set_link_state(std::string state) {
  std::lock_guard lock(mu_);
  link_state_ = std::move(state);
}

// ---------------------------------------------------------------------
// Role changes.

void Node::start_following(const HostPort& leader) {
  {
    std::lock_guard lock(mu_);
    leader_ = leader;
    link_state_ = "connecting";
  }
  follower_link_ = std::make_unique<FollowerLink>(*this, leader);
}

void Node::stop_following() {
  if (follower_link_) follower_link_->stop();
  follower_link_.reset();
}

Status Node::promote() {
  std::lock_guard change(role_change_mu_);
  if (stopped_) return Status::unavailable("stopping");
  if (role() == Role::kLeader)
    return Status::invalid_argument("this node is the leader already");
  stop_following();
  {
    std::lock_guard lock(mu_);
    // Writes up to here are the old history's, and ours; the offsets go on
    // from here in a history of our own.
    previous_ = position_;
    position_.history = new_history();
    store_.set(std::string(kPreviousKey), encode_position(previous_));
    persist_position_locked();
    backlog_.reset(position_.offset);
    role_ = Role::kLeader;
    ++epoch_;
    leader_client_address_.clear();
    link_state_ = "down";
    spdlog::warn(
        "promoted: leader of history {} from offset {} (was "
        "following {} at {})",
        history_hex(position_.history), position_.offset, leader_.to_string(),
        previous_.to_string());
  }
  store_.wait_durable();
  new_write_.notify_all();
  return Status::ok_status();
}

Status Node::follow(const HostPort& leader) {
  std::lock_guard change(role_change_mu_);
  if (stopped_) return Status::unavailable("stopping");
  if (leader.to_string() == leader_link_->address().to_string())
    return Status::invalid_argument(
        "that is this node's own replication port: a node cannot follow "
        "itself");
  stop_following();
  {
    std::lock_guard lock(mu_);
    if (role_ == Role::kLeader)
      spdlog::warn(
          "demoted: following {}; writes past what that leader "
          "holds will be discarded",
          leader.to_string());
    role_ = Role::kFollower;
    ++epoch_;  // ends every follower session of ours
    leader_client_address_.clear();
  }
  new_write_.notify_all();
  acked_.notify_all();
  start_following(leader);
  return Status::ok_status();
}

std::string Node::describe() const {
  std::lock_guard lock(mu_);
  std::string out;
  auto line = [&](std::string_view field, const auto& value) {
    fmt::format_to(std::back_inserter(out), "{}:{}\n", field, value);
  };
  line("role", role_ == Role::kLeader ? "leader" : "follower");
  line("history", history_hex(position_.history));
  line("offset", position_.offset);
  if (previous_.history != kNoHistory) line("previous", previous_.to_string());
  line("repl_listen", leader_link_ ? leader_link_->address().to_string() : "");
  if (role_ == Role::kLeader) {
    line("sync_replicas", options_.sync_replicas);
    line("backlog_first", backlog_.first_offset());
    line("backlog_bytes", backlog_.bytes());
    line("full_syncs_served", full_syncs_served_);
    line("continues_served", continues_served_);
    line("followers", followers_.size());
    for (const auto& [id, f] : followers_)
      line(fmt::format("follower{}", id),
           fmt::format("{} acked={} state={}", f.peer, f.acked,
                       f.streaming ? "streaming" : "syncing"));
  } else {
    line("leader", leader_.to_string());
    line("leader_client",
         leader_client_address_.empty() ? "unknown" : leader_client_address_);
    line("link", link_state_);
    line("full_syncs", full_syncs_);
    line("continues", continues_);
  }
  return out;
}

}  // namespace kv::lab04
