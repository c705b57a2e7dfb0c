// The policy AST the parser produces and the evaluator walks. Private to the cedar module.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/value.h"

namespace arbiter::cedar::internal {

enum class Var : std::uint8_t { kPrincipal, kAction, kResource, kContext };

enum class ExprKind : std::uint8_t {
  kLit,
  kVar,
  kNot,
  kNeg,
  kAnd,
  kOr,
  kIf,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAdd,
  kSub,
  kMul,
  kIn,
  kHas,      // name
  kGetAttr,  // name
  kLike,     // pattern
  kIs,       // name = entity type
  kIsIn,     // name = entity type; kids: expr, in-target
  kContains,
  kContainsAll,
  kContainsAny,
  kIsEmpty,
  kGetTag,
  kHasTag,
  kSet,
  kRecord,  // keys parallel to kids
  kCall,    // fn
};

enum class ExtFn : std::uint8_t {
  kDecimal,
  kIp,
  kDatetime,
  kDuration,
  kLessThan,
  kLessThanOrEqual,
  kGreaterThan,
  kGreaterThanOrEqual,
  kIsIpv4,
  kIsIpv6,
  kIsLoopback,
  kIsMulticast,
  kIsInRange,
  kOffset,
  kDurationSince,
  kToDate,
  kToTime,
  kToMilliseconds,
  kToSeconds,
  kToMinutes,
  kToHours,
  kToDays,
};

// One element of a `like` pattern: a literal run, or a wildcard when `wildcard` is set.
struct PatternPart {
  bool wildcard = false;
  std::string text;
};

struct Expr {
  ExprKind kind = ExprKind::kLit;
  Var var = Var::kPrincipal;
  ExtFn fn = ExtFn::kDecimal;
  // Where the expression is in the policy text: byte offsets [begin, end) (both 0 when the
  // expression has no source, e.g. from the JSON format). `begin` and `end` sit in what would
  // otherwise be padding, so they do not make Expr larger.
  std::uint32_t begin = 0;
  Value lit;
  std::string name;
  std::vector<std::string> keys;
  std::vector<PatternPart> pattern;
  std::vector<std::unique_ptr<Expr>> kids;
  // kGetAttr: where `name` was last found in a record, to skip the search next time (records of
  // one entity type usually have the same shape). Relaxed atomic: policies are shared by threads.
  mutable std::atomic<std::uint32_t> field_hint{0};
  std::uint32_t end = 0;
};

enum class ScopeKind : std::uint8_t { kAny, kEq, kIn, kIs, kIsIn, kInSet };

struct Scope {
  ScopeKind kind = ScopeKind::kAny;
  bool slot = false;            // the target is ?principal / ?resource
  EntityUid uid;                // kEq, kIn, kIsIn
  std::string type;             // kIs, kIsIn
  std::vector<EntityUid> uids;  // kInSet
  // Byte offsets [begin, end) of the whole constraint (`principal in Group::"a"`), of the entity
  // literal `uid` (`Group::"a"`), and of each of `uids`.
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::uint32_t uid_begin = 0;
  std::uint32_t uid_end = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> uid_spans;
};

struct Condition {
  bool is_when = true;
  // Shared: a template's linked policies share its conditions (slots only occur in the scope).
  std::shared_ptr<const Expr> expr;
};

struct PolicyAst {
  Scope principal;
  Scope action;
  Scope resource;
  std::vector<Condition> conditions;
  // For turning byte offsets into line:column: the policy starts on line `first_line`, and
  // `line_starts[i]` is the byte offset where line `first_line + i` starts (empty without source).
  std::uint32_t first_line = 0;
  std::vector<std::uint32_t> line_starts;
};

// The span of bytes [begin, end) of `ast`'s policy text, with its line:column; `fallback` (the
// policy's span) when there is no position (begin == end == 0, or no line table).
SourceSpan LocateSpan(const PolicyAst& ast, std::uint32_t begin, std::uint32_t end,
                      const SourceSpan& fallback);

// Per-action buckets of policy indexes so that most policies are skipped without evaluation.
struct PolicyIndex {
  // Policies with `action == X` are in `by_action[X]`; all others (any action, `action in ...`) are
  // in `other`. Both lists are in policy-set order. Templates are in neither; template-linked
  // policies are indexed like static ones.
  std::vector<size_t> other;
  std::unordered_map<EntityUid, std::vector<size_t>, EntityUidHash> by_action;
};

struct ParsedPolicy {
  Effect effect = Effect::kPermit;
  std::vector<std::pair<std::string, std::optional<std::string>>> annotations;
  SourceSpan span;
  bool is_template = false;
  std::shared_ptr<PolicyAst> ast;
};

Status ParsePolicies(std::string_view text, std::string_view source_name,
                     const PolicySetOptions& options, std::vector<ParsedPolicy>* out);

// Builds a PolicySet from parsed policies with the given ids (one per policy, in order; duplicates
// are an error). Used by the JSON policy format, whose ids are object keys.
Result<PolicySet> BuildPolicySet(std::vector<ParsedPolicy> parsed,
                                 const std::vector<std::string>& ids,
                                 const PolicySetOptions& options, std::string_view source_name);

// Makes an error message one line: control characters from user input become escapes.
Status OneLine(Status s);

// Finds an extension function or method by name; `args` excludes the receiver.
bool LookupExtFn(std::string_view name, ExtFn* fn, bool* method, int* args);

// Parses `Type::"id"` (possibly namespaced).
Result<EntityUid> ParseUidLiteral(std::string_view text);

// A deep copy of `e`, spans included.
std::unique_ptr<Expr> CloneExpr(const Expr& e);

}  // namespace arbiter::cedar::internal
