#include "arbiter/common/json.h"

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <vector>

namespace arbiter {
namespace {

std::string LineColumn(std::string_view text, size_t offset) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

std::string FieldPath(std::string_view where, std::string_view key) {
  if (where.empty()) return std::string(key);
  std::string out(where);
  out += '.';
  out += key;
  return out;
}

template <typename Int>
void WriteInteger(Int n, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
  (void)ec;
  out.append(buf, end);
}

void WriteCanonical(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      const auto& obj = v.get_object();
      std::vector<const boost::json::key_value_pair*> items;
      items.reserve(obj.size());
      for (const auto& kv : obj) items.push_back(&kv);
      std::sort(items.begin(), items.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const auto* kv : items) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(kv->key(), out);
        out += ':';
        WriteCanonical(kv->value(), out);
      }
      out += '}';
      return;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        WriteCanonical(item, out);
      }
      out += ']';
      return;
    }
    case boost::json::kind::string: AppendJsonString(v.get_string(), out); return;
    case boost::json::kind::int64: WriteInteger(v.get_int64(), out); return;
    case boost::json::kind::uint64: WriteInteger(v.get_uint64(), out); return;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case boost::json::kind::null: out += "null"; return;
    default: out += boost::json::serialize(v); return;
  }
}

}  // namespace

Result<boost::json::value> ParseJson(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status::ResourceExhausted("json: document of " + std::to_string(text.size()) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(limits.max_bytes));
  }
  boost::json::parse_options options;
  options.max_depth = limits.max_depth;
  // The parser's working stack starts in this buffer: no allocation for documents of ordinary
  // depth.
  unsigned char stack[1024];
  boost::json::parser parser({}, options, stack, sizeof stack);
  boost::system::error_code ec;
  const size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = boost::json::error::extra_data;
  if (ec) {
    const std::string where = LineColumn(text, consumed);
    if (ec == boost::json::error::too_deep) {
      return Status::ResourceExhausted("json: nesting deeper than " +
                                       std::to_string(limits.max_depth) + " at " + where);
    }
    return Status::InvalidArgument("json: " + ec.message() + " at " + where);
  }
  return parser.release();
}

std::string ToJson(const boost::json::value& v) { return boost::json::serialize(v); }

std::string CanonicalJson(const boost::json::value& v) {
  std::string out;
  out.reserve(256);
  WriteCanonical(v, out);
  return out;
}

std::string_view JsonKindName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "bool";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "number";
    case boost::json::kind::string: return "string";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
  }
  return "unknown";
}

Result<const boost::json::object*> AsObject(const boost::json::value& v, std::string_view where) {
  if (!v.is_object()) {
    return Status::InvalidArgument(std::string(where.empty() ? "document" : where) +
                                   ": expected an object, got " + std::string(JsonKindName(v)));
  }
  return &v.get_object();
}

Result<std::string_view> GetString(const boost::json::object& o, std::string_view key,
                                   std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return Status::InvalidArgument(FieldPath(where, key) + ": missing");
  if (!v->is_string()) {
    return Status::InvalidArgument(FieldPath(where, key) + ": expected a string, got " +
                                   std::string(JsonKindName(*v)));
  }
  return std::string_view(v->get_string());
}

Result<std::optional<std::string_view>> GetOptionalString(const boost::json::object& o,
                                                          std::string_view key,
                                                          std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string_view>();
  if (!v->is_string()) {
    return Status::InvalidArgument(FieldPath(where, key) + ": expected a string, got " +
                                   std::string(JsonKindName(*v)));
  }
  return std::optional<std::string_view>(std::string_view(v->get_string()));
}

Result<std::int64_t> GetInt64(const boost::json::object& o, std::string_view key,
                              std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return Status::InvalidArgument(FieldPath(where, key) + ": missing");
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    return Status::InvalidArgument(FieldPath(where, key) +
                                   ": integer out of the 64-bit signed range");
  }
  return Status::InvalidArgument(FieldPath(where, key) + ": expected an integer, got " +
                                 std::string(JsonKindName(*v)));
}

Result<bool> GetBool(const boost::json::object& o, std::string_view key, std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return Status::InvalidArgument(FieldPath(where, key) + ": missing");
  if (!v->is_bool()) {
    return Status::InvalidArgument(FieldPath(where, key) + ": expected a boolean, got " +
                                   std::string(JsonKindName(*v)));
  }
  return v->get_bool();
}

Result<double> GetNumber(const boost::json::object& o, std::string_view key,
                         std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return Status::InvalidArgument(FieldPath(where, key) + ": missing");
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return Status::InvalidArgument(FieldPath(where, key) + ": expected a number, got " +
                                 std::string(JsonKindName(*v)));
}

namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighs = 0x8080808080808080ull;

// The high bit of each byte of `v` that is zero; exact for the lowest such byte (a borrow can only
// flag bytes above a true one).
constexpr std::uint64_t ZeroBytes(std::uint64_t v) { return (v - kOnes) & ~v & kHighs; }

// Bit 7 of each byte of `v` that JSON escapes (below 0x20, `"` or `\`). Each test flags its lowest
// true byte exactly (a borrow only reaches bytes above a true one), so the lowest bit set is the
// first escaped byte.
inline std::uint64_t EscapedBytes(std::uint64_t v) {
  return ((v - 0x20 * kOnes) & ~v & kHighs) | ZeroBytes(v ^ (0x22 * kOnes)) |
         ZeroBytes(v ^ (0x5c * kOnes));
}

// The position of the first byte at or after `i` that JSON escapes, or `n`. Eight bytes at a time;
// the last part of a string of eight bytes or more is one load that overlaps the bytes before it.
inline size_t NextEscaped(const char* s, size_t i, size_t n) {
  std::uint64_t v;
  while (i + 8 <= n) {
    std::memcpy(&v, s + i, 8);
    if (const std::uint64_t hits = EscapedBytes(v); hits != 0) {
      return i + static_cast<size_t>(std::countr_zero(hits) / 8);
    }
    i += 8;
  }
  if (i == n) return n;
  if (n >= 8) {
    std::memcpy(&v, s + n - 8, 8);
    // The bytes before i (which may be escaped ones: their borrows would flag the next byte) are
    // replaced by `a` before the test.
    const std::uint64_t before = (std::uint64_t{1} << ((8 - (n - i)) * 8)) - 1;
    const std::uint64_t hits = EscapedBytes((v & ~before) | (0x61 * kOnes & before));
    return hits != 0 ? n - 8 + static_cast<size_t>(std::countr_zero(hits) / 8) : n;
  }
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return n;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* p = s.data();
  const size_t n = s.size();
  size_t i = NextEscaped(p, 0, n);
  if (i == n) {  // most strings: no escape, one append and one copy
    const size_t at = out.size();
    out.append(n + 2, '"');
    if (n != 0) std::memcpy(out.data() + at + 1, p, n);
    return;
  }
  out.reserve(out.size() + n + 8);
  out += '"';
  size_t run = 0;  // start of the pending unescaped run
  for (; i < n; i = NextEscaped(p, run, n)) {
    const auto c = static_cast<unsigned char>(p[i]);
    out.append(p + run, i - run);
    run = i + 1;
    out += '\\';
    switch (c) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '\b': out += 'b'; break;
      case '\t': out += 't'; break;
      case '\n': out += 'n'; break;
      case '\f': out += 'f'; break;
      case '\r': out += 'r'; break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(p + run, n - run);
  out += '"';
}

}  // namespace arbiter
