#include "arbiter/signals/duplicates.h"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <mutex>
#include <shared_mutex>

namespace arbiter::signals {
namespace {

constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint16_t kNoShingles = 0xFFFF;
constexpr size_t kK = DuplicateIndex::kSignatureSize;
using Signature = std::array<std::uint16_t, kK>;

inline std::uint64_t Mix(std::uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr std::array<std::uint64_t, kK> MakeSeeds() {
  std::array<std::uint64_t, kK> seeds{};
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  for (auto& s : seeds) {
    state += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    s = z ^ (z >> 31);
  }
  return seeds;
}
constexpr std::array<std::uint64_t, kK> kSeeds = MakeSeeds();

inline bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// A word with at least this many digits is an identifier (order, invoice, account or customer
// number): two texts that both carry identifiers but share none are about different things.
constexpr size_t kIdentifierDigits = 5;

// Word tokens, lower-cased (ASCII and the Latin-1 letters of UTF-8), each as a 64-bit hash; the
// identifier words also set one bit each (hash mod 64) in `identifiers`.
void TokenHashes(std::string_view text, std::vector<std::uint64_t>& out,
                 std::uint64_t& identifiers) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    while (i < n && !IsWordByte(s[i])) ++i;
    if (i >= n) break;
    std::uint64_t h = 0xcbf29ce484222325ULL;
    size_t len = 0;
    size_t digits = 0;
    while (i < n && IsWordByte(s[i])) {
      unsigned char c = s[i];
      digits += c >= '0' && c <= '9';
      if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + 32);
      // U+00C0..U+00DE (except U+00D7) are C3 80..9E; their lower case is C3 A0..BE.
      if (c >= 0x80 && c <= 0x9E && c != 0x97 && i > 0 && s[i - 1] == 0xC3) {
        c = static_cast<unsigned char>(c + 0x20);
      }
      h = (h ^ c) * 0x100000001b3ULL;
      ++i;
      ++len;
    }
    if (len > 0) out.push_back(Mix(h));
    if (digits >= kIdentifierDigits) identifiers |= std::uint64_t{1} << (Mix(h) & 63);
  }
}

using Fingerprint = DuplicateIndex::Fingerprint;

// False when both texts name identifiers and none in common (bits may collide, which errs
// towards calling the texts related).
inline bool IdentifiersCompatible(std::uint64_t a, std::uint64_t b) {
  return a == 0 || b == 0 || (a & b) != 0;
}

// MinHash over word bigrams (unigrams when the text has a single word).
bool ComputeFingerprint(std::string_view text, size_t max_bytes, Fingerprint& fp) {
  if (text.size() > max_bytes) text = text.substr(0, max_bytes);
  thread_local std::vector<std::uint64_t> tokens;
  tokens.clear();
  fp.identifiers = 0;
  TokenHashes(text, tokens, fp.identifiers);
  Signature& sig = fp.sig;
  if (tokens.empty()) {
    sig.fill(kNoShingles);
    return false;
  }
  std::array<std::uint64_t, kK> mins;
  mins.fill(std::numeric_limits<std::uint64_t>::max());
  auto add = [&mins](std::uint64_t shingle) {
    for (size_t k = 0; k < kK; ++k) {
      std::uint64_t v = (shingle ^ kSeeds[k]) * 0xff51afd7ed558ccdULL;
      v ^= v >> 32;
      v *= 0xc4ceb9fe1a85ec53ULL;
      v ^= v >> 29;
      mins[k] = std::min(mins[k], v);
    }
  };
  if (tokens.size() == 1) {
    add(tokens[0]);
  } else {
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
      add(Mix(tokens[i] * 0x9e3779b97f4a7c15ULL + tokens[i + 1]));
    }
  }
  for (size_t k = 0; k < kK; ++k) {
    auto v = static_cast<std::uint16_t>(Mix(mins[k]));
    sig[k] = v == kNoShingles ? 0 : v;  // kNoShingles is reserved
  }
  return true;
}

inline std::uint64_t BandHash(const std::uint16_t* sig, size_t band) {
  std::uint64_t h = band + 1;
  for (size_t r = 0; r < DuplicateIndex::kRows; ++r) {
    h = (h << 16) | sig[band * DuplicateIndex::kRows + r];
  }
  return Mix(h);
}

