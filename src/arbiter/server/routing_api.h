// The routing engine's HTTP side: cases in, decisions out, the case lifecycle (claim, intents,
// approvals, overrides, escalation, close, outcomes), policy pack reload and crypto-shredding,
// and the adapter that writes routing evidence into the ledger.
//
//   LedgerEvidenceSink sink(ledger.get());
//   routing::PackStore packs(&sink, clock);
//   routing::RoutingService service({&packs, &sink, &keys, &grants, nullptr, &clock});
//   ARBITER_RETURN_IF_ERROR(AddRoutingRoutes(router, {&service, &packs, ledger.get(), pack_dir}));
//
// Principals become Cedar entities: an agent instance spiffe://<td>/agent/<workload>/<id> acts as
// Agent::"<workload>", a person as Human::"<user name>".
#pragma once

#include <string>

#include "arbiter/common/status.h"
#include "arbiter/ledger/ledger.h"
#include "arbiter/routing/bundle.h"
#include "arbiter/routing/evidence.h"
#include "arbiter/routing/service.h"
#include "arbiter/routing/sqlite_case_store.h"
#include "arbiter/server/case_grants.h"
#include "arbiter/server/evidence_committer.h"
#include "arbiter/server/metrics.h"
#include "arbiter/server/router.h"

namespace arbiter::server {

// Evidence records go into the ledger. Without a committer Append returns once the record is
// durable; with one it returns the record's index at once and the routing endpoints hold their
// responses until the record is durable (see evidence_committer.h).
class LedgerEvidenceSink final : public routing::EvidenceSink {
 public:
  explicit LedgerEvidenceSink(ledger::Ledger* ledger, EvidenceCommitter* committer = nullptr)
      : ledger_(ledger), committer_(committer) {}
  Result<std::uint64_t> Append(std::string_view canonical_json) override;

 private:
  ledger::Ledger* ledger_;
  EvidenceCommitter* committer_;
};

// Borrowed; must outlive the router.
struct RoutingServices {
  routing::RoutingService* service = nullptr;
  routing::PackStore* packs = nullptr;
  ledger::Ledger* ledger = nullptr;  // for ?wait=integrated receipts
  std::string pack_dir;              // reloaded by POST /v1/admin/policy/reload
  // When set: arbiter_decisions_total{route,queue} and
  // arbiter_decision_policies_total{policy,effect} count the decisions the API makes.
  MetricsRegistry* metrics = nullptr;
  // When set, responses that wrote evidence are sent once it is durable (group commit).
  EvidenceCommitter* committer = nullptr;
  // When set (the store runs group commit), responses that changed a case are sent once its row
  // is committed too.
  routing::SqliteRoutingStore* case_store = nullptr;
  // When set: grants bound to the claiming instance, GET /v1/cases/{id}/view and
  // POST /v1/intents/introspect (both 503 without it).
  CaseGrants* grants = nullptr;
  size_t max_source_bytes = 1u << 20;  // payloads of POST /v1/sources/{source}
  size_t max_json_depth = 64;
};

// Registers POST /v1/route, POST /v1/cases, POST /v1/sources/{source}, GET /v1/cases/{id},
// GET /v1/cases/{id}/view, POST /v1/cases/{id}/claim, POST /v1/intents,
// POST /v1/intents/introspect, POST /v1/cases/{id}/{approve,override,escalate,close,outcomes},
// POST /v1/admin/policy/reload and DELETE /v1/admin/cases/{id}/personal-data. Without a loaded
// pack they answer 503.
Status AddRoutingRoutes(Router& router, RoutingServices services);

}  // namespace arbiter::server
