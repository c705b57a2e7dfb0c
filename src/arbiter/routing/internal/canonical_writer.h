// Writes canonical JSON (the bytes CanonicalJson produces) directly, for evidence records on the
// hot path. The caller writes object keys in sorted order; the writer handles separators and
// string escaping. Tests compare its output with CanonicalJson of the same record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace arbiter::routing::internal {

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
