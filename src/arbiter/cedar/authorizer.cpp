#include "arbiter/cedar/authorizer.h"

#include <algorithm>

#include "arbiter/cedar/internal/evaluator.h"
#include "arbiter/cedar/internal/schema_data.h"
#include "arbiter/common/json.h"

namespace arbiter::cedar {

std::string_view DecisionName(Decision d) { return d == Decision::kAllow ? "allow" : "deny"; }

Response IsAuthorized(const Request& request, const PolicySet& policies, const Entities& entities) {
  return IsAuthorized(request, policies, entities, ResponseDetail::kFull);
}

Response IsAuthorized(const Request& request, const PolicySet& policies, const Entities& entities,
                      ResponseDetail detail) {
  Response response;
  internal::Evaluator eval(request, entities);
  const internal::PolicyIndex& index = policies.index();
  const std::vector<size_t>* by_action = nullptr;
  if (!index.by_action.empty()) {
    auto it = index.by_action.find(request.action);
    if (it != index.by_action.end()) by_action = &it->second;
  }
  // Merge the two ordered candidate lists so policies are visited in policy-set order.
  const std::vector<size_t>& other = index.other;
  size_t i = 0, j = 0;
  size_t nj = by_action ? by_action->size() : 0;
  bool forbidden = false;
  const std::vector<Policy>& all = policies.policies();
  while (i < other.size() || j < nj) {
    size_t k;
    bool action_known = false;  // indexed under this very action: its `action ==` holds
    if (j >= nj || (i < other.size() && other[i] < (*by_action)[j])) {
      k = other[i++];
    } else {
      k = (*by_action)[j++];
      action_known = true;
    }
    const Policy& p = all[k];
    const internal::PolicyAst& ast = p.ast();
    if (!(action_known ? eval.ScopeMatchesKnownAction(ast) : eval.ScopeMatches(ast))) continue;
    if (forbidden && p.effect() == Effect::kPermit && ast.conditions.empty()) continue;
    bool satisfied = false;
    if (!eval.EvalConditions(ast, &satisfied)) {
      response.errors.push_back(
          AuthorizationError{p.id(), "while evaluating policy `" + p.id() + "`: " + eval.error()});
      continue;
    }
    if (!satisfied) continue;
    if (p.effect() == Effect::kForbid) {
      if (!forbidden) {
        forbidden = true;
        response.reason_indexes.clear();
      }
      response.reason_indexes.push_back(k);
    } else if (!forbidden) {
      response.reason_indexes.push_back(k);
    }
  }
  response.decision =
      (!forbidden && !response.reason_indexes.empty()) ? Decision::kAllow : Decision::kDeny;
  if (detail == ResponseDetail::kFull) {
    response.reasons.reserve(response.reason_indexes.size());
    for (size_t k : response.reason_indexes) response.reasons.push_back(all[k].id());
  }
  return response;
}

std::vector<const Policy*> DeterminingPolicies(const Response& response,
                                               const PolicySet& policies) {
  std::vector<const Policy*> out;
  for (size_t k : response.reason_indexes) {
    if (k < policies.size()) out.push_back(&policies.policies()[k]);
  }
  return out;
}

Status ValidateRequest(const Request& request, const Schema& schema) {
  const internal::SchemaData& sd = schema.data();
  auto it = sd.actions.find(request.action);
  if (it == sd.actions.end()) {
    return Status::InvalidArgument("request: action `" + request.action.ToString() +
                                   "` is not declared in the schema");
  }
  const internal::ActionDef& def = it->second;
  auto check_entity = [&](const EntityUid& uid, const std::vector<std::string>& allowed,
                          std::string_view role) -> Status {
    if (std::find(allowed.begin(), allowed.end(), uid.type()) == allowed.end()) {
      return Status::InvalidArgument("request: " + std::string(role) + " type `" + uid.type() +
                                     "` is not valid for action `" + request.action.ToString() +
                                     "`");
    }
    auto et = sd.entity_types.find(uid.type());
    if (et != sd.entity_types.end() && et->second.enum_ids) {
      const auto& ids = *et->second.enum_ids;
      if (std::find(ids.begin(), ids.end(), uid.id()) == ids.end()) {
        return Status::InvalidArgument("request: " + std::string(role) + " `" + uid.ToString() +
                                       "` is not one of the enumerated ids of its type");
      }
    }
    return Status::Ok();
  };
  ARBITER_RETURN_IF_ERROR(check_entity(request.principal, def.principals, "principal"));
  ARBITER_RETURN_IF_ERROR(check_entity(request.resource, def.resources, "resource"));
  return internal::OneLine(
      internal::CheckType(request.context, *def.context, sd, "request context"));
}

Result<Value> ParseContextJson(std::string_view json, const Schema* schema,
                               const EntityUid& action) {
  ARBITER_TRY(boost::json::value doc, ParseJson(json, JsonLimits{16u << 20, 64}));
  auto r = internal::ParseContextValue(doc, schema ? &schema->data() : nullptr, action);
  if (!r) return internal::OneLine(r.error());
  return r;
}

namespace internal {
Result<Value> ParseContextValue(const boost::json::value& json, const SchemaData* schema,
                                const EntityUid& action) {
  if (!json.is_object()) return Status::InvalidArgument("context: expected a JSON object");
  if (!schema) return ParseUntypedJson(json, "context");
  auto it = schema->actions.find(action);
  if (it == schema->actions.end()) {
    return Status::InvalidArgument("context: action `" + action.ToString() +
                                   "` is not declared in the schema");
  }
  return ParseTypedJson(json, *it->second.context, "context");
}
}  // namespace internal

}  // namespace arbiter::cedar
