// Evidence: every routing decision, intent decision, approval, override, escalation, close,
// outcome and pack load becomes one canonical-JSON record appended to an EvidenceSink (the
// ledger in production; InMemoryEvidenceSink in tests).
//
// Privacy: raw case text and personal data never enter a record. Case ids, customer ids and text
// appear only as keyed hashes (HMAC-SHA-256) under a key private to that case, kept in a
// CaseKeyStore. Deleting the key (Shred) makes the records unlinkable to the case and its
// customer without touching the ledger (crypto-shredding).
//
//   InMemoryEvidenceSink sink;
//   InMemoryCaseKeyStore keys;
//   ARBITER_TRY(CaseKey key, keys.KeyFor("CASE-1"));
//   std::string ref = key.Hash("case", "CASE-1");          // 64 hex characters
//   ARBITER_TRY(std::uint64_t index, sink.Append(CanonicalJson(record)));
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "arbiter/common/bytes.h"
#include "arbiter/common/status.h"

namespace arbiter::routing {

namespace internal {
class HmacSha256Key;
}

// Who did something: "system" (Arbiter itself), "source" (a ticket source), "agent" (a workload,
// id = its SPIFFE id or Cedar uid) or "human" (id = the user's id or Cedar uid).
struct Actor {
  std::string kind = "system";
  std::string id;
  boost::json::object ToJson() const;
};

// Appends evidence records; returns each record's index in the log. Implementations must be
// thread-safe and durable when they return (the ledger writes to its queue on disk first).
// `canonical_json` is valid only during the call (RouteCase passes a reused per-thread buffer):
// copy what you keep.
class EvidenceSink {
 public:
  virtual ~EvidenceSink() = default;
  virtual Result<std::uint64_t> Append(std::string_view canonical_json) = 0;
};

class InMemoryEvidenceSink final : public EvidenceSink {
 public:
  Result<std::uint64_t> Append(std::string_view canonical_json) override;
  std::vector<std::string> Records() const;
  size_t size() const;
  // Test hook: make the next Append calls fail with kUnavailable.
  void FailAppends(bool fail);

 private:
  mutable std::mutex mu_;
  std::vector<std::string> records_;
  bool fail_ = false;
};

// A case's private key: hashes with it are stable for the case and meaningless without it.
// Cheap to copy (the key schedule is shared).
class CaseKey {
 public:
  explicit CaseKey(ByteView key);
  // Lowercase hex HMAC-SHA-256(key, label || 0x00 || data). Labels keep hashes of different
  // fields apart ("case", "customer", "text", ...).
  std::string Hash(std::string_view label, std::string_view data) const;
  // The same 64 hex characters appended to `out` (no temporary string).
  void AppendHash(std::string_view label, std::string_view data, std::string& out) const;
  // AppendHash of the concatenation of `parts`, hashed in place without joining them.
  void AppendHash(std::string_view label, std::span<const std::string_view> parts,
                  std::string& out) const;
  // The 64 hex characters of the hash of the concatenation of `parts`, written at out[0..63].
  void WriteHash(std::string_view label, std::span<const std::string_view> parts, char* out) const;

 private:
  std::shared_ptr<const internal::HmacSha256Key> key_;
};

class CaseStore;  // case_store.h

// Where per-case keys live (the store in production). Thread-safe.
class CaseKeyStore {
 public:
  virtual ~CaseKeyStore() = default;
  // The case's key, created (32 random bytes, internal::NewCaseKeyBytes) on first use.
  // kFailedPrecondition after Shred.
  virtual Result<CaseKey> KeyFor(std::string_view case_id) = 0;
  // KeyFor for a case that RoutingService is routing and will next Put into `cases`. A store that
  // is also that CaseStore (SqliteRoutingStore) may keep a newly created key in memory and write
  // it in the same transaction as the case's Put, so that routing a new case is one commit; if
  // that Put never happens the key is lost and records hashed with it stay unlinkable, as after
  // Shred. Default: KeyFor.
  virtual Result<CaseKey> KeyForRoute(std::string_view case_id, const CaseStore* cases) {
    (void)cases;
    return KeyFor(case_id);
  }
  // Deletes the key for good; later KeyFor calls for the case fail.
  virtual Status Shred(std::string_view case_id) = 0;
};

class InMemoryCaseKeyStore final : public CaseKeyStore {
 public:
  Result<CaseKey> KeyFor(std::string_view case_id) override;
  Status Shred(std::string_view case_id) override;

 private:
  std::mutex mu_;
  // Hashes a case id given as a string or a view (heterogeneous lookup).
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>()(id); }
  };
  // The key, or nullopt once shredded. A hash table (with jemalloc its rehash is cheap; glibc's
  // malloc made a tree the cheaper choice): a tree's lookup compared the id at every level.
  std::unordered_map<std::string, std::optional<CaseKey>, IdHash, std::equal_to<>> keys_;
};

// The common head of every record: {"v": 1, "type": type, "at": micros, "actor": {...}}.
boost::json::object NewEvidenceRecord(std::string_view type, const Actor& actor,
                                      std::int64_t at_micros);

// Appends CanonicalJson(record); a null sink yields nullopt.
Result<std::optional<std::uint64_t>> AppendEvidence(EvidenceSink* sink,
                                                    const boost::json::object& record);

}  // namespace arbiter::routing
