#include "arbiter/cedar/format.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/cedar/internal/ast.h"
#include "arbiter/cedar/internal/lexer.h"
#include "arbiter/cedar/internal/surface.h"

namespace arbiter::cedar {
namespace internal {

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsReservedWord(std::string_view s) {
  return s == "true" || s == "false" || s == "if" || s == "then" || s == "else" || s == "in" ||
         s == "is" || s == "like" || s == "has" || s == "__cedar";
}

bool IsTypeName(std::string_view s) {
  while (true) {
    size_t sep = s.find("::");
    std::string_view part = s.substr(0, sep);
    if (!IsIdentifier(part) || IsReservedWord(part)) return false;
    if (sep == std::string_view::npos) return true;
    s.remove_prefix(sep + 2);
  }
}

namespace {

constexpr std::string_view kExtNames[] = {
    "decimal",         "ip",          "datetime",           "duration",  "lessThan",
    "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "isIpv4",    "isIpv6",
    "isLoopback",      "isMulticast", "isInRange",          "offset",    "durationSince",
    "toDate",          "toTime",      "toMilliseconds",     "toSeconds", "toMinutes",
    "toHours",         "toDays",
};

std::string Two(std::int64_t v) {
  std::string s = std::to_string(v);
  return s.size() < 2 ? "0" + s : s;
}

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
void CivilFromDays(std::int64_t z, std::int64_t* y, std::int64_t* m, std::int64_t* d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

std::string DatetimeString(std::int64_t millis) {
  // Cedar's syntax has four-digit years, but an offset can put a literal's UTC time just outside
  // years 0000-9999 (`datetime("0000-01-01T01:00:00+0200")`): print those with the largest
  // offset, which brings them back in range.
  constexpr std::int64_t kYear0 = -62167219200000;      // 0000-01-01T00:00:00Z
  constexpr std::int64_t kYear10000 = 253402300800000;  // 10000-01-01T00:00:00Z
  constexpr std::int64_t kMaxOffset = (23 * 60 + 59) * 60000;
  std::string suffix = "Z";
  if (millis < kYear0) {
    millis += kMaxOffset;
    suffix = "+2359";
  } else if (millis >= kYear10000) {
    millis -= kMaxOffset;
    suffix = "-2359";
  }
  std::int64_t days = millis / 86400000;
  std::int64_t rem = millis % 86400000;
  if (rem < 0) {
    rem += 86400000;
    days -= 1;
  }
  std::int64_t y, m, d;
  CivilFromDays(days, &y, &m, &d);
  std::string year = std::to_string(y);
  while (year.size() < 4) year.insert(year.begin(), '0');
  std::string out = year + "-" + Two(m) + "-" + Two(d);
  if (rem == 0 && suffix == "Z") return out;
  std::int64_t ms = rem % 1000;
  std::int64_t secs = rem / 1000;
  out += "T" + Two(secs / 3600) + ":" + Two(secs / 60 % 60) + ":" + Two(secs % 60);
  if (ms != 0) {
    std::string frac = std::to_string(ms);
    while (frac.size() < 3) frac.insert(frac.begin(), '0');
    out += "." + frac;
  }
  return out + suffix;
}

std::string DurationString(std::int64_t millis) {
  if (millis == 0) return "0ms";
  std::string out = millis < 0 ? "-" : "";
  std::uint64_t u =
      millis < 0 ? 0ULL - static_cast<std::uint64_t>(millis) : static_cast<std::uint64_t>(millis);
  static const struct {
    std::uint64_t ms;
    std::string_view unit;
  } kUnits[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& unit : kUnits) {
    if (u >= unit.ms) {
      out += std::to_string(u / unit.ms);
      out += unit.unit;
      u %= unit.ms;
    }
  }
  return out;
}

void AppendHexEscape(std::uint32_t cp, std::string* out) {
  static const char* kHex = "0123456789abcdef";
  std::string digits;
  do {
    digits.insert(digits.begin(), kHex[cp & 15]);
    cp >>= 4;
  } while (cp != 0);
  *out += "\\u{" + digits + "}";
}

// Code points that Rust's `char::is_printable` rejects and that a policy author may plausibly
// meet: C1 controls, the soft hyphen, zero-width and bidirectional format characters, the BOM.
bool NonPrintable(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
         (cp >= 0xfff9 && cp <= 0xfffb);
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when invalid.
size_t DecodeUtf8(std::string_view s, size_t i, std::uint32_t* cp) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  std::uint32_t v = b & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xc0) != 0x80) return 0;
    v = v << 6 | (c & 0x3f);
  }
  *cp = v;
  return len;
}

int Level(const Expr& e);

std::string Fmt(const Expr& e);

std::string Wrap(const Expr& e, int min_level) {
  std::string s = Fmt(e);
  return Level(e) < min_level ? "(" + s + ")" : s;
}

std::string AttrName(const std::string& name) {
  if (IsIdentifier(name) && !IsReservedWord(name)) return name;
  return "\"" + EscapeString(name) + "\"";
}

std::string Args(const std::vector<std::unique_ptr<Expr>>& kids, size_t from) {
  std::string out;
  for (size_t i = from; i < kids.size(); ++i) {
    if (i > from) out += ", ";
    out += Fmt(*kids[i]);
  }
  return out;
}

std::string FmtValue(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kBool: return v.as_bool() ? "true" : "false";
    case ValueKind::kLong: return std::to_string(v.as_long());
    case ValueKind::kString: return "\"" + EscapeString(v.as_string()) + "\"";
    case ValueKind::kEntity:
      return v.as_entity().type() + "::\"" + EscapeString(v.as_entity().id()) + "\"";
    case ValueKind::kSet: {
      std::string out = "[";
      bool first = true;
      for (const Value& el : v.as_set().elements()) {
        if (!first) out += ", ";
        first = false;
        out += FmtValue(el);
      }
      return out + "]";
    }
    case ValueKind::kRecord: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, el] : v.as_record().fields()) {
        if (!first) out += ", ";
        first = false;
        out += AttrName(k) + ": " + FmtValue(el);
      }
      return out + "}";
    }
    default: {
      std::string fn, arg;
      ExtensionLiteral(v, &fn, &arg);
      return fn + "(\"" + EscapeString(arg) + "\")";
    }
  }
}

