// Near-duplicate detection over open cases: MinHash signatures of word shingles, indexed by
// locality-sensitive hashing (LSH) bands. For a new case it finds the most similar open case, the
// estimated similarity (Jaccard of word-bigram sets) and the size of that case's cluster, so that
// an outage reported by fifty customers reaches one team as one cluster.
//
//   DuplicateIndex index;                                    // default options (docs/SIGNALS.md)
//   ARBITER_TRY(DuplicateMatch m, index.Add("c-1", text));   // m: what c-1 duplicates, if anything
//   DuplicateMatch q = index.Query(other_text);              // q.duplicate_of == "c-1"?
//   ARBITER_RETURN_IF_ERROR(index.Remove("c-1"));            // closed cases leave the index
//
// A case is a duplicate when the estimated similarity reaches `threshold`, unless both texts carry
// identifiers (words with five or more digits: order, invoice, customer numbers) and share none —
// the same request about a different order is a different problem. Each case joins the cluster of
// the case it duplicates when it is added (or starts its own); clusters shrink as cases are
// removed. Memory is about 250 bytes per case (see MemoryBytes()); texts are not stored.
// Ids are found by a 64-bit hash (its top half kept in the id table); the id strings are
// compared only where those bits match.
//
// Storms: once a cluster has more than 64 members, a new member whose signature is ≥ 90% equal to
// its match is counted in the cluster but not entered into the LSH buckets (the banded members
// already find it), so buckets stay short. If every banded member of such a cluster is removed,
// its remaining members are no longer returned by Query (they can still be removed).
//
// Thread-safety: all methods may be called concurrently. Query() and the accessors take a shared
// lock and run in parallel with each other; Add() and Remove() take an exclusive lock.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::signals {

struct DuplicateIndexOptions {
  // Estimated Jaccard similarity at or above which a case is a duplicate (chosen on the evaluation
  // in docs/SIGNALS.md).
  double threshold = 0.5;
  // Only the first max_text_bytes of a text are read.
  size_t max_text_bytes = 256u << 10;
  size_t max_id_bytes = 256;
  // Bounds the work of one query in pathological buckets (e.g. a storm of identical cases).
  size_t max_probe_per_band = 4096;
};

struct DuplicateMatch {
  std::string duplicate_of;  // the most similar open case at/above threshold, or empty
  double similarity = 0.0;   // estimated similarity to the most similar candidate, in [0, 1]
  // Query: open cases in duplicate_of's cluster (0 when none). Add: the size of the cluster the
  // new case joined or started (1 when it duplicates nothing), the new case included.
  std::uint32_t cluster_size = 0;

  bool is_duplicate() const { return !duplicate_of.empty(); }
};

class DuplicateIndex {
 public:
  // MinHash signature length and LSH banding: kBands bands of kRows values each.
  static constexpr size_t kBands = 16;
  static constexpr size_t kRows = 3;
  static constexpr size_t kSignatureSize = kBands * kRows;

  // What the index keeps of a text: its MinHash signature and its identifier bits. A caller that
  // queries a text and later adds it computes this once (FingerprintOf) and passes it to both
  // (CaseSignals does so for the case it routes): Query(FingerprintOf(t)) == Query(t), and
  // Add(id, FingerprintOf(t)) is Add(id, t).
  struct Fingerprint {
    std::array<std::uint16_t, kSignatureSize> sig{};
    std::uint64_t identifiers = 0;  // one bit (hash mod 64) per identifier word
  };

  explicit DuplicateIndex(DuplicateIndexOptions options = {});
  ~DuplicateIndex();
  DuplicateIndex(const DuplicateIndex&) = delete;
  DuplicateIndex& operator=(const DuplicateIndex&) = delete;

  // Adds an open case. Returns what it duplicates (as Query() would have answered just before),
  // and the case joins that cluster. kAlreadyExists if the id is open already; kInvalidArgument
  // for an empty or over-long id.
  Result<DuplicateMatch> Add(std::string_view case_id, std::string_view text);

  Result<DuplicateMatch> Add(std::string_view case_id, const Fingerprint& fingerprint);

  // Removes a case (closed). kNotFound if it is not open.
  Status Remove(std::string_view case_id);

  // The most similar open case to `text`.
  DuplicateMatch Query(std::string_view text) const;
  DuplicateMatch Query(const Fingerprint& fingerprint) const;

  // The fingerprint of `text` (its first options().max_text_bytes) as Add and Query compute it.
  Fingerprint FingerprintOf(std::string_view text) const;

  bool Contains(std::string_view case_id) const;
  size_t size() const;
  // Bytes held by the index's own structures (signatures, tables, ids, clusters).
  size_t MemoryBytes() const;

  const DuplicateIndexOptions& options() const { return options_; }

 private:
  class Impl;
  DuplicateIndexOptions options_;
  std::unique_ptr<Impl> impl_;
};

// The estimated similarity of two texts as the index computes it (for tools and tests).
double EstimatedSimilarity(std::string_view a, std::string_view b);

}  // namespace arbiter::signals
