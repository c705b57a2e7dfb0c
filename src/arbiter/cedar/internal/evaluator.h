// Evaluates policy conditions for one request. No exceptions; an error leaves a one-line message.
#pragma once

#include <string>

#include "arbiter/cedar/authorizer.h"
#include "arbiter/cedar/internal/ast.h"

namespace arbiter::cedar::internal {

class Evaluator {
 public:
  Evaluator(const Request& request, const Entities& entities);

  // Whether the scope matches (never errors).
  bool ScopeMatches(const PolicyAst& ast) const;
  // The same for a policy whose action scope is known to match (PolicyIndex::by_action).
  bool ScopeMatchesKnownAction(const PolicyAst& ast) const;

  // Evaluates the conditions. Returns false on error (message in error()); otherwise *satisfied.
  bool EvalConditions(const PolicyAst& ast, bool* satisfied);

  // Evaluates one expression. `*out` may refer to the request's entity uids without owning them
  // (Value::BorrowedEntity): it must not outlive the request.
  bool Eval(const Expr& e, Value* out);

  const std::string& error() const { return error_; }

 private:
  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }
  bool TypeError(std::string_view what, const Value& got);
  const Value* FailPtr(std::string message) {
    Fail(std::move(message));
    return nullptr;
  }
  const Value* TypeErrorPtr(std::string_view what, const Value& got) {
    TypeError(what, got);
    return nullptr;
  }
  const Value* EvalRef(const Expr& e, Value* scratch);
  bool InTarget(const EntityUid& a, const Value& b, bool* found);
  const EntityData* FindEntity(const Value* entity_value);
  bool EvalBool(const Expr& e, bool* out);
  bool EvalCall(const Expr& e, Value* out);
  bool ScopeOk(const Scope& s, const EntityUid& uid) const;

  const Request& request_;
  const Entities& entities_;
  const Value* Var(internal::Var var);

  Value vars_[3];
  bool var_built_[3] = {false, false, false};
  const EntityData* var_entity_[3] = {nullptr, nullptr, nullptr};
  bool var_looked_up_[3] = {false, false, false};
  std::string error_;
};

// Applies an extension function or method to evaluated arguments (receiver first). Returns false
// with `error` set on a type, arity, parse or overflow error.
bool CallExtension(ExtFn fn, const Value* args, size_t nargs, Value* out, std::string* error);

bool MatchesPattern(const std::vector<PatternPart>& pattern, std::string_view text);

}  // namespace arbiter::cedar::internal