// 0 if-then-else, 1 ||, 2 &&, 3 relations, 4 + -, 5 *, 6 unary, 7 member access and primaries.
int Level(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kIf: return 0;
    case ExprKind::kOr: return 1;
    case ExprKind::kAnd: return 2;
    case ExprKind::kEq:
    case ExprKind::kNe:
    case ExprKind::kLt:
    case ExprKind::kLe:
    case ExprKind::kGt:
    case ExprKind::kGe:
    case ExprKind::kIn:
    case ExprKind::kHas:
    case ExprKind::kLike:
    case ExprKind::kIs:
    case ExprKind::kIsIn: return 3;
    case ExprKind::kAdd:
    case ExprKind::kSub: return 4;
    case ExprKind::kMul: return 5;
    case ExprKind::kNot:
    case ExprKind::kNeg: return 6;
    case ExprKind::kLit: return e.lit.is(ValueKind::kLong) && e.lit.as_long() < 0 ? 6 : 7;
    default: return 7;
  }
}

std::string_view BinaryOp(ExprKind k) {
  switch (k) {
    case ExprKind::kOr: return "||";
    case ExprKind::kAnd: return "&&";
    case ExprKind::kEq: return "==";
    case ExprKind::kNe: return "!=";
    case ExprKind::kLt: return "<";
    case ExprKind::kLe: return "<=";
    case ExprKind::kGt: return ">";
    case ExprKind::kGe: return ">=";
    case ExprKind::kIn: return "in";
    case ExprKind::kAdd: return "+";
    case ExprKind::kSub: return "-";
    case ExprKind::kMul: return "*";
    default: return "";
  }
}

std::string_view MethodName(ExprKind k) {
  switch (k) {
    case ExprKind::kContains: return "contains";
    case ExprKind::kContainsAll: return "containsAll";
    case ExprKind::kContainsAny: return "containsAny";
    case ExprKind::kIsEmpty: return "isEmpty";
    case ExprKind::kGetTag: return "getTag";
    case ExprKind::kHasTag: return "hasTag";
    default: return "";
  }
}

