// Policy packs and their loaded, immutable form, the Bundle. A pack is a folder:
//
//   schema.cedarschema   Cedar schema (human format)
//   policies/*.cedar     Cedar policies; every policy has @id("...") (read in file-name order)
//   entities.json        Cedar entities: agent workloads, pools, people, teams, queues
//   routing.toml         queues, default and fail-safe queues, grant TTLs, intents, signal mapping
//   tests/*.jsonl        pack tests (run by RunPackTests; not part of the bundle hash)
//
// Loading validates everything and names file, line and reason on failure; a loaded Bundle is
// never modified, so it is shared as shared_ptr<const Bundle> and swapped atomically (PackStore).
//
//   ARBITER_TRY(std::shared_ptr<const Bundle> b, LoadBundle("examples/support"));
//   std::cout << b->config().name << " " << b->hash();
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "arbiter/cedar/entities.h"
#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/common/clock.h"
#include "arbiter/common/status.h"
#include "arbiter/routing/config.h"
#include "arbiter/routing/evidence.h"

namespace arbiter::routing {

// Routing semantics of one policy (from its annotations), parallel to PolicySet::policies().
struct PolicyInfo {
  std::string file;  // e.g. "policies/10_escalations.cedar"
  std::uint32_t line = 0;
  std::optional<std::string> escalate;  // @escalate("queue")
  std::int64_t priority = 0;            // @priority("N")
  std::string reason;                   // @reason("...")
  std::optional<std::string> approval;  // @approval("role")
  std::optional<std::string> block;     // @block("why"): the case is held (route "blocked")
  // The policy as a decision reason in canonical JSON ({"annotations","effect","policy"}),
  // precomputed for evidence records.
  std::string canonical_reason;
};

// The raw files of a pack, as read from its folder (or received over an API).
struct PackSources {
  std::string routing_toml;
  std::string schema;
  std::string entities_json;
  std::vector<std::pair<std::string, std::string>> policy_files;  // (relative path, text)
};

struct LoadOptions {
  size_t max_file_bytes = 8u << 20;
  size_t max_policy_files = 1000;
};

class Bundle {
 public:
  const RoutingConfig& config() const { return config_; }
  const cedar::Schema& schema() const { return schema_; }
  const cedar::PolicySet& policies() const { return policies_; }
  const cedar::Entities& entities() const { return entities_; }
  const PolicyInfo& info(size_t policy_index) const { return infos_[policy_index]; }
  // Lowercase hex SHA-256 over the pack's files (schema, policies, entities, routing.toml).
  const std::string& hash() const { return hash_; }
  // Per-file hashes, sorted by path.
  const std::vector<std::pair<std::string, std::string>>& file_hashes() const {
    return file_hashes_;
  }
  // {"hash","name","version"} in canonical JSON, precomputed for evidence records.
  const std::string& canonical_ref() const { return canonical_ref_; }
  // config().ai_principal in Cedar syntax (the `principal` of decisions for the AI pool).
  const std::string& ai_principal_text() const { return ai_principal_text_; }
  // Indexes into config().signals sorted by attribute name (the canonical order of signals).
  const std::vector<size_t>& signal_order() const { return signal_order_; }
  // Precomputed for evidence records: each signal's attribute as a canonical JSON object key
  // (`"name":`), indexed like config().signals, and ai_principal_text() as a JSON string.
  const std::vector<std::string>& signal_json_keys() const { return signal_json_keys_; }
  const std::string& ai_principal_json() const { return ai_principal_json_; }
  // The string `text` as a Cedar value. Texts the pack itself names (string literals in the
  // policies, string signal defaults, string attributes of its entities, priority names) share
  // one precomputed value, so that building a case's signals allocates nothing for them and
  // Cedar's `==` against a policy literal compares a pointer; other texts make a new value.
  cedar::Value StringValue(std::string_view text) const;
  // The folder it was loaded from (empty when built from PackSources).
  const std::filesystem::path& dir() const { return dir_; }

 private:
  friend Result<std::shared_ptr<const Bundle>> BuildBundle(const PackSources&,
                                                           const std::filesystem::path&);
  RoutingConfig config_;
  cedar::Schema schema_;
  cedar::PolicySet policies_;
  cedar::Entities entities_;
  std::vector<PolicyInfo> infos_;
  std::string hash_;
  std::vector<std::pair<std::string, std::string>> file_hashes_;
  std::string canonical_ref_;
  std::string ai_principal_text_;
  std::string ai_principal_json_;
  std::vector<size_t> signal_order_;
  std::vector<std::string> signal_json_keys_;
  // StringValue's shared values, by their own text (the key views the value's string).
  std::unordered_map<std::string_view, cedar::Value> string_values_;
  std::filesystem::path dir_;
};

// Reads a pack folder. Errors: "<file>: <problem>" or "<file>:<line>:<column>: <problem>".
Result<PackSources> ReadPackSources(const std::filesystem::path& dir, const LoadOptions& = {});
// Validates and builds a bundle: parses every file, checks annotations (queues exist, priorities
// are integers, escalations only on forbid), agent owners, the actions the router needs, and
// probes every action once with default signals so that a policy naming a missing attribute is
// refused at load rather than at routing time.
Result<std::shared_ptr<const Bundle>> BuildBundle(const PackSources& sources,
                                                  const std::filesystem::path& dir = {});
Result<std::shared_ptr<const Bundle>> LoadBundle(const std::filesystem::path& dir,
                                                 const LoadOptions& options = {});

// The bundle in force, swapped atomically. Readers take a snapshot with Current() and keep it for
// the whole decision, so a decision never mixes two versions. Thread-safe.
class PackStore {
 public:
  // `sink` (may be null) receives a `pack_load` evidence record for every successful load.
  PackStore(EvidenceSink* sink, const Clock& clock) : sink_(sink), clock_(clock) {}

  std::shared_ptr<const Bundle> Current() const;

  // Loads `dir`; on success writes the evidence record and swaps the new bundle in, returning it
  // with the record's ledger index. On any error the previous bundle stays in force.
  struct Loaded {
    std::shared_ptr<const Bundle> bundle;
    std::optional<std::uint64_t> evidence_index;
  };
  Result<Loaded> Load(const std::filesystem::path& dir, const Actor& actor,
                      const LoadOptions& options = {});
  Result<Loaded> Install(std::shared_ptr<const Bundle> bundle, const Actor& actor);

 private:
  EvidenceSink* sink_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::mutex load_mu_;  // serialises loads so evidence order matches swap order
  std::shared_ptr<const Bundle> current_;
};

}  // namespace arbiter::routing
