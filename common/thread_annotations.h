// Clang thread-safety annotations: KV_GUARDED_BY(mu) on a member says which
// lock protects it; KV_REQUIRES(mu) on a helper says the caller holds it.
// They document locking for readers and, under clang -Wthread-safety, are
// checked; under GCC they expand to nothing.
#pragma once

#if defined(__clang__)
#define KV_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define KV_THREAD_ANNOTATION(x)
#endif

#define KV_GUARDED_BY(x) KV_THREAD_ANNOTATION(guarded_by(x))
#define KV_PT_GUARDED_BY(x) KV_THREAD_ANNOTATION(pt_guarded_by(x))
#define KV_REQUIRES(...) KV_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define KV_REQUIRES_SHARED(...) \
  KV_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define KV_EXCLUDES(...) KV_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
