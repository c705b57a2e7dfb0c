// The ledger's HTTP endpoints: checkpoint and C2SP tlog-tiles paths (so existing transparency-log
// tooling and witnesses can read the ledger), entries, receipts and RFC 9162 proofs as JSON, and
// the ledger gauges for /metrics.
//
//   ARBITER_RETURN_IF_ERROR(AddLedgerRoutes(router, ledger.get()));
//   ARBITER_RETURN_IF_ERROR(AddLedgerMetrics(metrics, ledger.get()));
//
// Hashes in JSON are standard base64 (as in checkpoints and RFC 6962/9162 JSON APIs); entries are
// base64 of their bytes.
#pragma once

#include <boost/json/object.hpp>

#include "arbiter/common/status.h"
#include "arbiter/ledger/ledger.h"
#include "arbiter/server/metrics.h"
#include "arbiter/server/router.h"

namespace arbiter::server {

// Registers, all public (the ledger is meant to be read by anyone who holds the verifier key):
//   GET /v1/ledger                              origin, verifier key, sizes
//   GET /v1/ledger/checkpoint                   the latest signed note (text/plain)
//   GET /v1/ledger/tile/{level}/{index...}      hash tiles (application/octet-stream)
//   GET /v1/ledger/tile/entries/{index...}      entry bundles
//   GET /v1/ledger/entries?start=&limit=        a range of entries (JSON)
//   GET /v1/ledger/entries/{index}              one entry
//   GET /v1/ledger/receipts/{index}[?wait=integrated]
//   GET /v1/ledger/proofs/inclusion?index=|leaf_hash=[&tree_size=]
//   GET /v1/ledger/proofs/consistency?first=[&second=]
// `ledger` must outlive the router.
Status AddLedgerRoutes(Router& router, ledger::Ledger* ledger);

// Gauges arbiter_ledger_sequenced_entries, arbiter_ledger_tree_size and
// arbiter_ledger_integration_lag_entries, refreshed at each scrape.
Status AddLedgerMetrics(MetricsRegistry& metrics, ledger::Ledger* ledger);

// {"index","leaf_hash","checkpoint","tree_size","root_hash","proof"}: what write endpoints return
// under `?wait=integrated`.
boost::json::object ReceiptToJson(const ledger::Receipt& receipt);

// How long `?wait=integrated` waits for integration before answering 503.
inline constexpr std::chrono::milliseconds kMaxIntegrationWait{10'000};

// Where AnswerWithReceipt puts the receipt.
enum class ReceiptPlacement {
  kWholeBody,   // the body is the receipt (GET /v1/ledger/receipts/{index})
  kLastMember,  // the body, a JSON object, gains a last member "receipt" (write endpoints)
};

// `?wait=integrated` without holding a thread: `r` is sent once evidence `index` is covered by a
// checkpoint, with its receipt placed as `placement` says (through HttpResponse::defer and
// finish). A wait `r` already defers on completes first. Integration that fails, or does not
// finish within kMaxIntegrationWait, answers with the error instead (503; 404 for an index never
// appended).
void AnswerWithReceipt(HttpResponse& r, ledger::Ledger* ledger, std::uint64_t index,
                       ReceiptPlacement placement);

}  // namespace arbiter::server
