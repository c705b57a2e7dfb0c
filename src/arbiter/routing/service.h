// RoutingService: the routing engine as the server uses it. It routes cases under the bundle in
// force, keeps each case's lifecycle, asks the grant issuer for case grants and intent tokens,
// writes one evidence record per event, and reports missed escalations. Thread-safe.
//
//   InMemoryEvidenceSink sink;  InMemoryCaseKeyStore keys;  InMemoryGrantIssuer grants(clock);
//   PackStore packs(&sink, clock);
//   ARBITER_RETURN_IF_ERROR(packs.Load("examples/support", Actor{"human", "alice"}).status());
//   RoutingService service({&packs, &sink, &keys, &grants, /*signals=*/nullptr, &clock});
//   ARBITER_TRY(auto routed, service.RouteCase(c, {}, Actor{"source", "zendesk"}));
//   if (routed.decision->route == Route::kAi) {
//     ARBITER_TRY(auto claim, service.Claim(c.id, agent_uid, Actor{"agent", spiffe_id}));
//     ARBITER_TRY(auto intent, service.RequestIntent(c.id, agent_uid, "refund",
//                                                    {{"amount_cents", 2500}}, actor));
//   }
//
// Evidence record types: "route", "claim", "intent", "approval", "override", "escalation",
// "close", "outcome", "pack_load" (docs/ROUTING.md lists their fields). Case ids, customer ids
// and text appear only as keyed hashes under the case's key; Shred() deletes the key.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/cedar/value.h"
#include "arbiter/common/clock.h"
#include "arbiter/common/sharded_hash.h"
#include "arbiter/common/status.h"
#include "arbiter/routing/bundle.h"
#include "arbiter/routing/case_store.h"
#include "arbiter/routing/evidence.h"
#include "arbiter/routing/grants.h"
#include "arbiter/routing/lifecycle.h"
#include "arbiter/routing/router.h"
#include "arbiter/routing/signals.h"
#include "arbiter/sources/case.h"

namespace arbiter::routing {

struct ServiceDeps {
  PackStore* packs = nullptr;         // required
  EvidenceSink* sink = nullptr;       // required
  CaseKeyStore* keys = nullptr;       // required
  GrantIssuer* grants = nullptr;      // required
  SignalComputer* signals = nullptr;  // optional: without it only given signals are used
  const Clock* clock = nullptr;       // required
  // Optional: where cases are kept across restarts (case_store.h). Without it they live only in
  // this object. With it, every transition is handed to the store before the call returns: written
  // through, or queued for a group commit (SqliteRoutingStore with group_commit, whose caller
  // waits for the row's ticket before acknowledging). Open() reloads every case. With it, closed
  // cases leave memory too: once a call has committed a case as closed, the service keeps only
  // its id and reads it back from the store (CaseStore::Get) when it is needed again.
  CaseStore* cases = nullptr;
};

struct RouteResult {
  // Shared with the case's state (CaseSnapshot::last_route): never null, never changed.
  std::shared_ptr<const RoutingDecision> decision;
  std::optional<std::uint64_t> evidence_index;
};

struct ClaimResult {
  CaseGrant grant;
  std::optional<std::uint64_t> evidence_index;
};

struct IntentResult {
  IntentDecision decision;
  std::string request_id;    // names a pending approval
  std::string intent_token;  // set when allowed
  std::optional<std::uint64_t> evidence_index;
};

struct ApprovalResult {
  PersonDecision approval;
  std::optional<IntentResult> intent;  // the intent re-evaluated with context.approval
  std::optional<std::uint64_t> evidence_index;
};

struct OverrideResult {
  PersonDecision decision;
  std::optional<std::uint64_t> evidence_index;
};

struct MissedEscalation {
  std::string case_id;
  std::vector<std::string> signals;   // "escalated_later", "reopened", "disputed", "low_csat"
  std::string bundle_hash;            // of the decision that kept the case with AI
  std::vector<std::string> policies;  // the permits that kept it with AI
};

struct CaseSnapshot {
  std::string case_id;
  CaseState state = CaseState::kNew;
  Holder holder = Holder::kNone;
  std::string queue;
  std::string agent;
  std::shared_ptr<const RoutingDecision> last_route;  // null before the first route
  std::vector<std::uint64_t> evidence;  // ledger indexes of this case's records, in order
  std::vector<std::string> pending;     // request ids of intents waiting for approval
  bool shredded = false;
};

// The evidence record of a routing decision, as RouteCase appends it: the case, customer and text
// as keyed hashes under `key`, the decision, its policies, errors and signal values.
boost::json::object RouteRecord(const Bundle& bundle, const sources::Case& c,
                                const RoutingDecision& d, const CaseKey& key, const Actor& actor,
                                std::int64_t at_micros);

// The same record as CanonicalJson(RouteRecord(...)), written directly (the hot path).
std::string RouteRecordJson(const Bundle& bundle, const sources::Case& c, const RoutingDecision& d,
                            const CaseKey& key, const Actor& actor, std::int64_t at_micros);

class RoutingService {
 public:
  // Constructs the service and reloads every case from deps.cases (when set). A load failure is
  // kept and returned by every later call; prefer Open(), which returns it at once.
  explicit RoutingService(ServiceDeps deps);
  static Result<std::unique_ptr<RoutingService>> Open(ServiceDeps deps);