size_t EqualCount(const std::uint16_t* a, const std::uint16_t* b) {
  size_t eq = 0;
  for (size_t k = 0; k < kK; ++k) eq += a[k] == b[k];
  return eq;
}

// An open-addressing (linear probing) multiset of 32-bit slot numbers. The caller supplies each
// value's hash, so entries take 4 bytes; deletion shifts entries back (no tombstones). The capacity
// grows by 1.5x (positions by multiply-shift, not a mask) so that load stays between 0.5 and 0.8.
class SlotTable {
 public:
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(std::uint32_t); }

  template <typename HashOf>
  void Insert(std::uint32_t v, std::uint64_t h, const HashOf& hash_of) {
    if ((count_ + 1) * 5 > slots_.size() * 4) Grow(hash_of);
    size_t pos = Home(h);
    while (slots_[pos] != kEmpty) pos = Next(pos);
    slots_[pos] = v;
    ++count_;
  }

  template <typename HashOf>
  void Erase(std::uint32_t v, std::uint64_t h, const HashOf& hash_of) {
    if (slots_.empty()) return;
    size_t i = Home(h);
    while (slots_[i] != v) {
      if (slots_[i] == kEmpty) return;
      i = Next(i);
    }
    size_t j = i;
    while (true) {
      j = Next(j);
      if (slots_[j] == kEmpty) break;
      const size_t home = Home(hash_of(slots_[j]));
      // Move slots_[j] into the hole at i unless its home lies cyclically in (i, j].
      const bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!in_range) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = kEmpty;
    --count_;
  }

  // Calls fn(v) for each value on the probe run of h, at most max_probe of them. fn returns false
  // to stop.
  template <typename Fn>
  void Probe(std::uint64_t h, size_t max_probe, const Fn& fn) const {
    if (slots_.empty()) return;
    size_t pos = Home(h);
    for (size_t n = 0; n < max_probe && slots_[pos] != kEmpty; ++n) {
      if (!fn(slots_[pos])) return;
      pos = Next(pos);
    }
  }

 private:
  size_t Home(std::uint64_t h) const {
    // The top 32 bits of h scaled to [0, size) (sizes stay below 2^32).
    return static_cast<size_t>(((h >> 32) * static_cast<std::uint64_t>(slots_.size())) >> 32);
  }
  size_t Next(size_t pos) const { return pos + 1 == slots_.size() ? 0 : pos + 1; }

  template <typename HashOf>
  void Grow(const HashOf& hash_of) {
    std::vector<std::uint32_t> old = std::move(slots_);
    const size_t cap = old.empty() ? 1024 : old.size() + old.size() / 2;
    slots_ = std::vector<std::uint32_t>();
    slots_.reserve(cap);  // exactly cap: MemoryBytes counts capacity
    slots_.assign(cap, kEmpty);
    for (std::uint32_t v : old) {
      if (v == kEmpty) continue;
      size_t pos = Home(hash_of(v));
      while (slots_[pos] != kEmpty) pos = Next(pos);
      slots_[pos] = v;
    }
  }

  std::vector<std::uint32_t> slots_;
  size_t count_ = 0;
};

// The open ids: an open-addressing (linear probing) table of 64-bit entries, each holding a slot
// number (low 32 bits) and the top 32 bits of its id's hash (high bits). A lookup compares id
// strings only where those hash bits match, so a probe run costs no access to the ids themselves;
// growth and deletion find each entry's home from the entry alone. Load stays between 0.5 and 0.8
// as in SlotTable.
class IdTable {
 public:
  static constexpr std::uint64_t kVacant = ~std::uint64_t{0};  // never a real entry: see Place

  size_t MemoryBytes() const { return entries_.capacity() * sizeof(std::uint64_t); }

  // Makes room for one more entry (positions returned by Find before this are void).
  void ReserveOne() {
    if ((count_ + 1) * 5 > entries_.size() * 4) Grow();
  }

  // The position of the entry with hash `h` whose slot satisfies same_id(slot) (*slot = that
  // slot), else of the vacant entry ending the probe run, where such an id would go (*slot =
  // kEmpty; the position is only meaningful after ReserveOne()).
  template <typename SameId>
  size_t Find(std::uint64_t h, const SameId& same_id, std::uint32_t* slot) const {
    *slot = kEmpty;
    if (entries_.empty()) return 0;
    const std::uint64_t tag = h & kTagMask;
    size_t pos = Home(h);
    for (std::uint64_t e = entries_[pos]; e != kVacant; e = entries_[pos]) {
      const auto s = static_cast<std::uint32_t>(e);
      if ((e & kTagMask) == tag && same_id(s)) {
        *slot = s;
        return pos;
      }
      pos = Next(pos);
    }
    return pos;
  }

