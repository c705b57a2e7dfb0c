#include "arbiter/cedar/internal/evaluator.h"

#include <cstring>

namespace arbiter::cedar::internal {
namespace {

constexpr std::int64_t kMillisPerDay = 86400000;

// Built with append: g++ 12 at -O3 reports a false -Wrestrict on `"literal" + std::string&&`.
std::string Attr(std::string_view a) {
  std::string out = "`";
  out += EscapeCedarString(a);
  out += '`';
  return out;
}

// `uid` in backticks (see Attr).
std::string Tick(const EntityUid& uid) {
  std::string out = "`";
  out += uid.ToString();
  out += '`';
  return out;
}

// Whether the network of `a` lies within the network of `b` (same family).
bool InRange(const IpAddr& a, const IpAddr& b) {
  if (a.v6 != b.v6) return false;
  if (a.prefix < b.prefix) return false;
  int bits = b.prefix;
  int nbytes = a.v6 ? 16 : 4;
  for (int i = 0; i < nbytes; ++i) {
    int take = std::min(8, std::max(0, bits - i * 8));
    if (take == 0) break;
    std::uint8_t mask = static_cast<std::uint8_t>(0xFF << (8 - take));
    if ((a.bytes[i] & mask) != (b.bytes[i] & mask)) return false;
  }
  return true;
}

IpAddr MakeRange(bool v6, std::initializer_list<std::uint8_t> prefix_bytes, std::uint8_t prefix) {
  IpAddr ip;
  ip.v6 = v6;
  size_t i = 0;
  for (std::uint8_t b : prefix_bytes) ip.bytes[i++] = b;
  ip.prefix = prefix;
  return ip;
}

}  // namespace

bool MatchesPattern(const std::vector<PatternPart>& pattern, std::string_view text) {
  // Greedy matching with backtracking to the last wildcard (linear in practice).
  size_t pi = 0, ti = 0;
  size_t star_pi = SIZE_MAX, star_ti = 0;
  while (true) {
    if (pi < pattern.size() && pattern[pi].wildcard) {
      star_pi = pi++;
      star_ti = ti;
      continue;
    }
    if (pi < pattern.size()) {
      const std::string& lit = pattern[pi].text;
      if (text.substr(ti, lit.size()) == lit) {
        ti += lit.size();
        ++pi;
        continue;
      }
    } else if (ti == text.size()) {
      return true;
    }
    // Mismatch: backtrack.
    if (star_pi == SIZE_MAX || star_ti >= text.size()) return false;
    pi = star_pi + 1;
    ti = ++star_ti;
  }
}

Evaluator::Evaluator(const Request& request, const Entities& entities)
    : request_(request), entities_(entities) {}

const Value* Evaluator::Var(internal::Var var) {
  // Entity values for the request variables are built on first use.
  if (var == internal::Var::kContext) return &request_.context;
  size_t i = static_cast<size_t>(var);
  if (!var_built_[i]) {
    // Borrowed: the request outlives this evaluator, and no value escapes an authorization
    // (IsAuthorized returns only decisions and error text). Saves an allocation per variable.
    vars_[i] = Value::BorrowedEntity(i == 0   ? request_.principal
                                     : i == 1 ? request_.action
                                              : request_.resource);
    var_built_[i] = true;
  }
  return &vars_[i];
}

bool Evaluator::ScopeOk(const Scope& s, const EntityUid& uid) const {
  switch (s.kind) {
    case ScopeKind::kAny: return true;
    case ScopeKind::kEq: return uid == s.uid;
    case ScopeKind::kIn: return entities_.IsIn(uid, s.uid);
    case ScopeKind::kIs: return uid.type() == s.type;
    case ScopeKind::kIsIn: return uid.type() == s.type && entities_.IsIn(uid, s.uid);
    case ScopeKind::kInSet:
      for (const EntityUid& u : s.uids) {
        if (entities_.IsIn(uid, u)) return true;
      }
      return false;
  }
  return false;
}

bool Evaluator::ScopeMatches(const PolicyAst& ast) const {
  return ScopeOk(ast.principal, request_.principal) && ScopeOk(ast.action, request_.action) &&
         ScopeOk(ast.resource, request_.resource);
}

bool Evaluator::ScopeMatchesKnownAction(const PolicyAst& ast) const {
  return ScopeOk(ast.principal, request_.principal) && ScopeOk(ast.resource, request_.resource);
}

bool Evaluator::EvalConditions(const PolicyAst& ast, bool* satisfied) {
  for (const Condition& c : ast.conditions) {
    bool b = false;
    if (!EvalBool(*c.expr, &b)) return false;
    if (b != c.is_when) {
      *satisfied = false;
      return true;
    }
  }
  *satisfied = true;
  return true;
}

bool Evaluator::TypeError(std::string_view what, const Value& got) {
  return Fail("type error: expected " + std::string(what) + ", got " +
              std::string(ValueKindName(got.kind())));
}

bool Evaluator::EvalBool(const Expr& e, bool* out) {
  // Boolean operators are evaluated without materializing Values.
  switch (e.kind) {
    case ExprKind::kLit:
      if (!e.lit.is(ValueKind::kBool)) return TypeError("bool", e.lit);
      *out = e.lit.as_bool();
      return true;
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      bool b = false;
      if (!EvalBool(*e.kids[0], &b)) return false;
      if (b == (e.kind == ExprKind::kAnd) && !EvalBool(*e.kids[1], &b)) return false;
      *out = b;
      return true;
    }
    case ExprKind::kNot: {
      bool b = false;
      if (!EvalBool(*e.kids[0], &b)) return false;
      *out = !b;
      return true;
    }
    case ExprKind::kEq:
    case ExprKind::kNe: {
      Value sa, sb;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return false;
      const Value* b = EvalRef(*e.kids[1], &sb);
      if (!b) return false;
      *out = (*a == *b) == (e.kind == ExprKind::kEq);
      return true;
    }
    default: break;
  }
  Value scratch;
  const Value* v = EvalRef(e, &scratch);
  if (!v) return false;
  if (!v->is(ValueKind::kBool)) return TypeError("bool", *v);
  *out = v->as_bool();
  return true;
}

