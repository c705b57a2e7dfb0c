#include "arbiter/cedar/value.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>

namespace arbiter::cedar {
namespace {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

size_t HashUid(std::string_view type, std::string_view id) {
  size_t h = std::hash<std::string_view>{}(type);
  return h ^ (std::hash<std::string_view>{}(id) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses an unsigned decimal run into int64 with overflow detection.
bool ParseDigits(std::string_view s, std::int64_t* out) {
  if (s.empty()) return false;
  std::int64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, c - '0', &v)) return false;
  }
  *out = v;
  return true;
}

std::string Quote(std::string_view s);

}  // namespace

namespace {
std::string Quote(std::string_view s) { return "`" + EscapeCedarString(s) + "`"; }
}  // namespace

// Every default (empty) uid shares one immutable Data: EntityData and other holders default-
// construct uids on hot paths (one per entity added to a request's overlay), where an allocation
// each showed in profiles.
EntityUid::EntityUid() {
  static const std::shared_ptr<const Data>* const kEmpty =
      new std::shared_ptr<const Data>(std::make_shared<const Data>(Data{"", "", HashUid("", "")}));
  data_ = *kEmpty;
}

EntityUid::EntityUid(std::string_view type, std::string_view id)
    : data_(std::make_shared<const Data>(
          Data{std::string(type), std::string(id), HashUid(type, id)})) {}

bool operator<(const EntityUid& a, const EntityUid& b) {
  int c = a.type().compare(b.type());
  if (c != 0) return c < 0;
  return a.id() < b.id();
}

std::string EscapeCedarString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\0': out += "\\0"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char* kHex = "0123456789abcdef";
          out += "\\u{";
          out += kHex[c >> 4];
          out += kHex[c & 15];
          out += "}";
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string EntityUid::ToString() const { return type() + "::\"" + EscapeCedarString(id()) + "\""; }

std::string_view ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool: return "bool";
    case ValueKind::kLong: return "long";
    case ValueKind::kString: return "string";
    case ValueKind::kEntity: return "entity";
    case ValueKind::kSet: return "set";
    case ValueKind::kRecord: return "record";
    case ValueKind::kDecimal: return "decimal";
    case ValueKind::kIpAddr: return "ipaddr";
    case ValueKind::kDatetime: return "datetime";
    case ValueKind::kDuration: return "duration";
  }
  return "unknown";
}

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = ValueKind::kBool;
  v.scalar_ = b ? 1 : 0;
  return v;
}

