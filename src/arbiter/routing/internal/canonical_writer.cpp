#include "arbiter/routing/internal/canonical_writer.h"

#include <charconv>

namespace arbiter::routing::internal {
namespace {

// Boost.JSON's minimal escapes, as CanonicalJson writes them.
void Escape(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto ch = static_cast<unsigned char>(s[i]);
    if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out += '\\';
    switch (ch) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '\b': out += 'b'; break;
      case '\t': out += 't'; break;
      case '\n': out += 'n'; break;
      case '\f': out += 'f'; break;
      case '\r': out += 'r'; break;
      default:
        out += "u00";
        out += kHex[ch >> 4];
        out += kHex[ch & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

}  // namespace

void CanonicalWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
}

void CanonicalWriter::Open(char c) {
  Separate();
  out_ += c;
  first_.push_back(true);
}

void CanonicalWriter::Close(char c) {
  out_ += c;
  first_.pop_back();
}

void CanonicalWriter::Key(std::string_view key) {
  Separate();
  Escape(key, out_);
  out_ += ':';
  after_key_ = true;
}

void CanonicalWriter::String(std::string_view s) {
  Separate();
  Escape(s, out_);
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
