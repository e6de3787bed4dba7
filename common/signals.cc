// See signals.h.
#include "common/signals.h"

#include <pthread.h>
#include <signal.h>

#include "common/check.h"

namespace kv {
namespace {
sigset_t termination_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}
}  // namespace

void block_termination_signals() {
  sigset_t set = termination_set();
  KV_CHECK(pthread_sigmask(SIG_BLOCK, &set, nullptr) == 0, "pthread_sigmask");
  ::signal(SIGPIPE, SIG_IGN);
}

int wait_for_termination_signal() {
  sigset_t set = termination_set();
  int signal_number = 0;
  KV_CHECK(sigwait(&set, &signal_number) == 0, "sigwait");
  return signal_number;
}

}  // namespace kv
