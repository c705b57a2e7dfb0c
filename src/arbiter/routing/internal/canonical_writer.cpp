#include "arbiter/routing/internal/canonical_writer.h"

#include <charconv>

#include "arbiter/common/json.h"

namespace arbiter::routing::internal {

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
  AppendJsonString(key, out_);
  out_ += ':';
  after_key_ = true;
}

void CanonicalWriter::String(std::string_view s) {
  Separate();
  AppendJsonString(s, out_);
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
