#include "arbiter/routing/internal/canonical_writer.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "arbiter/common/json.h"

namespace arbiter::routing::internal {

namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighs = 0x8080808080808080ull;

// Whether any byte of `v` is zero.
constexpr std::uint64_t HasZero(std::uint64_t v) { return (v - kOnes) & ~v & kHighs; }

// True when no character of `s` is escaped in JSON (printable ASCII other than `"` and `\`).
// Eight bytes at a time: a byte below 0x20, at or above 0x7f, `"` or `\` fails.
bool NeedsNoEscape(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    const std::uint64_t low = (v - 0x20 * kOnes) & ~v & kHighs;  // a byte < 0x20 (or >= 0x80)
    const std::uint64_t high = (v | (v + kOnes)) & kHighs;       // a byte >= 0x7f
    if ((low | high | HasZero(v ^ (0x22 * kOnes)) | HasZero(v ^ (0x5c * kOnes))) != 0) {
      return false;
    }
    p += 8;
    n -= 8;
  }
  for (; n > 0; ++p, --n) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

void AppendString(std::string_view s, std::string& out) {
  if (NeedsNoEscape(s)) {
    const size_t at = out.size();
    out.append(s.size() + 2, '"');
    if (!s.empty()) std::memcpy(out.data() + at + 1, s.data(), s.size());
  } else {
    AppendJsonString(s, out);
  }
}

}  // namespace

void AppendCanonicalString(std::string_view s, std::string& out) { AppendString(s, out); }

Appender::Appender(std::string& out, size_t expected, Mode mode)
    : out_(out), start_(mode == kOverwrite ? 0 : out.size()), at_(start_) {
  if (out_.size() < at_ + expected) out_.resize(at_ + expected);
}

void Appender::Grow(size_t n) { out_.resize(std::max(2 * out_.size(), at_ + n)); }

void Appender::String(std::string_view s) {
  if (NeedsNoEscape(s)) {
    char* p = Room(s.size() + 2);
    p[0] = '"';
    if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    at_ += s.size() + 2;
  } else {
    std::string escaped;
    AppendJsonString(s, escaped);
    Text(escaped);
  }
}

void Appender::Int(std::int64_t n) {
  char* p = Room(20);  // -9223372036854775808
  auto [end, ec] = std::to_chars(p, p + 20, n);
  (void)ec;
  at_ += static_cast<size_t>(end - p);
}

void AppendInt(std::int64_t n, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
  (void)ec;
  out.append(buf, end);
}

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
  AppendInt(n, out_);
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