bool Evaluator::Eval(const Expr& e, Value* out) {
  Value scratch;
  const Value* v = EvalRef(e, &scratch);
  if (!v) return false;
  if (v == &scratch) {
    *out = std::move(scratch);
  } else {
    *out = *v;
  }
  return true;
}

// Returns the value of `e`: a pointer to stable storage (a literal, a request variable, an entity
// attribute) or to `s`, which the caller owns. nullptr on error.
const Value* Evaluator::EvalRef(const Expr& e, Value* s) {
  switch (e.kind) {
    case ExprKind::kLit: return &e.lit;
    case ExprKind::kVar: return Var(e.var);
    case ExprKind::kNot: {
      bool b = false;
      if (!EvalBool(*e.kids[0], &b)) return nullptr;
      *s = Value::Bool(!b);
      return s;
    }
    case ExprKind::kNeg: {
      Value sa;
      const Value* v = EvalRef(*e.kids[0], &sa);
      if (!v) return nullptr;
      if (!v->is(ValueKind::kLong)) return TypeErrorPtr("long", *v);
      if (v->as_long() == INT64_MIN) return FailPtr("integer overflow while negating");
      *s = Value::Long(-v->as_long());
      return s;
    }
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      bool b = false;
      if (!EvalBool(*e.kids[0], &b)) return nullptr;
      bool is_and = e.kind == ExprKind::kAnd;
      if (b == is_and && !EvalBool(*e.kids[1], &b)) return nullptr;
      *s = Value::Bool(b);
      return s;
    }
    case ExprKind::kIf: {
      bool b = false;
      if (!EvalBool(*e.kids[0], &b)) return nullptr;
      return EvalRef(*e.kids[b ? 1 : 2], s);
    }
    case ExprKind::kEq:
    case ExprKind::kNe: {
      Value sa, sb;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      const Value* b = EvalRef(*e.kids[1], &sb);
      if (!b) return nullptr;
      bool eq = *a == *b;
      *s = Value::Bool(e.kind == ExprKind::kEq ? eq : !eq);
      return s;
    }
    case ExprKind::kLt:
    case ExprKind::kLe:
    case ExprKind::kGt:
    case ExprKind::kGe: {
      Value sa, sb;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      const Value* b = EvalRef(*e.kids[1], &sb);
      if (!b) return nullptr;
      std::int64_t x, y;
      if (a->is(ValueKind::kLong) && b->is(ValueKind::kLong)) {
        x = a->as_long();
        y = b->as_long();
      } else if (a->is(ValueKind::kDatetime) && b->is(ValueKind::kDatetime)) {
        x = a->as_datetime().millis;
        y = b->as_datetime().millis;
      } else if (a->is(ValueKind::kDuration) && b->is(ValueKind::kDuration)) {
        x = a->as_duration().millis;
        y = b->as_duration().millis;
      } else {
        const Value& bad =
            (a->is(ValueKind::kLong) || a->is(ValueKind::kDatetime) || a->is(ValueKind::kDuration))
                ? *b
                : *a;
        return TypeErrorPtr("long, datetime or duration operands of the same type", bad);
      }
      bool r = e.kind == ExprKind::kLt   ? x < y
               : e.kind == ExprKind::kLe ? x <= y
               : e.kind == ExprKind::kGt ? x > y
                                         : x >= y;
      *s = Value::Bool(r);
      return s;
    }
    case ExprKind::kAdd:
    case ExprKind::kSub:
    case ExprKind::kMul: {
      Value sa, sb;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      const Value* b = EvalRef(*e.kids[1], &sb);
      if (!b) return nullptr;
      if (!a->is(ValueKind::kLong)) return TypeErrorPtr("long", *a);
      if (!b->is(ValueKind::kLong)) return TypeErrorPtr("long", *b);
      std::int64_t r;
      bool overflow =
          e.kind == ExprKind::kAdd   ? __builtin_add_overflow(a->as_long(), b->as_long(), &r)
          : e.kind == ExprKind::kSub ? __builtin_sub_overflow(a->as_long(), b->as_long(), &r)
                                     : __builtin_mul_overflow(a->as_long(), b->as_long(), &r);
      if (overflow) {
        return FailPtr("integer overflow in `" + a->ToString() +
                       (e.kind == ExprKind::kAdd   ? " + "
                        : e.kind == ExprKind::kSub ? " - "
                                                   : " * ") +
                       b->ToString() + "`");
      }
      *s = Value::Long(r);
      return s;
    }
    case ExprKind::kIn: {
      Value sa, sb;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      const Value* b = EvalRef(*e.kids[1], &sb);
      if (!b) return nullptr;
      if (!a->is(ValueKind::kEntity)) return TypeErrorPtr("entity", *a);
      bool found = false;
      if (!InTarget(a->as_entity(), *b, &found)) return nullptr;
      *s = Value::Bool(found);
      return s;
    }
    case ExprKind::kHas: {
      Value sa;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      if (a->is(ValueKind::kEntity)) {
        const EntityData* ent = FindEntity(a);
        *s = Value::Bool(ent && ent->attrs.as_record().Find(e.name) != nullptr);
        return s;
      }
      if (a->is(ValueKind::kRecord)) {
        *s = Value::Bool(a->as_record().Find(e.name) != nullptr);
        return s;
      }
      return TypeErrorPtr("entity or record", *a);
    }
    case ExprKind::kGetAttr: {
      Value sa;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      if (a->is(ValueKind::kEntity)) {
        const EntityData* ent = FindEntity(a);
        if (!ent) return FailPtr("entity " + Tick(a->as_entity()) + " does not exist");
        std::uint32_t hint = e.field_hint.load(std::memory_order_relaxed);
        const Value* v = ent->attrs.as_record().Find(e.name, &hint);
        if (v && hint != e.field_hint.load(std::memory_order_relaxed)) {
          e.field_hint.store(hint, std::memory_order_relaxed);
        }
        if (!v) {
          return FailPtr(Tick(a->as_entity()) + " does not have the attribute " + Attr(e.name));
        }
        return v;  // entity data outlives the evaluation
      }
      if (a->is(ValueKind::kRecord)) {
        std::uint32_t hint = e.field_hint.load(std::memory_order_relaxed);
        const Value* v = a->as_record().Find(e.name, &hint);
        if (v && hint != e.field_hint.load(std::memory_order_relaxed)) {
          e.field_hint.store(hint, std::memory_order_relaxed);
        }
        if (!v) return FailPtr("record does not have the attribute " + Attr(e.name));
        if (a != &sa) return v;
        *s = *v;  // the record is a temporary: copy the field out
        return s;
      }
      return TypeErrorPtr("entity or record", *a);
    }
    case ExprKind::kLike: {
      Value sa;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      if (!a->is(ValueKind::kString)) return TypeErrorPtr("string", *a);
      *s = Value::Bool(MatchesPattern(e.pattern, a->as_string()));
      return s;
    }
    case ExprKind::kIs:
    case ExprKind::kIsIn: {
      Value sa;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      if (!a->is(ValueKind::kEntity)) return TypeErrorPtr("entity", *a);
      if (a->as_entity().type() != e.name || e.kind == ExprKind::kIs) {
        *s = Value::Bool(a->as_entity().type() == e.name);
        return s;
      }
      Value sb;
      const Value* b = EvalRef(*e.kids[1], &sb);
      if (!b) return nullptr;
      bool found = false;
      if (!InTarget(a->as_entity(), *b, &found)) return nullptr;
      *s = Value::Bool(found);
      return s;
    }
    case ExprKind::kContains:
    case ExprKind::kContainsAll:
    case ExprKind::kContainsAny: {
      Value sa, sb;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      const Value* b = EvalRef(*e.kids[1], &sb);
      if (!b) return nullptr;
      if (!a->is(ValueKind::kSet)) return TypeErrorPtr("set", *a);
      if (e.kind == ExprKind::kContains) {
        *s = Value::Bool(a->as_set().Contains(*b));
        return s;
      }
      if (!b->is(ValueKind::kSet)) return TypeErrorPtr("set", *b);
      const SetValue& set = a->as_set();
      bool all = e.kind == ExprKind::kContainsAll;
      bool result = all;
      for (const Value& el : b->as_set().elements()) {
        if (set.Contains(el) != all) {
          result = !all;
          break;
        }
      }
      *s = Value::Bool(result);
      return s;
    }
    case ExprKind::kIsEmpty: {
      Value sa;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      if (!a->is(ValueKind::kSet)) return TypeErrorPtr("set", *a);
      *s = Value::Bool(a->as_set().empty());
      return s;
    }
    case ExprKind::kGetTag:
    case ExprKind::kHasTag: {
      Value sa, sb;
      const Value* a = EvalRef(*e.kids[0], &sa);
      if (!a) return nullptr;
      const Value* b = EvalRef(*e.kids[1], &sb);
      if (!b) return nullptr;
      if (!a->is(ValueKind::kEntity)) return TypeErrorPtr("entity", *a);
      if (!b->is(ValueKind::kString)) return TypeErrorPtr("string", *b);
      const EntityData* ent = entities_.Find(a->as_entity());
      const Value* v = ent ? ent->tags.as_record().Find(b->as_string()) : nullptr;
      if (e.kind == ExprKind::kHasTag) {
        *s = Value::Bool(v != nullptr);
        return s;
      }
      if (!ent) return FailPtr("entity " + Tick(a->as_entity()) + " does not exist");
      if (!v) {
        return FailPtr(Tick(a->as_entity()) + " does not have the tag " + Attr(b->as_string()));
      }
      return v;
    }
    case ExprKind::kSet: {
      std::vector<Value> els(e.kids.size());
      for (size_t i = 0; i < e.kids.size(); ++i) {
        if (!Eval(*e.kids[i], &els[i])) return nullptr;
      }
      *s = Value::Set(std::move(els));
      return s;
    }
    case ExprKind::kRecord: {
      std::vector<std::pair<std::string, Value>> fields(e.kids.size());
      for (size_t i = 0; i < e.kids.size(); ++i) {
        fields[i].first = e.keys[i];
        if (!Eval(*e.kids[i], &fields[i].second)) return nullptr;
      }
      *s = Value::Record(std::move(fields));
      return s;
    }
    case ExprKind::kCall:
      if (!EvalCall(e, s)) return nullptr;
      return s;
  }
  return FailPtr("unknown expression");
}