Value Value::Long(std::int64_t n) {
  Value v;
  v.kind_ = ValueKind::kLong;
  v.scalar_ = n;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = ValueKind::kString;
  v.heap_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::Entity(EntityUid uid) {
  Value v;
  v.kind_ = ValueKind::kEntity;
  v.heap_ = std::make_shared<const EntityUid>(std::move(uid));
  return v;
}

Value Value::BorrowedEntity(const EntityUid& uid) {
  Value v;
  v.kind_ = ValueKind::kEntity;
  v.heap_ = std::shared_ptr<const void>(std::shared_ptr<const void>(), &uid);  // owns nothing
  return v;
}

Value Value::Set(std::vector<Value> elements) {
  std::sort(elements.begin(), elements.end(),
            [](const Value& a, const Value& b) { return Compare(a, b) < 0; });
  elements.erase(std::unique(elements.begin(), elements.end(),
                             [](const Value& a, const Value& b) { return Compare(a, b) == 0; }),
                 elements.end());
  auto set = std::make_shared<SetValue>();
  set->elements_ = std::move(elements);
  Value v;
  v.kind_ = ValueKind::kSet;
  v.heap_ = std::move(set);
  return v;
}

Value Value::Record(std::vector<std::pair<std::string, Value>> fields) {
  // Values are immutable, so every empty record (contexts, tags) shares one.
  static const Value kEmpty = [] {
    Value v;
    v.kind_ = ValueKind::kRecord;
    v.heap_ = std::make_shared<const RecordValue>();
    return v;
  }();
  if (fields.empty()) return kEmpty;
  auto rec = std::make_shared<RecordValue>();
  // Fast path: keys already strictly increasing (callers that build in key order, such as the
  // routing case entity) are taken as they are, without the sort and its buffer.
  const auto in_order = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (std::adjacent_find(fields.begin(), fields.end(), [&](const auto& a, const auto& b) {
        return !in_order(a, b);
      }) == fields.end()) {
    rec->fields_ = std::move(fields);
  } else {
    // Stable sort then keep the last of equal keys.
    std::stable_sort(fields.begin(), fields.end(), in_order);
    rec->fields_.reserve(fields.size());
    for (auto& f : fields) {
      if (!rec->fields_.empty() && rec->fields_.back().first == f.first) {
        rec->fields_.back().second = std::move(f.second);
      } else {
        rec->fields_.push_back(std::move(f));
      }
    }
  }
  Value v;
  v.kind_ = ValueKind::kRecord;
  v.heap_ = std::move(rec);
  return v;
}

Value Value::Record(std::initializer_list<std::pair<std::string, Value>> fields) {
  return Record(std::vector<std::pair<std::string, Value>>(fields));
}

Value Value::FromDecimal(Decimal d) {
  Value v;
  v.kind_ = ValueKind::kDecimal;
  v.scalar_ = d.scaled;
  return v;
}

Value Value::FromIpAddr(const IpAddr& ip) {
  Value v;
  v.kind_ = ValueKind::kIpAddr;
  v.heap_ = std::make_shared<const IpAddr>(ip);
  return v;
}

Value Value::FromDatetime(Datetime d) {
  Value v;
  v.kind_ = ValueKind::kDatetime;
  v.scalar_ = d.millis;
  return v;
}

Value Value::FromDuration(Duration d) {
  Value v;
  v.kind_ = ValueKind::kDuration;
  v.scalar_ = d.millis;
  return v;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case ValueKind::kBool:
    case ValueKind::kLong:
    case ValueKind::kDecimal:
    case ValueKind::kDatetime:
    case ValueKind::kDuration: return a.scalar_ == b.scalar_;
    case ValueKind::kString: return a.heap_ == b.heap_ || a.as_string() == b.as_string();
    case ValueKind::kEntity: return a.as_entity() == b.as_entity();
    case ValueKind::kIpAddr: return a.as_ipaddr() == b.as_ipaddr();
    case ValueKind::kSet:
    case ValueKind::kRecord: return a.heap_ == b.heap_ || Value::Compare(a, b) == 0;
  }
  return false;
}

namespace {
template <typename T>
int Cmp3(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}
}  // namespace

int Value::Compare(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return Cmp3(a.kind_, b.kind_);
  switch (a.kind_) {
    case ValueKind::kBool:
    case ValueKind::kLong:
    case ValueKind::kDecimal:
    case ValueKind::kDatetime:
    case ValueKind::kDuration: return Cmp3(a.scalar_, b.scalar_);
    case ValueKind::kString: {
      int c = a.as_string().compare(b.as_string());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case ValueKind::kEntity: {
      const EntityUid& x = a.as_entity();
      const EntityUid& y = b.as_entity();
      if (x == y) return 0;
      return x < y ? -1 : 1;
    }
    case ValueKind::kIpAddr: {
      const IpAddr& x = a.as_ipaddr();
      const IpAddr& y = b.as_ipaddr();
      if (x.v6 != y.v6) return Cmp3(x.v6, y.v6);
      int c = std::memcmp(x.bytes.data(), y.bytes.data(), 16);
      if (c != 0) return c < 0 ? -1 : 1;
      return Cmp3(x.prefix, y.prefix);
    }
    case ValueKind::kSet: {
      if (a.heap_ == b.heap_) return 0;
      const auto& x = a.as_set().elements();
      const auto& y = b.as_set().elements();
      size_t n = std::min(x.size(), y.size());
      for (size_t i = 0; i < n; ++i) {
        int c = Compare(x[i], y[i]);
        if (c != 0) return c;
      }
      return Cmp3(x.size(), y.size());
    }
    case ValueKind::kRecord: {
      if (a.heap_ == b.heap_) return 0;
      const auto& x = a.as_record().fields();
      const auto& y = b.as_record().fields();
      size_t n = std::min(x.size(), y.size());
      for (size_t i = 0; i < n; ++i) {
        int c = x[i].first.compare(y[i].first);
        if (c != 0) return c < 0 ? -1 : 1;
        c = Compare(x[i].second, y[i].second);
        if (c != 0) return c;
      }
      return Cmp3(x.size(), y.size());
    }
  }
  return 0;
}

bool SetValue::Contains(const Value& v) const {
  auto it =
      std::lower_bound(elements_.begin(), elements_.end(), v,
                       [](const Value& a, const Value& b) { return Value::Compare(a, b) < 0; });
  return it != elements_.end() && Value::Compare(*it, v) == 0;
}

size_t RecordValue::FindIndex(std::string_view key) const {
  if (fields_.size() <= 8) {
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (fields_[i].first == key) return i;
    }
    return fields_.size();
  }
  auto it = std::lower_bound(fields_.begin(), fields_.end(), key,
                             [](const auto& f, std::string_view k) { return f.first < k; });
  if (it != fields_.end() && it->first == key) return static_cast<size_t>(it - fields_.begin());
  return fields_.size();
}

