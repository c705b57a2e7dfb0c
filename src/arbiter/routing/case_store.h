// Where RoutingService keeps its cases so that a restart loses none: each case's snapshot (the
// native Case, its signals, lifecycle, last routing decision, grant, evidence indexes and the
// missed-escalation facts) and its pending intents (requests waiting for a person's approval).
//
// RoutingService writes through on every transition, after the evidence record is appended and
// before the call returns; it reads every case back once, when it is opened, and later reads a
// closed case it no longer holds in memory with Get. InMemoryCaseStore
// serves tests (share one between two services to simulate a restart); sqlite_case_store.h is the
// durable one.
//
//   InMemoryCaseStore cases;
//   ARBITER_TRY(auto service, RoutingService::Open({&packs, &sink, &keys, &grants, nullptr,
//                                                   &clock, &cases}));
//   ...                                   // a restart: a new service over the same store
//   ARBITER_TRY(auto again, RoutingService::Open({..., &cases}));
//   again->Get("ZD-1001")->state;         // as it was
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/routing/lifecycle.h"
#include "arbiter/routing/router.h"
#include "arbiter/routing/signals.h"
#include "arbiter/sources/case.h"

namespace arbiter::routing {

// An intent held for approval (RequestIntent's request_id names it).
struct PendingIntent {
  std::string intent;
  std::string agent;  // Cedar uid of the agent that asked
  boost::json::object params;
  std::vector<std::string> roles;  // any one of them may approve
};

// Everything RoutingService knows about one case.
struct StoredCase {
  sources::Case c;  // text and customer cleared once shredded
  ComputedSignals signals;
  CaseLifecycle lifecycle;
  // The last routing decision (null before the first route), shared with the RouteResult that
  // made it and with snapshots: a new route replaces the pointer, never the decision.
  std::shared_ptr<const RoutingDecision> last_route;
  std::string grant_id;
  std::map<std::string, PendingIntent, std::less<>> pending;  // by request id
  std::vector<std::uint64_t> evidence;   // ledger indexes of this case's records, in order
  bool kept_by_ai = false;               // a route sent it to AI
  std::string ai_bundle_hash;            // ... under this bundle
  std::vector<std::string> ai_policies;  // ... because of these permits
  bool escalated_later = false;          // it left AI for a person afterwards
  bool closed_with_ai = false;
  std::vector<std::string> outcomes;  // after a close with AI: "reopened", "disputed", "low_csat"
  bool shredded = false;
};

// What a write changed, so a store can skip rewriting the parts that did not (bit flags).
enum CaseChange : unsigned {
  kCaseChangedState = 1u,    // lifecycle, decision, grant, evidence, missed-escalation facts
  kCaseChangedContent = 2u,  // the native case and its signals (route, shred)
  kCaseChangedPending = 4u,  // pending intents
  kCaseChangedAll = 7u,
};

// Thread-safe. Put is atomic: after a crash a case is either as before or as after the call.
class CaseStore {
 public:
  virtual ~CaseStore() = default;
  // Inserts or replaces the case `c.c.id`; `changed` says which parts differ from the stored ones
  // (a store may rewrite more). A new case must be put with kCaseChangedAll.
  virtual Status Put(const StoredCase& c, unsigned changed) = 0;
  // Every stored case, in case-id order.
  virtual Result<std::vector<StoredCase>> LoadAll() = 0;
  // One case as stored, pending intents included (every Put that returned is seen, queued ones
  // too); nullopt when the case was never put.
  virtual Result<std::optional<StoredCase>> Get(std::string_view case_id) = 0;
};

class InMemoryCaseStore final : public CaseStore {
 public:
  Status Put(const StoredCase& c, unsigned changed) override;
  Result<std::vector<StoredCase>> LoadAll() override;
  Result<std::optional<StoredCase>> Get(std::string_view case_id) override;
  size_t size() const;
  // Test hook: make the next Put calls fail with kUnavailable.
  void FailPuts(bool fail);

 private:
  mutable std::mutex mu_;
  std::map<std::string, StoredCase, std::less<>> cases_;
  bool fail_ = false;
};

// The stored (JSON) forms of the parts of a StoredCase, used by the SQLite store. Lossless:
// FromJson(ToJson(x)) == x. Errors are kDataLoss naming the field.
boost::json::value DecisionToStoreJson(const RoutingDecision& d);
// CanonicalJson(DecisionToStoreJson(d)), written directly (what the SQLite store writes).
std::string DecisionToStoreText(const RoutingDecision& d);
// DecisionToStoreText for a stream of decisions that mostly share their policy part (everything
// but the signals: under load most cases are routed alike by a few rules). DecisionToStoreText(d)
// is Head(d) (the policy part and the `,"signals":` key) followed by AppendTail(d) (the signals
// array and the closing brace). The heads of the last kKeptHeads distinct policy parts are kept:
// Head's text is written only for a policy part not among them (a mix of cases alternates between
// a pack's few routes; keeping only the previous one rewrote the head for most cases). Not
// thread-safe: one per thread (SqliteRoutingStore::Put keeps one).
class DecisionStoreTextWriter {
 public:
  static constexpr size_t kKeptHeads = 64;

  // Valid until the next call.
  std::string_view Head(const RoutingDecision& d);
  static void AppendTail(const RoutingDecision& d, std::string& out);
  // Head(d) + tail: DecisionToStoreText(d).
  std::string Text(const RoutingDecision& d);
  // How many heads were written (not found among the kept ones).
  std::uint64_t heads_written() const { return heads_written_; }

 private:
  struct Kept {
    RoutingDecision policy;  // a decision's policy part (signals left empty)
    std::string head;
  };
  std::vector<Kept> kept_;  // the most recently used first, roughly (a hit moves up one place)
  std::uint64_t heads_written_ = 0;
};
Result<RoutingDecision> DecisionFromStoreJson(const boost::json::value& json);
boost::json::value PendingToStoreJson(const PendingIntent& p);
Result<PendingIntent> PendingFromStoreJson(const boost::json::value& json);

}  // namespace arbiter::routing