std::string Fmt(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kLit: return FmtValue(e.lit);
    case ExprKind::kVar: {
      static constexpr std::string_view kVars[] = {"principal", "action", "resource", "context"};
      return std::string(kVars[static_cast<int>(e.var)]);
    }
    case ExprKind::kNot:
    case ExprKind::kNeg: {
      std::string kid = Wrap(*e.kids[0], 6);
      // `-5` would re-parse as the literal -5 (and `-5.x` as (-5).x): keep the negation explicit.
      if (e.kind == ExprKind::kNeg && !kid.empty() && kid[0] >= '0' && kid[0] <= '9') {
        kid = "(" + kid + ")";
      }
      return (e.kind == ExprKind::kNot ? "!" : "-") + kid;
    }
    case ExprKind::kIf:
      return "if " + Fmt(*e.kids[0]) + " then " + Fmt(*e.kids[1]) + " else " + Fmt(*e.kids[2]);
    case ExprKind::kOr:
    case ExprKind::kAnd:
    case ExprKind::kAdd:
    case ExprKind::kSub:
    case ExprKind::kMul: {
      int level = Level(e);
      return Wrap(*e.kids[0], level) + " " + std::string(BinaryOp(e.kind)) + " " +
             Wrap(*e.kids[1], level + 1);
    }
    case ExprKind::kEq:
    case ExprKind::kNe:
    case ExprKind::kLt:
    case ExprKind::kLe:
    case ExprKind::kGt:
    case ExprKind::kGe:
    case ExprKind::kIn:
      return Wrap(*e.kids[0], 4) + " " + std::string(BinaryOp(e.kind)) + " " + Wrap(*e.kids[1], 4);
    case ExprKind::kHas: return Wrap(*e.kids[0], 4) + " has " + AttrName(e.name);
    case ExprKind::kGetAttr: {
      std::string recv = Wrap(*e.kids[0], 7);
      if (IsIdentifier(e.name) && !IsReservedWord(e.name)) return recv + "." + e.name;
      return recv + "[\"" + EscapeString(e.name) + "\"]";
    }
    case ExprKind::kLike: {
      std::string pat;
      for (const PatternPart& p : e.pattern) {
        if (p.wildcard) {
          pat += "*";
          continue;
        }
        for (char c : EscapeString(p.text)) {
          if (c == '*') pat += '\\';
          pat += c;
        }
      }
      return Wrap(*e.kids[0], 4) + " like \"" + pat + "\"";
    }
    case ExprKind::kIs: return Wrap(*e.kids[0], 4) + " is " + e.name;
    case ExprKind::kIsIn:
      return Wrap(*e.kids[0], 4) + " is " + e.name + " in " + Wrap(*e.kids[1], 4);
    case ExprKind::kContains:
    case ExprKind::kContainsAll:
    case ExprKind::kContainsAny:
    case ExprKind::kIsEmpty:
    case ExprKind::kGetTag:
    case ExprKind::kHasTag:
      return Wrap(*e.kids[0], 7) + "." + std::string(MethodName(e.kind)) + "(" + Args(e.kids, 1) +
             ")";
    case ExprKind::kSet: return "[" + Args(e.kids, 0) + "]";
    case ExprKind::kRecord: {
      std::string out = "{";
      for (size_t i = 0; i < e.kids.size(); ++i) {
        if (i) out += ", ";
        out += AttrName(e.keys[i]) + ": " + Fmt(*e.kids[i]);
      }
      return out + "}";
    }
    case ExprKind::kCall: {
      ExtFn fn;
      bool method = false;
      int args = 0;
      std::string_view name = ExtFnName(e.fn);
      LookupExtFn(name, &fn, &method, &args);
      if (method && !e.kids.empty()) {
        return Wrap(*e.kids[0], 7) + "." + std::string(name) + "(" + Args(e.kids, 1) + ")";
      }
      return std::string(name) + "(" + Args(e.kids, 0) + ")";
    }
  }
  return "";
}

// ---- layout ----

void Chain(const Expr& e, ExprKind op, std::vector<const Expr*>* out) {
  if (e.kind == op) {
    Chain(*e.kids[0], op, out);
    out->push_back(e.kids[1].get());
  } else {
    out->push_back(&e);
  }
}