const Value* RecordValue::Find(std::string_view key) const {
  size_t i = FindIndex(key);
  return i == fields_.size() ? nullptr : &fields_[i].second;
}

// ---- decimal ----

Result<Value> Value::ParseDecimal(std::string_view text) {
  auto bad = [&] { return Status::InvalidArgument("invalid decimal " + Quote(text)); };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return bad();
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = s.substr(dot + 1);
  if (whole.empty() || frac.empty()) return bad();
  for (char c : whole) {
    if (!IsDigit(c)) return bad();
  }
  for (char c : frac) {
    if (!IsDigit(c)) return bad();
  }
  if (frac.size() > 4) {
    return Status::InvalidArgument("decimal " + Quote(text) + " has more than 4 fractional digits");
  }
  auto overflow = [&] {
    return Status::InvalidArgument("decimal " + Quote(text) + " is out of range");
  };
  // Accumulate negatively so that the minimum value is representable.
  std::int64_t v = 0;
  for (char c : whole) {
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, c - '0', &v)) {
      return overflow();
    }
  }
  if (__builtin_mul_overflow(v, 10000, &v)) return overflow();
  std::int64_t f = 0;
  for (char c : frac) f = f * 10 + (c - '0');
  for (size_t i = frac.size(); i < 4; ++i) f *= 10;
  if (__builtin_sub_overflow(v, f, &v)) return overflow();
  if (!negative) {
    if (v == INT64_MIN) return overflow();
    v = -v;
  }
  return FromDecimal(Decimal{v});
}

// ---- ipaddr ----

namespace {

bool ParseIpv4(std::string_view s, std::uint8_t out[4]) {
  int part = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    size_t len = i - start;
    if (len == 0 || len > 3) return false;
    if (len > 1 && s[start] == '0') return false;  // no leading zeros
    int v = 0;
    for (size_t k = start; k < i; ++k) v = v * 10 + (s[k] - '0');
    if (v > 255) return false;
    out[part++] = static_cast<std::uint8_t>(v);
    if (part == 4) return i == s.size();
    if (i >= s.size() || s[i] != '.') return false;
    ++i;
  }
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses groups separated by ':' into `groups` (16-bit each); an embedded IPv4 tail counts as two.
bool ParseIpv6Groups(std::string_view s, std::vector<std::uint16_t>* groups, bool allow_v4_tail) {
  if (s.empty()) return true;
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < s.size() && HexVal(s[i]) >= 0) ++i;
    if (allow_v4_tail && i < s.size() && s[i] == '.') {
      std::uint8_t v4[4];
      if (!ParseIpv4(s.substr(start), v4)) return false;
      groups->push_back(static_cast<std::uint16_t>(v4[0] << 8 | v4[1]));
      groups->push_back(static_cast<std::uint16_t>(v4[2] << 8 | v4[3]));
      return true;
    }
    size_t len = i - start;
    if (len == 0 || len > 4) return false;
    int v = 0;
    for (size_t k = start; k < i; ++k) v = v * 16 + HexVal(s[k]);
    groups->push_back(static_cast<std::uint16_t>(v));
    if (i == s.size()) return true;
    if (s[i] != ':') return false;
    ++i;
    if (i == s.size()) return false;
  }
}