  // Routes a new (or reopened) case. `given` signals take precedence over computed ones; `agent`
  // is the ai_handle principal (default: the pack's AI pool). The case state keeps `c`: pass it
  // with std::move when it is not needed afterwards (a copy otherwise).
  Result<RouteResult> RouteCase(sources::Case c, const ComputedSignals& given, const Actor& actor,
                                const std::optional<cedar::EntityUid>& agent = std::nullopt);
  // An agent takes a case routed to AI: ai_handle is re-checked for this agent, then a case grant
  // is issued. A deny escalates the case instead (kFailedPrecondition names the queue).
  Result<ClaimResult> Claim(std::string_view case_id, const cedar::EntityUid& agent,
                            const Actor& actor);
  Result<IntentResult> RequestIntent(std::string_view case_id, const cedar::EntityUid& agent,
                                     std::string_view intent, const boost::json::object& params,
                                     const Actor& actor);
  // A person approves a pending intent (`request_id` from RequestIntent).
  Result<ApprovalResult> Approve(std::string_view case_id, std::string_view request_id,
                                 const cedar::EntityUid& person, const Actor& actor);
  Result<OverrideResult> Override(std::string_view case_id, const cedar::EntityUid& person,
                                  Route to, std::string_view queue, const Actor& actor);
  // The agent (or a system check) hands the case to a person.
  Result<std::optional<std::uint64_t>> Escalate(std::string_view case_id, std::string_view queue,
                                                std::string_view reason, const Actor& actor);
  Result<std::optional<std::uint64_t>> Close(std::string_view case_id, std::string_view resolution,
                                             const Actor& actor);
  // `score` is the satisfaction score (1..5) for kSatisfaction.
  Result<std::optional<std::uint64_t>> RecordOutcome(std::string_view case_id, OutcomeKind kind,
                                                     std::optional<std::int64_t> score,
                                                     const Actor& actor);

  // A closed case is read from the store (not kept in memory); nullopt for an unknown case, and
  // also when that read fails.
  std::optional<CaseSnapshot> Get(std::string_view case_id) const;
  // The native case as routed (text and customer cleared once shredded).
  std::optional<sources::Case> CaseOf(std::string_view case_id) const;
  size_t size() const;            // cases known
  size_t resident_cases() const;  // ... of which held in memory (all but the closed ones)
  // Cases the AI kept that were later escalated, reopened, disputed or rated 1-2 of 5, in case-id
  // order. Reads every closed case from the store, one at a time and without holding the service's
  // lock (an admin report, not for the hot path); a closed case that cannot be read is left out.
  std::vector<MissedEscalation> MissedEscalations() const;
  // Crypto-shreds the case: forgets its text and customer (in the store too), then deletes its key.
  Status Shred(std::string_view case_id);

 private:
  using CaseEntry = StoredCase;
  class EvictOnExit;

  Status Load();
  Result<std::shared_ptr<const Bundle>> CurrentBundle() const;
  // The case in memory; a closed case is read back from the store and held until the call ends
  // (EvictOnExit).
  Result<CaseEntry*> Find(std::string_view case_id);
  // The case as stored (nullopt: not stored, or the read failed). Called without mu_, for a case
  // found in closed_ under it: a store read may wait for rows queued for the group commit, which
  // must not hold up every other call. A call that reopens the case meanwhile has queued its row
  // before releasing mu_, and the read waits for it.
  std::optional<CaseEntry> ReadStored(std::string_view case_id) const;
  // With a store: when the case is closed, drops it from memory and keeps only its id.
  void EvictIfClosed(std::string_view case_id);
  // Builds the common record head with the case reference.
  Result<boost::json::object> CaseRecord(std::string_view type, const Actor& actor,
                                         const CaseEntry& e, const Bundle* bundle);
  Result<std::optional<std::uint64_t>> Write(CaseEntry& e, const boost::json::object& record);
  // Writes `next` through to the store, then makes it the case's state (`*into`).
  Status Commit(CaseEntry* into, CaseEntry&& next, unsigned changed);
  Result<IntentResult> FinishIntent(CaseEntry& e, const Bundle& bundle, IntentDecision decision,
                                    const PendingIntent& request, const Actor& actor,
                                    std::string_view record_type, boost::json::object extra);
  std::string NewRequestId();

  ServiceDeps deps_;
  Status load_status_;
  mutable std::mutex mu_;
  std::map<std::string, CaseEntry, std::less<>> cases_;  // held in memory
  // Closed cases, not in cases_ (only with a store): their state is read back from it.
  // Sharded: growing never rehashes every closed id under mu_ (common/sharded_hash.h).
  ShardedStringSet closed_;
  std::uint64_t next_request_ = 1;
};

}  // namespace arbiter::routing
