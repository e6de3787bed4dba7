// Termination signals for servers, handled synchronously: main blocks
// SIGTERM and SIGINT before starting any thread (threads inherit the mask),
// then waits for one with sigwait and runs an orderly stop. No async signal
// handler runs, so the stop path may lock, log and join like any code.
#pragma once

namespace kv {

// Call first in main, before any thread starts. Also ignores SIGPIPE, so a
// peer that closed its socket is an EPIPE error, not a dead server.
void block_termination_signals();

// Blocks until SIGTERM or SIGINT arrives; returns which.
int wait_for_termination_signal();

}  // namespace kv