const EntityData* Evaluator::FindEntity(const Value* v) {
  // The request's principal, action and resource are looked up once per request.
  for (size_t i = 0; i < 3; ++i) {
    if (v != &vars_[i]) continue;
    if (!var_looked_up_[i]) {
      var_entity_[i] = entities_.Find(v->as_entity());
      var_looked_up_[i] = true;
    }
    return var_entity_[i];
  }
  return entities_.Find(v->as_entity());
}

bool Evaluator::InTarget(const EntityUid& a, const Value& b, bool* found) {
  if (b.is(ValueKind::kEntity)) {
    *found = entities_.IsIn(a, b.as_entity());
    return true;
  }
  if (!b.is(ValueKind::kSet)) return TypeError("entity or set of entities", b);
  for (const Value& el : b.as_set().elements()) {
    if (!el.is(ValueKind::kEntity)) return TypeError("entity", el);
  }
  *found = false;
  for (const Value& el : b.as_set().elements()) {
    if (entities_.IsIn(a, el.as_entity())) {
      *found = true;
      break;
    }
  }
  return true;
}

bool Evaluator::EvalCall(const Expr& e, Value* out) {
  Value args[3];
  size_t n = e.kids.size();
  for (size_t i = 0; i < n; ++i) {
    if (i < 3) {
      if (!Eval(*e.kids[i], &args[i])) return false;
    } else {
      Value ignored;
      if (!Eval(*e.kids[i], &ignored)) return false;
    }
  }
  return CallExtension(e.fn, args, n, out, &error_);
}

