#include "arbiter/routing/internal/canonical_writer.h"

#include <charconv>
#include <cstdlib>

#include "arbiter/common/json.h"

namespace arbiter::routing::internal {

namespace {

// True when no character of `s` is escaped in JSON (printable ASCII other than `"` and `\`).
bool NeedsNoEscape(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

void AppendString(std::string_view s, std::string& out) {
  if (NeedsNoEscape(s)) {
    out += '"';
    out += s;
    out += '"';
  } else {
    AppendJsonString(s, out);
  }
}

}  // namespace

void CanonicalWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ > 0) {
    const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
    if ((first_ & bit) == 0) out_ += ',';
    first_ &= ~bit;
  }
}

void CanonicalWriter::Open(char c) {
  Separate();
  out_ += c;
  if (depth_ == 64) std::abort();
  first_ |= std::uint64_t{1} << depth_;
  ++depth_;
}

void CanonicalWriter::Close(char c) {
  out_ += c;
  --depth_;
}

void CanonicalWriter::Key(std::string_view key) {
  Separate();
  AppendString(key, out_);
  out_ += ':';
  after_key_ = true;
}

void CanonicalWriter::String(std::string_view s) {
  Separate();
  AppendString(s, out_);
}

void CanonicalWriter::Int(std::int64_t n) {
  Separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
  (void)ec;
  out_.append(buf, end);
}

void CanonicalWriter::Bool(bool b) {
  Separate();
  out_ += b ? "true" : "false";
}

void CanonicalWriter::Null() {
  Separate();
  out_ += "null";
}

void CanonicalWriter::Raw(std::string_view json) {
  Separate();
  out_ += json;
}

}  // namespace arbiter::routing::internal