bool ParseIpv6(std::string_view s, std::uint8_t out[16]) {
  std::vector<std::uint16_t> head, tail;
  size_t dc = s.find("::");
  if (dc != std::string_view::npos) {
    if (s.find("::", dc + 1) != std::string_view::npos) return false;
    if (!ParseIpv6Groups(s.substr(0, dc), &head, false)) return false;
    if (!ParseIpv6Groups(s.substr(dc + 2), &tail, true)) return false;
    if (head.size() + tail.size() > 7) return false;
  } else {
    if (!ParseIpv6Groups(s, &head, true)) return false;
    if (head.size() != 8) return false;
  }
  std::uint16_t g[8] = {};
  for (size_t k = 0; k < head.size(); ++k) g[k] = head[k];
  for (size_t k = 0; k < tail.size(); ++k) g[8 - tail.size() + k] = tail[k];
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<std::uint8_t>(g[k] >> 8);
    out[2 * k + 1] = static_cast<std::uint8_t>(g[k] & 0xff);
  }
  return true;
}

}  // namespace

Result<Value> Value::ParseIpAddr(std::string_view text) {
  auto bad = [&] { return Status::InvalidArgument("invalid ip address " + Quote(text)); };
  if (text.size() > 128) return bad();
  std::string_view addr = text;
  std::string_view prefix;
  bool has_prefix = false;
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    prefix = text.substr(slash + 1);
    has_prefix = true;
  }
  IpAddr ip;
  bool is_v6 = addr.find(':') != std::string_view::npos;
  if (is_v6) {
    // Like the reference, IPv4-embedded IPv6 forms (`::ffff:1.2.3.4`) are rejected.
    if (addr.find('.') != std::string_view::npos) return bad();
    if (!ParseIpv6(addr, ip.bytes.data())) return bad();
    ip.v6 = true;
  } else {
    if (!ParseIpv4(addr, ip.bytes.data())) return bad();
  }
  int max = ip.v6 ? 128 : 32;
  ip.prefix = static_cast<std::uint8_t>(max);
  if (has_prefix) {
    if (prefix.empty() || prefix.size() > 3) return bad();
    if (prefix.size() > 1 && prefix[0] == '0') return bad();
    std::int64_t p = 0;
    if (!ParseDigits(prefix, &p) || p > max) return bad();
    ip.prefix = static_cast<std::uint8_t>(p);
  }
  return FromIpAddr(ip);
}

// ---- datetime ----

namespace {

std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool FixedDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

Result<Value> Value::ParseDatetime(std::string_view s) {
  auto bad = [&] { return Status::InvalidArgument("invalid datetime " + Quote(s)); };
  int y, mo, d;
  if (!FixedDigits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !FixedDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !FixedDigits(s, 8, 2, &d)) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo)) return bad();
  std::int64_t ms =
      DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400000;
  if (s.size() == 10) return FromDatetime(Datetime{ms});
  int h, mi, sec;
  if (s[10] != 'T' || !FixedDigits(s, 11, 2, &h) || s.size() < 19 || s[13] != ':' ||
      !FixedDigits(s, 14, 2, &mi) || s[16] != ':' || !FixedDigits(s, 17, 2, &sec)) {
    return bad();
  }
  if (h > 23 || mi > 59 || sec > 59) return bad();
  ms += (static_cast<std::int64_t>(h) * 3600 + mi * 60 + sec) * 1000;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    int frac;
    if (!FixedDigits(s, i + 1, 3, &frac)) return bad();
    ms += frac;
    i += 4;
  }
  if (i >= s.size()) return bad();
  if (s[i] == 'Z') {
    if (i + 1 != s.size()) return bad();
    return FromDatetime(Datetime{ms});
  }
  if (s[i] != '+' && s[i] != '-') return bad();
  int oh, om;
  if (s.size() != i + 5 || !FixedDigits(s, i + 1, 2, &oh) || !FixedDigits(s, i + 3, 2, &om)) {
    return bad();
  }
  if (oh > 23 || om > 59) return bad();
  std::int64_t off = (static_cast<std::int64_t>(oh) * 3600 + om * 60) * 1000;
  ms = s[i] == '+' ? ms - off : ms + off;
  return FromDatetime(Datetime{ms});
}

// ---- duration ----