  // Fills the vacant position Find returned. `slot` < 2^32 - 1, so an entry is never kVacant.
  void Place(size_t pos, std::uint32_t slot, std::uint64_t h) {
    entries_[pos] = (h & kTagMask) | slot;
    ++count_;
  }

  // Removes the entry at `pos` (from Find), shifting later entries of its run back.
  void EraseAt(size_t pos) {
    size_t i = pos;
    size_t j = i;
    while (true) {
      j = Next(j);
      if (entries_[j] == kVacant) break;
      const size_t home = Home(entries_[j]);
      // Move entries_[j] into the hole at i unless its home lies cyclically in (i, j].
      const bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!in_range) {
        entries_[i] = entries_[j];
        i = j;
      }
    }
    entries_[i] = kVacant;
    --count_;
  }

 private:
  static constexpr std::uint64_t kTagMask = 0xFFFFFFFF00000000ULL;
  // The top 32 bits of h (an entry keeps them) scaled to [0, size).
  size_t Home(std::uint64_t h) const {
    return static_cast<size_t>(((h >> 32) * static_cast<std::uint64_t>(entries_.size())) >> 32);
  }
  size_t Next(size_t pos) const { return pos + 1 == entries_.size() ? 0 : pos + 1; }

  void Grow() {
    std::vector<std::uint64_t> old = std::move(entries_);
    const size_t cap = old.empty() ? 1024 : old.size() + old.size() / 2;
    entries_ = std::vector<std::uint64_t>();
    entries_.reserve(cap);  // exactly cap: MemoryBytes counts capacity
    entries_.assign(cap, kVacant);
    for (std::uint64_t e : old) {
      if (e == kVacant) continue;
      size_t pos = Home(e);
      while (entries_[pos] != kVacant) pos = Next(pos);
      entries_[pos] = e;
    }
  }

  std::vector<std::uint64_t> entries_;
  size_t count_ = 0;
};

}  // namespace

class DuplicateIndex::Impl {
 public:
  explicit Impl(const DuplicateIndexOptions& options) : options_(options) {}

  struct Best {
    std::uint32_t slot = kEmpty;
    size_t equal = 0;
  };

  Best Find(const Fingerprint& fp) const {
    const Signature& sig = fp.sig;
    Best best;
    if (sig[0] == kNoShingles &&
        std::all_of(sig.begin(), sig.end(), [](auto v) { return v == kNoShingles; })) {
      return best;
    }
    for (size_t b = 0; b < kBands && best.equal < kK; ++b) {
      const std::uint16_t* band = sig.data() + b * kRows;
      bands_[b].Probe(BandHash(sig.data(), b), options_.max_probe_per_band,
                      [&](std::uint32_t slot) {
                        const std::uint16_t* other = Sig(slot);
                        if (!std::equal(band, band + kRows, other + b * kRows)) return true;
                        if (!IdentifiersCompatible(fp.identifiers, identifiers_[slot])) {
                          return true;
                        }
                        const size_t eq = EqualCount(sig.data(), other);
                        if (eq > best.equal) best = {slot, eq};
                        return best.equal < kK;
                      });
    }
    return best;
  }

  DuplicateMatch ToMatch(const Best& best) const {
    DuplicateMatch m;
    if (best.slot == kEmpty) return m;
    m.similarity = static_cast<double>(best.equal) / static_cast<double>(kK);
    if (m.similarity + 1e-9 >= options_.threshold) {
      m.duplicate_of = ids_[best.slot];
      m.cluster_size = cluster_count_[ClusterOf(best.slot)];
    }
    return m;
  }

  // Where `id` is in the id table: *slot is its slot (kEmpty when absent, and then the returned
  // position is where Insert puts it, valid until the table changes).
  size_t FindId(std::string_view id, std::uint64_t h, std::uint32_t* slot) const {
    return id_table_.Find(
        h, [&](std::uint32_t s) { return ids_[s] == id; }, slot);
  }

  // Room for one more id: call before the FindId whose position Insert uses.
  void ReserveId() { id_table_.ReserveOne(); }