// Appends `e` (of at least `min_level`) at `indent`, breaking `&&` / `||` chains that do not fit.
void Block(const Expr& e, int min_level, size_t indent, size_t width, const std::string& suffix,
           std::string* out) {
  std::string pad(indent, ' ');
  std::string flat = Wrap(e, min_level);
  bool chain = e.kind == ExprKind::kAnd || e.kind == ExprKind::kOr;
  if (!chain || indent + flat.size() + suffix.size() <= width) {
    *out += pad + flat + suffix;
    return;
  }
  bool parens = Level(e) < min_level;
  size_t inner = indent;
  if (parens) {
    *out += pad + "(\n";
    inner += 2;
  }
  std::vector<const Expr*> operands;
  Chain(e, e.kind, &operands);
  int level = Level(e);
  std::string op = " " + std::string(BinaryOp(e.kind));
  for (size_t i = 0; i < operands.size(); ++i) {
    bool last = i + 1 == operands.size();
    Block(*operands[i], i == 0 ? level : level + 1, inner, width,
          last ? (parens ? "" : suffix) : op, out);
    *out += "\n";
  }
  if (parens) {
    *out += pad + ")" + suffix + "\n";
  }
  out->pop_back();  // the caller adds line ends
}

std::string ScopeText(std::string_view var, const Scope& s) {
  std::string slot = "?" + std::string(var);
  std::string target = s.slot ? slot : FmtValue(Value::Entity(s.uid));
  std::string out(var);
  switch (s.kind) {
    case ScopeKind::kAny: return out;
    case ScopeKind::kEq: return out + " == " + target;
    case ScopeKind::kIn: return out + " in " + target;
    case ScopeKind::kIs: return out + " is " + s.type;
    case ScopeKind::kIsIn: return out + " is " + s.type + " in " + target;
    case ScopeKind::kInSet: {
      out += " in [";
      for (size_t i = 0; i < s.uids.size(); ++i) {
        if (i) out += ", ";
        out += FmtValue(Value::Entity(s.uids[i]));
      }
      return out + "]";
    }
  }
  return out;
}

}  // namespace

std::string_view ExtFnName(ExtFn fn) {
  for (std::string_view name : kExtNames) {
    ExtFn f;
    bool method = false;
    int args = 0;
    if (LookupExtFn(name, &f, &method, &args) && f == fn) return name;
  }
  return "unknown";
}

bool ExtensionLiteral(const Value& v, std::string* fn, std::string* arg) {
  switch (v.kind()) {
    case ValueKind::kDecimal:
    case ValueKind::kIpAddr: {
      // Value::ToString prints `decimal("1.5")` / `ip("10.0.0.0/8")`: take the quoted argument.
      std::string s = v.ToString();
      size_t open = s.find('"');
      size_t close = s.rfind('"');
      *fn = v.is(ValueKind::kDecimal) ? "decimal" : "ip";
      *arg = s.substr(open + 1, close - open - 1);
      return true;
    }
    case ValueKind::kDatetime:
      *fn = "datetime";
      *arg = DatetimeString(v.as_datetime().millis);
      return true;
    case ValueKind::kDuration:
      *fn = "duration";
      *arg = DurationString(v.as_duration().millis);
      return true;
    default: return false;
  }
}

