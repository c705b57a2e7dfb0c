// Writes canonical JSON (the bytes CanonicalJson produces) directly, for evidence records on the
// hot path. The caller writes object keys in sorted order; the writer handles separators and
// string escaping. Tests compare its output with CanonicalJson of the same record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace arbiter::routing::internal {

// Appends `s` as a JSON string (quoted, escaped as CanonicalJson does) to `out`. Strings with
// nothing to escape, the usual case, are copied in one piece.
void AppendCanonicalString(std::string_view s, std::string& out);
// Appends the decimal digits of `n`.
void AppendInt(std::int64_t n, std::string& out);

// Appends to a std::string through a raw pointer, growing it geometrically: each piece is one
// bounds check and one copy (no per-append capacity logic). Finish() trims the string to what was
// written; the string must not be touched otherwise before that.
//
// Scratch mode (kOverwrite) writes from the start of `out` over whatever it held and never trims
// it: View() is what was written. A buffer reused this way is resized only when it is too small,
// so a hot path that writes one record per call allocates (and zero-fills) nothing once warm.
class Appender {
 public:
  enum Mode { kAppend, kOverwrite };
  Appender(std::string& out, size_t expected, Mode mode = kAppend);
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  void Text(std::string_view s) {
    char* p = Room(s.size());
    if (!s.empty()) __builtin_memcpy(p, s.data(), s.size());
    at_ += s.size();
  }
  void Char(char c) {
    *Room(1) = c;
    ++at_;
  }
  // `s` as a JSON string, escaped as CanonicalJson does.
  void String(std::string_view s);
  void Int(std::int64_t n);
  // Space for `n` bytes the caller fills at the returned pointer, then Advance(n).
  char* Room(size_t n) {
    if (out_.size() - at_ < n) Grow(n);
    return out_.data() + at_;
  }
  void Advance(size_t n) { at_ += n; }
  void Finish() { out_.resize(at_); }
  // What was written (kOverwrite: from the start of the buffer); valid until the next write.
  std::string_view View() const { return {out_.data() + start_, at_ - start_}; }

 private:
  void Grow(size_t n);
  std::string& out_;
  size_t start_;
  size_t at_;
};

class CanonicalWriter {
 public:
  explicit CanonicalWriter(std::string& out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key);
  void String(std::string_view s);
  void Int(std::int64_t n);
  void Bool(bool b);
  void Null();
  // A value that is already canonical JSON.
  void Raw(std::string_view json);
  // A string whose characters need no escaping (e.g. hex), appended by `fill(out)`.
  template <typename Fn>
  void UnescapedString(Fn&& fill) {
    Separate();
    out_ += '"';
    fill(out_);
    out_ += '"';
  }

 private:
  void Separate();
  void Open(char c);
  void Close(char c);
  std::string& out_;
  // Bit d: the container open at depth d has no element yet (records nest a few levels deep;
  // deeper than 64 is a programming error and aborts).
  std::uint64_t first_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace arbiter::routing::internal
