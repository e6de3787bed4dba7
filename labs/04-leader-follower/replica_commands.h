// The client protocol of a lab 04 node: lab 03's (inline and multibulk
// requests, lab 01's commands) with the writes going through the Node, and
// the commands of replication:
//
//   SET k v, DEL k...   on the leader: numbered, logged, streamed; replied
//                       once durable here (and, with --sync-replicas N, on
//                       N followers). On a follower:
//                       -READONLY ... send writes to the leader at H:P
//   ROLE                a bulk string, one "field:value" per line: role,
//                       history, offset, and the followers or the link
//   PROMOTE             a follower becomes the leader (manual failover)
//   FOLLOW host:port    follow the leader whose replication port that is
//
// Keys starting with "\0kvlab04:" are the node's own (position.h) and are
// refused. serve_requests is plugged into lab 01's event loop as
// ConnectionOptions::serve; it finds its Node through register_node.
#pragma once

#include <string>

#include "connection.h"  // lab 01: Served, ConnectionOptions
#include "store.h"

namespace kv::lab04 {

class Node;

// The Node whose DurableStore is store; the event loop passes us only the
// store. Register before the server starts, unregister after it stops.
void register_node(const lab01::Store& store, Node& node);
void unregister_node(const lab01::Store& store);

lab01::Served serve_requests(std::string& input, lab01::Store& store,
                             std::string& output,
                             const lab01::ConnectionOptions& options);

}  // namespace kv::lab04
