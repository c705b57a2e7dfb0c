// Recursive-descent parser for Cedar policy sets (language 4.5).
#include <algorithm>
#include <string>

#include "arbiter/cedar/internal/ast.h"
#include "arbiter/cedar/internal/evaluator.h"
#include "arbiter/cedar/internal/lexer.h"

namespace arbiter::cedar::internal {
namespace {

bool IsReserved(std::string_view s) {
  return s == "true" || s == "false" || s == "if" || s == "then" || s == "else" || s == "in" ||
         s == "is" || s == "like" || s == "has" || s == "__cedar";
}

struct FnInfo {
  std::string_view name;
  ExtFn fn;
  bool method;
  int args;  // not counting the receiver
};

constexpr FnInfo kFunctions[] = {
    {"decimal", ExtFn::kDecimal, false, 1},
    {"ip", ExtFn::kIp, false, 1},
    {"datetime", ExtFn::kDatetime, false, 1},
    {"duration", ExtFn::kDuration, false, 1},
    {"lessThan", ExtFn::kLessThan, true, 1},
    {"lessThanOrEqual", ExtFn::kLessThanOrEqual, true, 1},
    {"greaterThan", ExtFn::kGreaterThan, true, 1},
    {"greaterThanOrEqual", ExtFn::kGreaterThanOrEqual, true, 1},
    {"isIpv4", ExtFn::kIsIpv4, true, 0},
    {"isIpv6", ExtFn::kIsIpv6, true, 0},
    {"isLoopback", ExtFn::kIsLoopback, true, 0},
    {"isMulticast", ExtFn::kIsMulticast, true, 0},
    {"isInRange", ExtFn::kIsInRange, true, 1},
    {"offset", ExtFn::kOffset, true, 1},
    {"durationSince", ExtFn::kDurationSince, true, 1},
    {"toDate", ExtFn::kToDate, true, 0},
    {"toTime", ExtFn::kToTime, true, 0},
    {"toMilliseconds", ExtFn::kToMilliseconds, true, 0},
    {"toSeconds", ExtFn::kToSeconds, true, 0},
    {"toMinutes", ExtFn::kToMinutes, true, 0},
    {"toHours", ExtFn::kToHours, true, 0},
    {"toDays", ExtFn::kToDays, true, 0},
};

const FnInfo* FindFn(std::string_view name) {
  for (const FnInfo& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::unique_ptr<Expr> MakeExpr(ExprKind kind) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  return e;
}

std::unique_ptr<Expr> Binary(ExprKind kind, std::unique_ptr<Expr> a, std::unique_ptr<Expr> b) {
  auto e = MakeExpr(kind);
  e->begin = a->begin;
  e->end = b->end;
  e->kids.push_back(std::move(a));
  e->kids.push_back(std::move(b));
  return e;
}

class Parser : private TokenCursor {
 public:
  Parser(std::string_view src, std::string_view source_name, const PolicySetOptions& options)
      : TokenCursor(source_name), src_(src), options_(options) {}

  Status ParseAll(std::vector<ParsedPolicy>* out) {
    if (!Start(src_)) return error();
    while (Peek().kind != TokKind::kEof) {
      ParsedPolicy p;
      if (!ParsePolicy(&p)) return error();
      out->push_back(std::move(p));
    }
    return Status::Ok();
  }

  // Parses the whole input as a single entity uid literal.
  bool ParseOnlyUid(EntityUid* uid) {
    if (!Start(src_)) return false;
    if (!ParseEntityLiteral(uid)) return false;
    if (Peek().kind != TokKind::kEof) {
      Fail(Peek(), "unexpected " + Describe(Peek()) + " after the entity uid");
      return false;
    }
    return true;
  }

  using TokenCursor::error;

 private:
  // The byte offset just past the last consumed token.
  std::uint32_t LastEnd() const {
    if (pos_ == 0) return 0;
    const Token& t = toks_[pos_ - 1];
    size_t len = t.kind == TokKind::kStr ? t.text.size() + 2 : t.text.size();
    return t.offset + static_cast<std::uint32_t>(len);
  }
  // Gives `e` the span from `begin` to the end of the last consumed token.
  std::unique_ptr<Expr> Spanned(std::unique_ptr<Expr> e, std::uint32_t begin) const {
    if (e) {
      e->begin = begin;
      e->end = LastEnd();
    }
    return e;
  }

  bool ParsePolicy(ParsedPolicy* p) {
    p->span.line = Peek().line;
    p->span.column = Peek().column;
    p->span.begin = Peek().offset;
    while (IsPunct("@")) {
      Next();
      const Token& key = Peek();
      if (key.kind != TokKind::kIdent) {
        Fail(key, "expected an annotation name, found " + Describe(key));
        return false;
      }
      Next();
      std::optional<std::string> value;
      if (IsPunct("(")) {
        Next();
        const Token& v = Peek();
        if (v.kind != TokKind::kStr) {
          Fail(v, "expected a string for annotation `" + std::string(key.text) + "`");
          return false;
        }
        Next();
        std::string text, err;
        if (!Unescape(v.text, false, &text, nullptr, &err)) {
          Fail(v, err);
          return false;
        }
        value = std::move(text);
        if (!Expect(")")) return false;
      }
      for (const auto& [k, unused] : p->annotations) {
        if (k == key.text) {
          Fail(key, "duplicate annotation `@" + std::string(key.text) + "`");
          return false;
        }
      }
      p->annotations.emplace_back(std::string(key.text), std::move(value));
    }
    if (IsIdent("permit")) {
      p->effect = Effect::kPermit;
    } else if (IsIdent("forbid")) {
      p->effect = Effect::kForbid;
    } else {
      Fail(Peek(), "expected `permit` or `forbid`, found " + Describe(Peek()));
      return false;
    }
    Next();
    p->ast = std::make_shared<PolicyAst>();
    if (!Expect("(")) return false;
    if (!ParseScope("principal", &p->ast->principal, &p->is_template)) return false;
    if (!Expect(",")) return false;
    if (!ParseScope("action", &p->ast->action, &p->is_template)) return false;
    if (!Expect(",")) return false;
    if (!ParseScope("resource", &p->ast->resource, &p->is_template)) return false;
    if (IsPunct(",")) Next();  // trailing comma
    if (!Expect(")")) return false;
    while (IsIdent("when") || IsIdent("unless")) {
      Condition c;
      c.is_when = Next().text == "when";
      if (!Expect("{")) return false;
      if (IsPunct("}")) {
        Fail(Peek(), "empty condition body");
        return false;
      }
      depth_ = 0;
      c.expr = ParseExpr();
      if (!c.expr) return false;
      if (!Expect("}")) return false;
      p->ast->conditions.push_back(std::move(c));
    }
    if (!IsPunct(";")) {
      Fail(Peek(), "expected `;`, `when` or `unless`, found " + Describe(Peek()));
      return false;
    }
    p->span.end = Peek().offset + 1;
    Next();
    p->ast->first_line = p->span.line;
    p->ast->line_starts.push_back(p->span.begin - (p->span.column - 1));
    for (std::uint32_t i = p->span.begin; i < p->span.end && i < src_.size(); ++i) {
      if (src_[i] == '\n') p->ast->line_starts.push_back(i + 1);
    }
    return true;
  }

  bool ParseScope(std::string_view var, Scope* scope, bool* is_template) {
    scope->begin = Peek().offset;
    bool ok = ParseScopeConstraint(var, scope, is_template);
    scope->end = LastEnd();
    return ok;
  }

  bool ParseScopeConstraint(std::string_view var, Scope* scope, bool* is_template) {
    const Token& t = Peek();
    if (t.kind != TokKind::kIdent || t.text != var) {
      Fail(t, "expected `" + std::string(var) + "`, found " + Describe(t));
      return false;
    }
    Next();
    bool is_action = var == "action";
    std::string slot_name = "?" + std::string(var);
    auto parse_target = [&](EntityUid* uid) -> bool {
      if (IsPunct("?")) {
        const Token& q = Next();
        if (is_action || !IsIdent(var)) {
          Fail(q,
               "invalid slot in the " + std::string(var) + " scope (expected `" + slot_name + "`)");
          return false;
        }
        Next();
        scope->slot = true;
        *is_template = true;
        return true;
      }
      scope->uid_begin = Peek().offset;
      bool ok = ParseEntityLiteral(uid);
      scope->uid_end = LastEnd();
      return ok;
    };
    if (IsPunct("==")) {
      Next();
      scope->kind = ScopeKind::kEq;
      return parse_target(&scope->uid);
    }
    if (IsIdent("is")) {
      if (is_action) {
        Fail(Peek(), "`is` is not allowed in the action scope");
        return false;
      }
      Next();
      if (!ParseTypeName(&scope->type)) return false;
      scope->kind = ScopeKind::kIs;
      if (IsIdent("in")) {
        Next();
        scope->kind = ScopeKind::kIsIn;
        return parse_target(&scope->uid);
      }
      return true;
    }
    if (IsIdent("in")) {
      Next();
      if (is_action && IsPunct("[")) {
        scope->kind = ScopeKind::kInSet;
        return ParseList([&] {
          EntityUid uid;
          std::uint32_t uid_begin = Peek().offset;
          if (!ParseEntityLiteral(&uid)) return false;
          scope->uids.push_back(std::move(uid));
          scope->uid_spans.emplace_back(uid_begin, LastEnd());
          return true;
        });
      }
      scope->kind = ScopeKind::kIn;
      return parse_target(&scope->uid);
    }
    return true;
  }

  bool ParseTypeName(std::string* out) {
    const Token& t = Peek();
    if (t.kind != TokKind::kIdent) {
      Fail(t, "expected an entity type name, found " + Describe(t));
      return false;
    }
    if (IsReserved(t.text)) {
      Fail(t, "`" + std::string(t.text) + "` is a reserved identifier");
      return false;
    }
    Next();
    *out = std::string(t.text);
    while (IsPunct("::") && Peek(1).kind == TokKind::kIdent) {
      Next();
      const Token& n = Next();
      if (IsReserved(n.text)) {
        Fail(n, "`" + std::string(n.text) + "` is a reserved identifier");
        return false;
      }
      *out += "::";
      *out += n.text;
    }
    return true;
  }

  bool ParseEntityLiteral(EntityUid* uid) {
    std::string type;
    const Token& start = Peek();
    if (start.kind != TokKind::kIdent) {
      Fail(start, "expected an entity uid, found " + Describe(start));
      return false;
    }
    if (!ParseTypeName(&type)) return false;
    if (!IsPunct("::") || Peek(1).kind != TokKind::kStr) {
      Fail(Peek(), "expected `::\"id\"` after entity type `" + type + "`");
      return false;
    }
    Next();
    const Token& s = Next();
    std::string id, err;
    if (!Unescape(s.text, false, &id, nullptr, &err)) {
      Fail(s, err);
      return false;
    }
    *uid = EntityUid(type, id);
    return true;
  }

  // ---- expressions ----

  struct DepthGuard {
    Parser* p;
    explicit DepthGuard(Parser* parser) : p(parser) { ++p->depth_; }
    ~DepthGuard() { --p->depth_; }
  };

  bool TooDeep() {
    if (depth_ > options_.max_depth) {
      FailDepth();
      return true;
    }
    return false;
  }

  void FailDepth() {
    Fail(Peek(), "expression nests deeper than " + std::to_string(options_.max_depth),
         StatusCode::kResourceExhausted);
  }

  std::unique_ptr<Expr> ParseExpr() {
    DepthGuard guard(this);
    if (TooDeep()) return nullptr;
    if (IsIdent("if")) {
      std::uint32_t begin = Next().offset;
      auto c = ParseExpr();
      if (!c || !ExpectIdent("then")) return nullptr;
      auto t = ParseExpr();
      if (!t || !ExpectIdent("else")) return nullptr;
      auto f = ParseExpr();
      if (!f) return nullptr;
      auto e = MakeExpr(ExprKind::kIf);
      e->kids.push_back(std::move(c));
      e->kids.push_back(std::move(t));
      e->kids.push_back(std::move(f));
      return Spanned(std::move(e), begin);
    }
    return ParseOr();
  }

  std::unique_ptr<Expr> ParseOr() {
    auto lhs = ParseAnd();
    while (lhs && IsPunct("||")) {
      Next();
      auto rhs = ParseAnd();
      if (!rhs) return nullptr;
      lhs = Binary(ExprKind::kOr, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  std::unique_ptr<Expr> ParseAnd() {
    auto lhs = ParseRelation();
    while (lhs && IsPunct("&&")) {
      Next();
      auto rhs = ParseRelation();
      if (!rhs) return nullptr;
      lhs = Binary(ExprKind::kAnd, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  std::unique_ptr<Expr> ParseRelation() {
    auto lhs = ParseAdd();
    if (!lhs) return nullptr;
    static const struct {
      std::string_view op;
      ExprKind kind;
    } kRelOps[] = {{"==", ExprKind::kEq}, {"!=", ExprKind::kNe}, {"<=", ExprKind::kLe},
                   {">=", ExprKind::kGe}, {"<", ExprKind::kLt},  {">", ExprKind::kGt}};
    for (const auto& r : kRelOps) {
      if (IsPunct(r.op)) {
        Next();
        auto rhs = ParseAdd();
        if (!rhs) return nullptr;
        return Binary(r.kind, std::move(lhs), std::move(rhs));
      }
    }
    if (IsPunct("=")) {
      Fail(Peek(), "`=` is not an operator (use `==`)");
      return nullptr;
    }
    if (IsIdent("in")) {
      Next();
      auto rhs = ParseAdd();
      if (!rhs) return nullptr;
      return Binary(ExprKind::kIn, std::move(lhs), std::move(rhs));
    }
    if (IsIdent("has")) {
      Next();
      std::vector<std::string> path;
      const Token& t = Peek();
      if (t.kind == TokKind::kStr) {
        Next();
        std::string s, err;
        if (!Unescape(t.text, false, &s, nullptr, &err)) {
          Fail(t, err);
          return nullptr;
        }
        path.push_back(std::move(s));
      } else if (t.kind == TokKind::kIdent) {
        if (IsReserved(t.text)) {
          Fail(t, "`" + std::string(t.text) + "` is a reserved identifier");
          return nullptr;
        }
        Next();
        path.emplace_back(t.text);
        while (IsPunct(".") && Peek(1).kind == TokKind::kIdent) {
          Next();
          const Token& n = Next();
          if (IsReserved(n.text)) {
            Fail(n, "`" + std::string(n.text) + "` is a reserved identifier");
            return nullptr;
          }
          path.emplace_back(n.text);
        }
      } else {
        Fail(t, "expected an attribute name after `has`, found " + Describe(t));
        return nullptr;
      }
      // e has a.b.c  ==>  e has a && e.a has b && e.a.b has c
      std::unique_ptr<Expr> result;
      for (size_t i = 0; i < path.size(); ++i) {
        auto base = CloneExpr(*lhs);
        for (size_t k = 0; k < i; ++k) {
          auto g = MakeExpr(ExprKind::kGetAttr);
          g->name = path[k];
          g->kids.push_back(std::move(base));
          base = Spanned(std::move(g), lhs->begin);
        }
        auto h = MakeExpr(ExprKind::kHas);
        h->name = path[i];
        h->kids.push_back(std::move(base));
        h = Spanned(std::move(h), lhs->begin);
        result = result ? Binary(ExprKind::kAnd, std::move(result), std::move(h)) : std::move(h);
      }
      return result;
    }
    if (IsIdent("like")) {
      Next();
      const Token& t = Peek();
      if (t.kind != TokKind::kStr) {
        Fail(t, "expected a pattern string after `like`, found " + Describe(t));
        return nullptr;
      }
      Next();
      auto e = MakeExpr(ExprKind::kLike);
      std::string err;
      if (!Unescape(t.text, true, nullptr, &e->pattern, &err)) {
        Fail(t, err);
        return nullptr;
      }
      std::uint32_t begin = lhs->begin;
      e->kids.push_back(std::move(lhs));
      return Spanned(std::move(e), begin);
    }
    if (IsIdent("is")) {
      Next();
      auto e = MakeExpr(ExprKind::kIs);
      if (!ParseTypeName(&e->name)) return nullptr;
      std::uint32_t begin = lhs->begin;
      e->kids.push_back(std::move(lhs));
      if (IsIdent("in")) {
        Next();
        auto rhs = ParseAdd();
        if (!rhs) return nullptr;
        e->kind = ExprKind::kIsIn;
        e->kids.push_back(std::move(rhs));
      }
      return Spanned(std::move(e), begin);
    }
    return lhs;
  }

  std::unique_ptr<Expr> ParseAdd() {
    auto lhs = ParseMult();
    while (lhs && (IsPunct("+") || IsPunct("-"))) {
      ExprKind k = Next().text == "+" ? ExprKind::kAdd : ExprKind::kSub;
      auto rhs = ParseMult();
      if (!rhs) return nullptr;
      lhs = Binary(k, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  std::unique_ptr<Expr> ParseMult() {
    auto lhs = ParseUnary();
    while (lhs && (IsPunct("*") || IsPunct("/") || IsPunct("%"))) {
      if (!IsPunct("*")) {
        Fail(Peek(), "`" + std::string(Peek().text) + "` is not supported");
        return nullptr;
      }
      Next();
      auto rhs = ParseUnary();
      if (!rhs) return nullptr;
      lhs = Binary(ExprKind::kMul, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  std::unique_ptr<Expr> ParseUnary() {
    DepthGuard guard(this);
    if (TooDeep()) return nullptr;
    std::vector<char> ops;
    std::vector<std::uint32_t> op_offsets;
    while (IsPunct("!") || IsPunct("-")) {
      op_offsets.push_back(Peek().offset);
      ops.push_back(Next().text[0]);
      if (ops.size() > options_.max_depth) {
        FailDepth();
        return nullptr;
      }
    }
    std::unique_ptr<Expr> e;
    // A `-` directly before an integer literal negates the literal itself, so that
    // -9223372036854775808 is representable.
    if (!ops.empty() && ops.back() == '-' && Peek().kind == TokKind::kInt) {
      const Token& t = Next();
      if (!ParseIntLiteral(t, true, &e)) return nullptr;
      ops.pop_back();
      e->begin = op_offsets.back();
      op_offsets.pop_back();
      e = ParseAccessChain(std::move(e));
    } else {
      e = ParseMember();
    }
    if (!e) return nullptr;
    for (size_t i = ops.size(); i-- > 0;) {
      auto u = MakeExpr(ops[i] == '!' ? ExprKind::kNot : ExprKind::kNeg);
      u->begin = op_offsets[i];
      u->end = e->end;
      u->kids.push_back(std::move(e));
      e = std::move(u);
    }
    return e;
  }

  bool ParseIntLiteral(const Token& t, bool negative, std::unique_ptr<Expr>* out) {
    std::uint64_t v = 0;
    for (char c : t.text) {
      if (v > (UINT64_MAX - 9) / 10) {
        Fail(t, "integer literal `" + std::string(t.text) + "` is out of range");
        return false;
      }
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    std::uint64_t limit = negative ? (1ULL << 63) : (1ULL << 63) - 1;
    if (v > limit) {
      Fail(t, "integer literal `" + std::string(negative ? "-" : "") + std::string(t.text) +
                  "` is out of range");
      return false;
    }
    std::int64_t n = negative ? static_cast<std::int64_t>(0ULL - v) : static_cast<std::int64_t>(v);
    auto e = MakeExpr(ExprKind::kLit);
    e->lit = Value::Long(n);
    e->begin = t.offset;
    e->end = t.offset + static_cast<std::uint32_t>(t.text.size());
    *out = std::move(e);
    return true;
  }

  std::unique_ptr<Expr> ParseMember() {
    auto e = ParsePrimary();
    if (!e) return nullptr;
    return ParseAccessChain(std::move(e));
  }

  // Parses `.attr`, `["attr"]` and method calls after `e`. As in the reference, every node of the
  // chain gets the span of the whole chain (`principal.manager.age` for `principal.manager` too),
  // while `e` and the arguments keep their own.
  std::unique_ptr<Expr> ParseAccessChain(std::unique_ptr<Expr> e) {
    const Expr* base = e.get();
    e = ParseAccessors(std::move(e));
    if (e && e.get() != base) {
      for (Expr* node = e.get(); node != base && !node->kids.empty(); node = node->kids[0].get()) {
        node->end = e->end;
      }
    }
    return e;
  }

  std::unique_ptr<Expr> ParseAccessors(std::unique_ptr<Expr> e) {
    while (e) {
      if (IsPunct(".")) {
        Next();
        const Token& name = Peek();
        if (name.kind != TokKind::kIdent) {
          Fail(name, "expected an attribute or method name after `.`, found " + Describe(name));
          return nullptr;
        }
        Next();
        if (IsPunct("(")) {
          e = ParseMethodCall(name, std::move(e));
        } else {
          if (IsReserved(name.text)) {
            Fail(name, "`" + std::string(name.text) + "` is a reserved identifier");
            return nullptr;
          }
          auto g = MakeExpr(ExprKind::kGetAttr);
          g->name = std::string(name.text);
          std::uint32_t begin = e->begin;
          g->kids.push_back(std::move(e));
          e = Spanned(std::move(g), begin);
        }
      } else if (IsPunct("[")) {
        Next();
        const Token& s = Peek();
        if (s.kind != TokKind::kStr) {
          Fail(s, "expected a string literal inside `[...]`, found " + Describe(s));
          return nullptr;
        }
        Next();
        auto g = MakeExpr(ExprKind::kGetAttr);
        std::string err;
        if (!Unescape(s.text, false, &g->name, nullptr, &err)) {
          Fail(s, err);
          return nullptr;
        }
        if (!Expect("]")) return nullptr;
        std::uint32_t begin = e->begin;
        g->kids.push_back(std::move(e));
        e = Spanned(std::move(g), begin);
      } else {
        break;
      }
    }
    return e;
  }

  bool ParseArgs(std::vector<std::unique_ptr<Expr>>* args) {
    if (!Expect("(")) return false;
    while (!IsPunct(")")) {
      auto a = ParseExpr();
      if (!a) return false;
      args->push_back(std::move(a));
      if (IsPunct(",")) {
        Next();
      } else if (!IsPunct(")")) {
        Fail(Peek(), "expected `,` or `)`, found " + Describe(Peek()));
        return false;
      }
    }
    Next();
    return true;
  }

  std::unique_ptr<Expr> ParseMethodCall(const Token& name, std::unique_ptr<Expr> receiver) {
    std::uint32_t begin = receiver->begin;
    std::vector<std::unique_ptr<Expr>> args;
    if (!ParseArgs(&args)) return nullptr;
    static const struct {
      std::string_view name;
      ExprKind kind;
      size_t args;
    } kBuiltin[] = {
        {"contains", ExprKind::kContains, 1},       {"containsAll", ExprKind::kContainsAll, 1},
        {"containsAny", ExprKind::kContainsAny, 1}, {"isEmpty", ExprKind::kIsEmpty, 0},
        {"getTag", ExprKind::kGetTag, 1},           {"hasTag", ExprKind::kHasTag, 1}};
    for (const auto& b : kBuiltin) {
      if (b.name == name.text) {
        if (args.size() != b.args) {
          Fail(name, "call to `" + std::string(name.text) + "` takes " + std::to_string(b.args) +
                         " argument(s), found " + std::to_string(args.size()));
          return nullptr;
        }
        auto e = MakeExpr(b.kind);
        e->kids.push_back(std::move(receiver));
        for (auto& a : args) e->kids.push_back(std::move(a));
        return Spanned(std::move(e), begin);
      }
    }
    const FnInfo* f = FindFn(name.text);
    if (!f) {
      Fail(name, "`" + std::string(name.text) + "` is not a known method");
      return nullptr;
    }
    if (!f->method) {
      Fail(name, "`" + std::string(name.text) + "` is a function, not a method");
      return nullptr;
    }
    // A wrong number of arguments is an evaluation error, as in the reference.
    auto e = MakeExpr(ExprKind::kCall);
    e->fn = f->fn;
    e->kids.push_back(std::move(receiver));
    for (auto& a : args) e->kids.push_back(std::move(a));
    return Spanned(std::move(e), begin);
  }

  std::unique_ptr<Expr> ParsePrimary() {
    DepthGuard guard(this);
    if (TooDeep()) return nullptr;
    const Token& t = Peek();
    switch (t.kind) {
      case TokKind::kInt: {
        Next();
        std::unique_ptr<Expr> e;
        if (!ParseIntLiteral(t, false, &e)) return nullptr;
        return e;
      }
      case TokKind::kStr: {
        Next();
        std::string s, err;
        if (!Unescape(t.text, false, &s, nullptr, &err)) {
          Fail(t, err);
          return nullptr;
        }
        auto e = MakeExpr(ExprKind::kLit);
        e->lit = Value::String(std::move(s));
        return Spanned(std::move(e), t.offset);
      }
      case TokKind::kPunct: {
        if (t.text == "(") {
          Next();
          auto e = ParseExpr();
          if (!e || !Expect(")")) return nullptr;
          return e;
        }
        if (t.text == "[") {
          auto e = MakeExpr(ExprKind::kSet);
          const bool parsed = ParseList([&] {
            auto el = ParseExpr();
            if (!el) return false;
            e->kids.push_back(std::move(el));
            return true;
          });
          if (!parsed) return nullptr;
          return Spanned(std::move(e), t.offset);
        }
        if (t.text == "{") {
          Next();
          auto e = MakeExpr(ExprKind::kRecord);
          while (!IsPunct("}")) {
            const Token& k = Peek();
            std::string key;
            if (k.kind == TokKind::kStr) {
              std::string err;
              if (!Unescape(k.text, false, &key, nullptr, &err)) {
                Fail(k, err);
                return nullptr;
              }
            } else if (k.kind == TokKind::kIdent) {
              if (IsReserved(k.text)) {
                Fail(k, "`" + std::string(k.text) + "` is a reserved identifier");
                return nullptr;
              }
              key = std::string(k.text);
            } else {
              Fail(k, "expected a record key, found " + Describe(k));
              return nullptr;
            }
            Next();
            if (std::find(e->keys.begin(), e->keys.end(), key) != e->keys.end()) {
              Fail(k, "duplicate key `" + key + "` in record literal");
              return nullptr;
            }
            if (!Expect(":")) return nullptr;
            auto v = ParseExpr();
            if (!v) return nullptr;
            e->keys.push_back(std::move(key));
            e->kids.push_back(std::move(v));
            if (IsPunct(",")) {
              Next();
            } else if (!IsPunct("}")) {
              Fail(Peek(), "expected `,` or `}`, found " + Describe(Peek()));
              return nullptr;
            }
          }
          Next();
          return Spanned(std::move(e), t.offset);
        }
        if (t.text == "?") {
          Fail(t, "template slots are only allowed in the policy scope");
          return nullptr;
        }
        Fail(t, "unexpected " + Describe(t));
        return nullptr;
      }
      case TokKind::kIdent: {
        if (t.text == "true" || t.text == "false") {
          Next();
          auto e = MakeExpr(ExprKind::kLit);
          e->lit = Value::Bool(t.text == "true");
          return Spanned(std::move(e), t.offset);
        }
        if (IsPunct("::", 1)) {
          // An entity literal, or a namespaced function call.
          size_t save = pos_;
          std::string path;
          if (!ParseTypeName(&path)) return nullptr;
          if (IsPunct("::") && Peek(1).kind == TokKind::kStr) {
            pos_ = save;
            EntityUid uid;
            if (!ParseEntityLiteral(&uid)) return nullptr;
            auto e = MakeExpr(ExprKind::kLit);
            e->lit = Value::Entity(std::move(uid));
            return Spanned(std::move(e), t.offset);
          }
          if (IsPunct("(")) {
            Fail(t, "`" + path + "` is not a known function");
            return nullptr;
          }
          Fail(Peek(), "expected `::\"id\"` after `" + path + "`");
          return nullptr;
        }
        if (IsPunct("(", 1)) {
          Next();
          const FnInfo* f = FindFn(t.text);
          if (!f) {
            Fail(t, "`" + std::string(t.text) + "` is not a known function");
            return nullptr;
          }
          if (f->method) {
            Fail(t, "`" + std::string(t.text) + "` is a method, not a function");
            return nullptr;
          }
          auto e = MakeExpr(ExprKind::kCall);
          e->fn = f->fn;
          if (!ParseArgs(&e->kids)) return nullptr;
          // Fold a constructor of a valid literal (`decimal("0.5")`) into a value; invalid ones
          // stay calls, so that they error at evaluation as in the reference.
          if (e->kids.size() == 1 && e->kids[0]->kind == ExprKind::kLit &&
              e->kids[0]->lit.is(ValueKind::kString)) {
            Value folded;
            std::string ignored;
            if (CallExtension(e->fn, &e->kids[0]->lit, 1, &folded, &ignored)) {
              auto lit = MakeExpr(ExprKind::kLit);
              lit->lit = std::move(folded);
              return Spanned(std::move(lit), t.offset);
            }
          }
          return Spanned(std::move(e), t.offset);
        }
        static const struct {
          std::string_view name;
          Var var;
        } kVars[] = {{"principal", Var::kPrincipal},
                     {"action", Var::kAction},
                     {"resource", Var::kResource},
                     {"context", Var::kContext}};
        for (const auto& v : kVars) {
          if (t.text == v.name) {
            Next();
            auto e = MakeExpr(ExprKind::kVar);
            e->var = v.var;
            return Spanned(std::move(e), t.offset);
          }
        }
        if (IsReserved(t.text)) {
          Fail(t, "`" + std::string(t.text) + "` is a reserved identifier");
        } else {
          Fail(t, "unknown variable `" + std::string(t.text) + "`");
        }
        return nullptr;
      }
      default: Fail(t, "unexpected " + Describe(t)); return nullptr;
    }
  }

  std::string_view src_;
  const PolicySetOptions& options_;
  size_t depth_ = 0;
};

}  // namespace

bool LookupExtFn(std::string_view name, ExtFn* fn, bool* method, int* args) {
  const FnInfo* f = FindFn(name);
  if (!f) return false;
  *fn = f->fn;
  *method = f->method;
  *args = f->args;
  return true;
}

Status ParsePolicies(std::string_view text, std::string_view source_name,
                     const PolicySetOptions& options, std::vector<ParsedPolicy>* out) {
  if (text.size() > options.max_bytes) {
    return Status::ResourceExhausted("policy text is " + std::to_string(text.size()) +
                                     " bytes, over the limit of " +
                                     std::to_string(options.max_bytes));
  }
  Parser parser(text, source_name, options);
  return parser.ParseAll(out);
}

SourceSpan LocateSpan(const PolicyAst& ast, std::uint32_t begin, std::uint32_t end,
                      const SourceSpan& fallback) {
  if (end == 0 || ast.line_starts.empty() || begin < ast.line_starts.front()) return fallback;
  auto it = std::upper_bound(ast.line_starts.begin(), ast.line_starts.end(), begin);
  --it;
  SourceSpan span;
  span.line = ast.first_line + static_cast<std::uint32_t>(it - ast.line_starts.begin());
  span.column = begin - *it + 1;
  span.begin = begin;
  span.end = end;
  return span;
}

std::unique_ptr<Expr> CloneExpr(const Expr& e) {
  auto c = std::make_unique<Expr>();
  c->kind = e.kind;
  c->var = e.var;
  c->fn = e.fn;
  c->lit = e.lit;
  c->name = e.name;
  c->keys = e.keys;
  c->pattern = e.pattern;
  c->begin = e.begin;
  c->end = e.end;
  for (const auto& k : e.kids) c->kids.push_back(CloneExpr(*k));
  return c;
}

Result<EntityUid> ParseUidLiteral(std::string_view text) {
  PolicySetOptions options;
  if (text.size() > 1u << 16) return Status::ResourceExhausted("entity uid is too long");
  Parser parser(text, "", options);
  EntityUid uid;
  if (!parser.ParseOnlyUid(&uid)) return parser.error();
  return uid;
}

}  // namespace arbiter::cedar::internal