Result<Value> Value::ParseDuration(std::string_view text) {
  auto bad = [&] { return Status::InvalidArgument("invalid duration " + Quote(text)); };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.empty()) return bad();
  // Units in their required order: d h m s ms.
  static const struct {
    std::string_view name;
    std::int64_t factor;
  } kUnits[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
  size_t next_unit = 0;
  std::int64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start || i == s.size()) return bad();
    // Quantities are unsigned 64-bit and combined with checked arithmetic, like the reference
    // (so "-9223372036854775808ms" is representable).
    UInt128 q = 0;
    for (size_t k = start; k < i; ++k) {
      q = q * 10 + static_cast<unsigned>(s[k] - '0');
      if (q > (static_cast<UInt128>(1) << 64)) {
        return Status::InvalidArgument("duration " + Quote(text) + " is out of range");
      }
    }
    std::string_view unit;
    if (s.substr(i, 2) == "ms") {
      unit = "ms";
    } else if (s[i] == 'd' || s[i] == 'h' || s[i] == 'm' || s[i] == 's') {
      unit = s.substr(i, 1);
    } else {
      return bad();
    }
    i += unit.size();
    size_t k = next_unit;
    while (k < 5 && kUnits[k].name != unit) ++k;
    if (k == 5) return bad();
    next_unit = k + 1;
    Int128 part = static_cast<Int128>(q) * kUnits[k].factor;
    Int128 next = negative ? static_cast<Int128>(total) - part : static_cast<Int128>(total) + part;
    if (next > INT64_MAX || next < INT64_MIN) {
      return Status::InvalidArgument("duration " + Quote(text) + " is out of range");
    }
    total = static_cast<std::int64_t>(next);
  }
  return FromDuration(Duration{total});
}

// ---- printing ----

namespace {
std::string DecimalString(std::int64_t v) {
  bool neg = v < 0;
  unsigned long long u =
      neg ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
  std::string frac = std::to_string(u % 10000);
  while (frac.size() < 4) frac.insert(frac.begin(), '0');
  while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
  return (neg ? "-" : "") + std::to_string(u / 10000) + "." + frac;
}

std::string IpString(const IpAddr& ip) {
  std::string out;
  if (!ip.v6) {
    for (int i = 0; i < 4; ++i) {
      if (i) out += '.';
      out += std::to_string(ip.bytes[i]);
    }
    if (ip.prefix != 32) out += "/" + std::to_string(ip.prefix);
    return out;
  }
  static const char* kHex = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i) out += ':';
    unsigned g = static_cast<unsigned>(ip.bytes[2 * i] << 8 | ip.bytes[2 * i + 1]);
    bool started = false;
    for (int sh = 12; sh >= 0; sh -= 4) {
      unsigned nib = (g >> sh) & 15;
      if (nib || started || sh == 0) {
        out += kHex[nib];
        started = true;
      }
    }
  }
  if (ip.prefix != 128) out += "/" + std::to_string(ip.prefix);
  return out;
}
}  // namespace

std::string Value::ToString() const {
  switch (kind_) {
    case ValueKind::kBool: return as_bool() ? "true" : "false";
    case ValueKind::kLong: return std::to_string(as_long());
    case ValueKind::kString: return "\"" + EscapeCedarString(as_string()) + "\"";
    case ValueKind::kEntity: return as_entity().ToString();
    case ValueKind::kSet: {
      std::string out = "[";
      bool first = true;
      for (const Value& v : as_set().elements()) {
        if (!first) out += ", ";
        first = false;
        out += v.ToString();
      }
      return out + "]";
    }
    case ValueKind::kRecord: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : as_record().fields()) {
        if (!first) out += ", ";
        first = false;
        out += "\"" + EscapeCedarString(k) + "\": " + v.ToString();
      }
      return out + "}";
    }
    case ValueKind::kDecimal: return "decimal(\"" + DecimalString(scalar_) + "\")";
    case ValueKind::kIpAddr: return "ip(\"" + IpString(as_ipaddr()) + "\")";
    case ValueKind::kDatetime: return "datetime(" + std::to_string(scalar_) + "ms)";
    case ValueKind::kDuration: return "duration(\"" + std::to_string(scalar_) + "ms\")";
  }
  return "";
}

}  // namespace arbiter::cedar