  // Inserts `id` (hash h, absent) at id table position `id_pos` (FindId after ReserveId).
  DuplicateMatch Insert(std::string_view id, std::uint64_t h, size_t id_pos,
                        const Fingerprint& fp) {
    const Signature& sig = fp.sig;
    const Best best = Find(fp);
    DuplicateMatch match = ToMatch(best);
    std::uint32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(ids_.size());
      ids_.emplace_back();
      cluster_.push_back(0);
      identifiers_.push_back(0);
      sigs_.resize(sigs_.size() + kK);
    }
    identifiers_[slot] = fp.identifiers;
    ids_[slot].assign(id);
    std::copy(sig.begin(), sig.end(), sigs_.begin() + static_cast<std::ptrdiff_t>(slot * kK));
    bool banded = true;
    if (match.is_duplicate()) {
      const std::uint32_t cluster = ClusterOf(best.slot);
      match.cluster_size = ++cluster_count_[cluster];
      // In a storm, a near-identical member of a large cluster adds nothing a query could not find
      // through the members already banded, but would lengthen every bucket it shares with them.
      banded = !(best.equal * 10 >= kK * 9 && match.cluster_size > kStormCluster);
      cluster_[slot] = cluster | (banded ? 0 : kUnbanded);
    } else {
      cluster_[slot] = NewCluster();
      match.cluster_size = 1;
    }
    id_table_.Place(id_pos, slot, h);
    if (banded && HasShingles(slot)) {
      for (size_t b = 0; b < kBands; ++b) {
        bands_[b].Insert(slot, BandHash(Sig(slot), b),
                         [this, b](std::uint32_t s) { return BandHash(Sig(s), b); });
      }
    }
    ++size_;
    return match;
  }

  // Removes the case in `slot`, whose id is at id table position `id_pos` (FindId).
  void Erase(std::uint32_t slot, size_t id_pos) {
    if ((cluster_[slot] & kUnbanded) == 0 && HasShingles(slot)) {
      for (size_t b = 0; b < kBands; ++b) {
        bands_[b].Erase(slot, BandHash(Sig(slot), b),
                        [this, b](std::uint32_t s) { return BandHash(Sig(s), b); });
      }
    }
    id_table_.EraseAt(id_pos);
    const std::uint32_t cluster = ClusterOf(slot);
    if (--cluster_count_[cluster] == 0) free_clusters_.push_back(cluster);
    ids_[slot].clear();
    ids_[slot].shrink_to_fit();
    free_slots_.push_back(slot);
    --size_;
  }

  size_t MemoryBytes() const {
    size_t bytes = sizeof(*this);
    bytes += sigs_.capacity() * sizeof(std::uint16_t);
    bytes += ids_.capacity() * sizeof(std::string);
    for (const auto& id : ids_) {
      if (id.capacity() > 15) bytes += id.capacity() + 1;  // beyond the small-string buffer
    }
    bytes += cluster_.capacity() * sizeof(std::uint32_t);
    bytes += identifiers_.capacity() * sizeof(std::uint64_t);
    bytes += cluster_count_.capacity() * sizeof(std::uint32_t);
    bytes += free_clusters_.capacity() * sizeof(std::uint32_t);
    bytes += free_slots_.capacity() * sizeof(std::uint32_t);
    bytes += id_table_.MemoryBytes();
    for (const auto& t : bands_) bytes += t.MemoryBytes();
    return bytes;
  }

  size_t size() const { return size_; }
  mutable std::shared_mutex mu;

  static std::uint64_t HashId(std::string_view id) {
    return Mix(std::hash<std::string_view>{}(id));
  }

 private:
  const std::uint16_t* Sig(std::uint32_t slot) const { return sigs_.data() + slot * kK; }
  bool HasShingles(std::uint32_t slot) const {
    const std::uint16_t* s = Sig(slot);
    return !std::all_of(s, s + kK, [](std::uint16_t v) { return v == kNoShingles; });
  }
  // cluster_ holds the cluster number; its top bit marks a case left out of the LSH bands.
  static constexpr std::uint32_t kUnbanded = 0x80000000u;
  static constexpr std::uint32_t kStormCluster = 64;
  std::uint32_t ClusterOf(std::uint32_t slot) const { return cluster_[slot] & ~kUnbanded; }

  std::uint32_t NewCluster() {
    std::uint32_t c;
    if (!free_clusters_.empty()) {
      c = free_clusters_.back();
      free_clusters_.pop_back();
      cluster_count_[c] = 1;
    } else {
      c = static_cast<std::uint32_t>(cluster_count_.size());
      cluster_count_.push_back(1);
    }
    return c;
  }

  DuplicateIndexOptions options_;
  std::vector<std::uint16_t> sigs_;  // kK values per slot
  std::vector<std::string> ids_;     // empty for a free slot
  std::vector<std::uint32_t> cluster_;
  std::vector<std::uint64_t> identifiers_;  // Fingerprint::identifiers per slot
  std::vector<std::uint32_t> cluster_count_;
  std::vector<std::uint32_t> free_clusters_;
  std::vector<std::uint32_t> free_slots_;
  IdTable id_table_;
  std::array<SlotTable, kBands> bands_;
  size_t size_ = 0;
};

