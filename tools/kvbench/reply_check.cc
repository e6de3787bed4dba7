// See reply_check.h for what each request expects.
#include "tools/kvbench/reply_check.h"

#include <fmt/format.h>

#include "tools/kvbench/value_codec.h"
#include "tools/kvbench/workload.h"

namespace kv::kvbench {
namespace {

Verdict bad(ErrorKind kind, std::string detail) {
  Verdict v;
  v.ok = false;
  v.kind = kind;
  v.detail = std::move(detail);
  return v;
}

Verdict check_get(const RequestInfo& request, const Reply& reply,
                  const CheckContext& context) {
  if (reply.type == ReplyType::kNull) {
    Verdict v;
    if (context.verify && request.seq != 0) {
      v = bad(ErrorKind::kMissingValue,
              fmt::format("(nil), but this connection wrote seq {} last",
                          request.seq));
    } else if (!context.verify && context.all_keys_written) {
      v = bad(ErrorKind::kMissingValue, "(nil) after the preload wrote it");
    }
    v.nil = true;
    return v;
  }
  if (reply.type != ReplyType::kBulk)
    return bad(ErrorKind::kUnexpectedReply,
               fmt::format("{} (want a value or nil)", describe(reply)));

  Result<ValueId> id = decode_value(reply.text, context.value_size);
  if (!id.ok())
    return bad(
        ErrorKind::kWrongValue,
        fmt::format("{}: {}", quote(reply.text, 32), id.status().message()));
  const ValueId& got = id.value();
  if (got.key != request.key)
    return bad(ErrorKind::kWrongValue,
               fmt::format("a value written for key:{} (writer {}, seq {})",
                           got.key, got.writer, got.seq));
  if (!context.verify) return Verdict();

  if (got.writer != context.connection)
    return bad(ErrorKind::kWrongValue,
               fmt::format("a value from connection {} (seq {}), but only "
                           "this connection writes this key; expected seq {}",
                           got.writer, got.seq, request.seq));
  if (got.seq == request.seq) return Verdict();
  if (got.seq < request.seq)
    return bad(ErrorKind::kStaleRead,
               fmt::format("seq {}, but seq {} was written before this GET",
                           got.seq, request.seq));
  return bad(ErrorKind::kWrongValue,
             fmt::format("seq {}, which was not written yet (expected seq {})",
                         got.seq, request.seq));
}

}  // namespace

std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kErrorReply:
      return "error_replies";
    case ErrorKind::kUnexpectedReply:
      return "unexpected_replies";
    case ErrorKind::kWrongValue:
      return "wrong_values";
    case ErrorKind::kMissingValue:
      return "missing_values";
    case ErrorKind::kStaleRead:
      return "stale_reads";
    case ErrorKind::kMalformedReply:
      return "malformed_replies";
    case ErrorKind::kConnection:
      return "connection_errors";
  }
  return "unknown";
}

Verdict check_reply(const RequestInfo& request, const Reply& reply,
                    const CheckContext& context) {
  if (reply.type == ReplyType::kError)
    return bad(ErrorKind::kErrorReply, describe(reply));
  if (request.op == Op::kGet) return check_get(request, reply, context);
  if (reply.type == ReplyType::kSimple && reply.text == "OK") return Verdict();
  return bad(ErrorKind::kUnexpectedReply,
             fmt::format("{} (want +OK)", describe(reply)));
}

}  // namespace kv::kvbench