bool CallExtension(ExtFn fn, const Value* args, size_t nargs, Value* out, std::string* error) {
  auto Fail = [&](std::string m) {
    *error = std::move(m);
    return false;
  };
  {
    ExtFn f2;
    bool method = false;
    int want_args = 0;
    static const char* kNames[] = {
        "decimal",         "ip",          "datetime",           "duration",  "lessThan",
        "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "isIpv4",    "isIpv6",
        "isLoopback",      "isMulticast", "isInRange",          "offset",    "durationSince",
        "toDate",          "toTime",      "toMilliseconds",     "toSeconds", "toMinutes",
        "toHours",         "toDays"};
    const char* name = kNames[static_cast<int>(fn)];
    LookupExtFn(name, &f2, &method, &want_args);
    size_t want = static_cast<size_t>(want_args) + (method ? 1 : 0);
    if (nargs != want) {
      return Fail("wrong number of arguments in call to `" + std::string(name) + "`: expected " +
                  std::to_string(want) + ", got " + std::to_string(nargs));
    }
  }
  auto TypeError = [&](std::string_view what, const Value& got) {
    return Fail("type error: expected " + std::string(what) + ", got " +
                std::string(ValueKindName(got.kind())));
  };
  const Value& a = args[0];
  const Value& b = args[1];
  auto want = [&](const Value& v, ValueKind k) {
    if (!v.is(k)) {
      TypeError(ValueKindName(k), v);
      return false;
    }
    return true;
  };
  auto from_result = [&](Result<Value> r) {
    if (!r) return Fail(r.error().message());
    *out = std::move(r).value();
    return true;
  };
  switch (fn) {
    case ExtFn::kDecimal:
      return want(a, ValueKind::kString) && from_result(Value::ParseDecimal(a.as_string()));
    case ExtFn::kIp:
      return want(a, ValueKind::kString) && from_result(Value::ParseIpAddr(a.as_string()));
    case ExtFn::kDatetime:
      return want(a, ValueKind::kString) && from_result(Value::ParseDatetime(a.as_string()));
    case ExtFn::kDuration:
      return want(a, ValueKind::kString) && from_result(Value::ParseDuration(a.as_string()));
    case ExtFn::kLessThan:
    case ExtFn::kLessThanOrEqual:
    case ExtFn::kGreaterThan:
    case ExtFn::kGreaterThanOrEqual: {
      if (!want(a, ValueKind::kDecimal) || !want(b, ValueKind::kDecimal)) return false;
      std::int64_t x = a.as_decimal().scaled, y = b.as_decimal().scaled;
      bool r = fn == ExtFn::kLessThan          ? x < y
               : fn == ExtFn::kLessThanOrEqual ? x <= y
               : fn == ExtFn::kGreaterThan     ? x > y
                                               : x >= y;
      *out = Value::Bool(r);
      return true;
    }
    case ExtFn::kIsIpv4:
    case ExtFn::kIsIpv6:
    case ExtFn::kIsLoopback:
    case ExtFn::kIsMulticast: {
      if (!want(a, ValueKind::kIpAddr)) return false;
      const IpAddr& ip = a.as_ipaddr();
      bool r = false;
      if (fn == ExtFn::kIsIpv4) {
        r = !ip.v6;
      } else if (fn == ExtFn::kIsIpv6) {
        r = ip.v6;
      } else if (fn == ExtFn::kIsLoopback) {
        r = ip.v6 ? InRange(ip,
                            MakeRange(true, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128))
                  : InRange(ip, MakeRange(false, {127}, 8));
      } else {
        r = ip.v6 ? InRange(ip, MakeRange(true, {0xff}, 8))
                  : InRange(ip, MakeRange(false, {224}, 4));
      }
      *out = Value::Bool(r);
      return true;
    }
    case ExtFn::kIsInRange:
      if (!want(a, ValueKind::kIpAddr) || !want(b, ValueKind::kIpAddr)) return false;
      *out = Value::Bool(InRange(a.as_ipaddr(), b.as_ipaddr()));
      return true;
    case ExtFn::kOffset: {
      if (!want(a, ValueKind::kDatetime) || !want(b, ValueKind::kDuration)) return false;
      std::int64_t r;
      if (__builtin_add_overflow(a.as_datetime().millis, b.as_duration().millis, &r)) {
        return Fail("overflow in datetime offset");
      }
      *out = Value::FromDatetime(Datetime{r});
      return true;
    }
    case ExtFn::kDurationSince: {
      if (!want(a, ValueKind::kDatetime) || !want(b, ValueKind::kDatetime)) return false;
      std::int64_t r;
      if (__builtin_sub_overflow(a.as_datetime().millis, b.as_datetime().millis, &r)) {
        return Fail("overflow in durationSince");
      }
      *out = Value::FromDuration(Duration{r});
      return true;
    }
    case ExtFn::kToDate: {
      if (!want(a, ValueKind::kDatetime)) return false;
      std::int64_t ms = a.as_datetime().millis;
      std::int64_t r = ms % kMillisPerDay;
      std::int64_t d;
      if (ms >= 0 || r == 0) {
        d = ms - r;
      } else if (__builtin_sub_overflow(ms - r, kMillisPerDay, &d)) {
        return Fail("overflow in toDate");
      }
      *out = Value::FromDatetime(Datetime{d});
      return true;
    }
    case ExtFn::kToTime: {
      if (!want(a, ValueKind::kDatetime)) return false;
      std::int64_t r = a.as_datetime().millis % kMillisPerDay;
      if (r < 0) r += kMillisPerDay;
      *out = Value::FromDuration(Duration{r});
      return true;
    }
    case ExtFn::kToMilliseconds:
    case ExtFn::kToSeconds:
    case ExtFn::kToMinutes:
    case ExtFn::kToHours:
    case ExtFn::kToDays: {
      if (!want(a, ValueKind::kDuration)) return false;
      std::int64_t div = fn == ExtFn::kToMilliseconds ? 1
                         : fn == ExtFn::kToSeconds    ? 1000
                         : fn == ExtFn::kToMinutes    ? 60000
                         : fn == ExtFn::kToHours      ? 3600000
                                                      : kMillisPerDay;
      *out = Value::Long(a.as_duration().millis / div);
      return true;
    }
  }
  return Fail("unknown extension function");
}

}  // namespace arbiter::cedar::internal
