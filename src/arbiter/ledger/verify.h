// Full verification of a stored ledger, as `arbiter ledger verify` runs it: recomputes every leaf
// hash from the stored entries, rebuilds every hash tile and the root at every stored checkpoint,
// checks each checkpoint's signature and that consecutive checkpoints are consistent, and reports
// each modified, missing or reordered entry by index.
//
//   ARBITER_TRY(VerifyReport report, VerifyLedgerDir("/var/lib/arbiter/ledger"));
//   if (!report.ok()) for (const auto& p : report.problems) std::cerr << p.message << "\n";
//
// Entries are authoritative: a stored hash that disagrees with the entries is reported as a
// corrupt tile when the entries still match the signed checkpoints, and as a modified (or
// reordered) entry when they do not.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/ledger/storage.h"

namespace arbiter::ledger {

enum class ProblemKind : std::uint8_t {
  kEntryMissing,            // an index below the end has no entry
  kEntryModified,           // an entry's hash differs from the tree signed by a checkpoint
  kTileCorrupt,             // a stored hash differs from the one recomputed from the entries
  kTileMissing,             // a tile the tree needs is absent
  kCheckpointSignature,     // a checkpoint note does not verify under the ledger's key
  kCheckpointMalformed,     // a checkpoint row disagrees with its note, or the note is malformed
  kCheckpointRoot,          // the root recomputed from the entries differs from a signed root
  kCheckpointInconsistent,  // consecutive checkpoints fail a consistency proof
  kCheckpointBeyondEntries,
};

std::string_view ProblemKindName(ProblemKind kind);

struct VerifyProblem {
  ProblemKind kind;
  std::uint64_t index = 0;  // entry index, or checkpoint size, or tile index
  std::string message;      // one line, lowercase
};

struct VerifyReport {
  std::string origin;
  std::string verifier_key;
  std::uint64_t entries = 0;      // entries read
  std::uint64_t entry_end = 0;    // one past the highest index
  std::uint64_t checkpoints = 0;  // checkpoints checked
  std::uint64_t latest_size = 0;
  std::uint64_t tiles = 0;  // stored tiles compared
  std::vector<VerifyProblem> problems;
  std::uint64_t problems_omitted = 0;  // beyond max_problems

  bool ok() const { return problems.empty() && problems_omitted == 0; }
};

struct VerifyOptions {
  // Verify checkpoints with this key instead of the one in the data directory (pin the key a
  // relying party trusts).
  std::optional<std::string> verifier_key;
  size_t max_problems = 1000;
};

// Verifies an open store against `verifier_key` (a note verifier key string).
Result<VerifyReport> VerifyLedgerStore(LedgerStore& store, const std::string& verifier_key,
                                       const VerifyOptions& options = {});

// Opens `<data_dir>/ledger.db` read-only and verifies it.
Result<VerifyReport> VerifyLedgerDir(const std::filesystem::path& data_dir,
                                     const VerifyOptions& options = {});

}  // namespace arbiter::ledger