DuplicateIndex::DuplicateIndex(DuplicateIndexOptions options)
    : options_(options), impl_(std::make_unique<Impl>(options_)) {}
DuplicateIndex::~DuplicateIndex() = default;

DuplicateIndex::Fingerprint DuplicateIndex::FingerprintOf(std::string_view text) const {
  Fingerprint fp;
  ComputeFingerprint(text, options_.max_text_bytes, fp);
  return fp;
}

Result<DuplicateMatch> DuplicateIndex::Add(std::string_view case_id, std::string_view text) {
  return Add(case_id, FingerprintOf(text));
}

Result<DuplicateMatch> DuplicateIndex::Add(std::string_view case_id, const Fingerprint& fp) {
  if (case_id.empty()) return Status::InvalidArgument("case id: must not be empty");
  if (case_id.size() > options_.max_id_bytes) {
    return Status::InvalidArgument("case id: longer than " + std::to_string(options_.max_id_bytes) +
                                   " bytes");
  }
  const std::uint64_t h = Impl::HashId(case_id);
  std::unique_lock lock(impl_->mu);
  if (impl_->size() >= kEmpty - 1) return Status::ResourceExhausted("duplicate index is full");
  // One probe of the id table: it finds the id, or the place where it goes.
  impl_->ReserveId();
  std::uint32_t slot = kEmpty;
  const size_t pos = impl_->FindId(case_id, h, &slot);
  if (slot != kEmpty) {
    return Status::AlreadyExists("case `" + std::string(case_id) + "` is already in the index");
  }
  return impl_->Insert(case_id, h, pos, fp);
}

Status DuplicateIndex::Remove(std::string_view case_id) {
  const std::uint64_t h = Impl::HashId(case_id);
  std::unique_lock lock(impl_->mu);
  std::uint32_t slot = kEmpty;
  const size_t pos = impl_->FindId(case_id, h, &slot);
  if (slot == kEmpty) {
    return Status::NotFound("case `" + std::string(case_id) + "` is not in the index");
  }
  impl_->Erase(slot, pos);
  return Status::Ok();
}

DuplicateMatch DuplicateIndex::Query(std::string_view text) const {
  return Query(FingerprintOf(text));
}

DuplicateMatch DuplicateIndex::Query(const Fingerprint& fp) const {
  std::shared_lock lock(impl_->mu);
  return impl_->ToMatch(impl_->Find(fp));
}

bool DuplicateIndex::Contains(std::string_view case_id) const {
  const std::uint64_t h = Impl::HashId(case_id);
  std::shared_lock lock(impl_->mu);
  std::uint32_t slot = kEmpty;
  impl_->FindId(case_id, h, &slot);
  return slot != kEmpty;
}

size_t DuplicateIndex::size() const {
  std::shared_lock lock(impl_->mu);
  return impl_->size();
}

size_t DuplicateIndex::MemoryBytes() const {
  std::shared_lock lock(impl_->mu);
  return sizeof(*this) + impl_->MemoryBytes();
}

double EstimatedSimilarity(std::string_view a, std::string_view b) {
  Fingerprint fa;
  Fingerprint fb;
  const DuplicateIndexOptions defaults;
  if (!ComputeFingerprint(a, defaults.max_text_bytes, fa) ||
      !ComputeFingerprint(b, defaults.max_text_bytes, fb)) {
    return 0.0;
  }
  return static_cast<double>(EqualCount(fa.sig.data(), fb.sig.data())) / static_cast<double>(kK);
}

}  // namespace arbiter::signals