std::string EscapeString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\0': out += "\\0"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\'': out += "\\'"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            AppendHexEscape(c, &out);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {  // not UTF-8 (cannot come from the parsers): keep the byte
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (NonPrintable(cp)) {
      AppendHexEscape(cp, &out);
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string FormatExpr(const Expr& e) { return Fmt(e); }

}  // namespace internal

std::string FormatPolicy(const Policy& policy, const FormatOptions& options) {
  using internal::ScopeText;
  std::string out;
  for (const auto& [key, value] : policy.annotations()) {
    out += "@" + key;
    if (value) out += "(\"" + internal::EscapeString(*value) + "\")";
    out += "\n";
  }
  const internal::PolicyAst& ast = policy.ast();
  std::string effect = policy.effect() == Effect::kPermit ? "permit" : "forbid";
  std::string scopes[] = {ScopeText("principal", ast.principal), ScopeText("action", ast.action),
                          ScopeText("resource", ast.resource)};
  std::string one_line = effect + " (" + scopes[0] + ", " + scopes[1] + ", " + scopes[2] + ")";
  if (one_line.size() + 1 <= options.width) {
    out += one_line;
  } else {
    out += effect + " (\n  " + scopes[0] + ",\n  " + scopes[1] + ",\n  " + scopes[2] + "\n)";
  }
  for (const internal::Condition& c : ast.conditions) {
    std::string head = c.is_when ? "when" : "unless";
    std::string flat = internal::FormatExpr(*c.expr);
    out += "\n";
    if (head.size() + flat.size() + 6 <= options.width) {
      out += head + " { " + flat + " }";
    } else {
      out += head + " {\n";
      internal::Block(*c.expr, 0, 2, options.width, "", &out);
      out += "\n}";
    }
  }
  return out + ";";
}

std::string FormatPolicySet(const PolicySet& set, const FormatOptions& options) {
  std::string out;
  for (const Policy& p : set.policies()) {
    if (p.is_linked()) continue;  // a link has no Cedar text; its template is printed
    if (!out.empty()) out += "\n";
    out += FormatPolicy(p, options) + "\n";
  }
  return out;
}

namespace {

// The comments of one gap between policies (or before the first / after the last), printed one
// per line; a blank line in the source between two of them is kept as one blank line.
void AppendComments(std::string_view text, const std::vector<internal::CommentSpan>& comments,
                    size_t from, size_t to, std::string* out) {
  for (size_t k = from; k < to; ++k) {
    if (k > from) {
      std::string_view between =
          text.substr(comments[k - 1].end, comments[k].begin - comments[k - 1].end);
      if (std::count(between.begin(), between.end(), '\n') > 1) *out += "\n";
    }
    std::string_view c = text.substr(comments[k].begin, comments[k].end - comments[k].begin);
    while (!c.empty() && (c.back() == ' ' || c.back() == '\t' || c.back() == '\r')) {
      c.remove_suffix(1);
    }
    *out += c;
    *out += "\n";
  }
}

bool NewlineIn(std::string_view text, size_t begin, size_t end) {
  return text.substr(begin, end - begin).find('\n') != std::string_view::npos;
}

}  // namespace

std::string FormatPolicySource(std::string_view text, const PolicySet& set,
                               const FormatOptions& options) {
  std::vector<internal::CommentSpan> comments;
  internal::Tokenize(text, &comments);
  std::vector<const Policy*> policies;
  for (const Policy& p : set.policies()) {
    if (!p.is_linked()) policies.push_back(&p);
  }
  std::sort(policies.begin(), policies.end(),
            [](const Policy* a, const Policy* b) { return a->span().begin < b->span().begin; });
  std::string out;
  size_t next = 0;      // the first comment not yet printed
  size_t prev_end = 0;  // where the previous policy ended
  for (const Policy* p : policies) {
    const SourceSpan& span = p->span();
    // A comment on the line where the previous policy ends stays on that line.
    if (!out.empty() && next < comments.size() && comments[next].begin < span.begin &&
        !NewlineIn(text, prev_end, comments[next].begin)) {
      out.pop_back();
      out += " ";
      AppendComments(text, comments, next, next + 1, &out);
      ++next;
    }
    size_t leading = next;
    while (leading < comments.size() && comments[leading].begin < span.begin) ++leading;
    if (!out.empty()) out += "\n";
    AppendComments(text, comments, next, leading, &out);
    next = leading;
    size_t inside = next;
    while (inside < comments.size() && comments[inside].begin < span.end) ++inside;
    if (inside > next) {
      // Comments inside a policy cannot be placed in a new layout: the policy stays as written.
      out += text.substr(span.begin, span.end - span.begin);
      next = inside;
    } else {
      out += FormatPolicy(*p, options);
    }
    out += "\n";
    prev_end = span.end;
  }
  if (next < comments.size()) {
    if (!out.empty() && !NewlineIn(text, prev_end, comments[next].begin)) {
      out.pop_back();
      out += " ";
      AppendComments(text, comments, next, next + 1, &out);
      ++next;
    }
    if (next < comments.size()) {
      if (!out.empty()) out += "\n";
      AppendComments(text, comments, next, comments.size(), &out);
    }
  }
  return out;
}

}  // namespace arbiter::cedar
