// Compact JSON text of a routing decision, written directly instead of building a boost::json
// tree: the bytes of ToJson(routing::RoutingDecisionToJson(d)), which POST /v1/cases and
// POST /v1/route answer with, at a fraction of the cost.
//
//   std::string out = "{\"decision\":";
//   AppendRoutingDecisionJson(decision, out);
//
// tests/server/decision_json_test.cpp pins the equality for every shape of decision; a change to
// RoutingDecisionToJson's output fails it.
#pragma once

#include <string>

#include "arbiter/routing/router.h"

namespace arbiter::server::internal {

void AppendRoutingDecisionJson(const routing::RoutingDecision& d, std::string& out);

}  // namespace arbiter::server::internal
