#include "arbiter/ledger/merkle.h"

#include <algorithm>
#include <bit>
#include <string>

namespace arbiter::ledger {
namespace {

// The largest power of two strictly smaller than n (n >= 2).
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

Status ProofFailed(std::string what) { return Status::Unauthenticated(std::move(what)); }

Status AppendPath(HashSource& source, std::uint64_t index, std::uint64_t begin, std::uint64_t end,
                  std::vector<Hash>& out) {
  // PATH(m, D[n]) for m = index - begin over D[begin:end], iteratively from the root down; the
  // sibling hashes are collected root-first and reversed by the caller.
  while (end - begin > 1) {
    const std::uint64_t k = SplitPoint(end - begin);
    if (index < begin + k) {
      ARBITER_TRY(Hash sibling, RangeHash(source, begin + k, end));
      out.push_back(sibling);
      end = begin + k;
    } else {
      ARBITER_TRY(Hash sibling, RangeHash(source, begin, begin + k));
      out.push_back(sibling);
      begin += k;
    }
  }
  return Status::Ok();
}

}  // namespace

Hash LeafHash(ByteView entry) {
  thread_local Sha256Hasher hasher;
  return hasher.Update(static_cast<std::uint8_t>(0x00)).Update(entry).Final();
}

Hash NodeHash(const Hash& left, const Hash& right) {
  thread_local Sha256Hasher hasher;
  return hasher.Update(static_cast<std::uint8_t>(0x01)).Update(left).Update(right).Final();
}

Hash EmptyRoot() { return Sha256(ByteView()); }

Result<Hash> HashFromBytes(ByteView bytes) {
  if (bytes.size() != kHashSize) {
    return Status::InvalidArgument("hash has " + std::to_string(bytes.size()) +
                                   " bytes, expected 32");
  }
  Hash h;
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

Hash RootFromLeafHashes(std::span<const Hash> leaf_hashes) {
  MerkleAccumulator acc;
  for (const Hash& h : leaf_hashes) acc.Add(h);
  return acc.Root();
}

Result<Hash> MemoryHashSource::SubtreeHash(std::uint32_t level, std::uint64_t index) {
  if (level >= 64) return Status::OutOfRange("subtree level " + std::to_string(level));
  const std::uint64_t width = std::uint64_t{1} << level;
  const std::uint64_t begin = index << level;
  if (index > (leaves_.size() >> level) || begin + width > leaves_.size()) {
    return Status::OutOfRange("subtree " + std::to_string(level) + "/" + std::to_string(index) +
                              " is beyond the tree");
  }
  return RootFromLeafHashes(leaves_.subspan(begin, width));
}

Result<Hash> RangeHash(HashSource& source, std::uint64_t begin, std::uint64_t end) {
  if (end <= begin) return Status::InvalidArgument("empty hash range");
  const std::uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    return source.SubtreeHash(static_cast<std::uint32_t>(std::countr_zero(n)), begin / n);
  }
  if (n == 1) return source.SubtreeHash(0, begin);
  const std::uint64_t k = SplitPoint(n);
  ARBITER_TRY(Hash left, RangeHash(source, begin, begin + k));
  ARBITER_TRY(Hash right, RangeHash(source, begin + k, end));
  return NodeHash(left, right);
}

Result<std::vector<Hash>> ProveSubtreeInclusion(HashSource& source, std::uint64_t index,
                                                std::uint64_t begin, std::uint64_t end) {
  if (begin >= end || index < begin || index >= end) {
    return Status::OutOfRange("leaf index " + std::to_string(index) + " is outside [" +
                              std::to_string(begin) + ", " + std::to_string(end) + ")");
  }
  std::vector<Hash> path;
  ARBITER_RETURN_IF_ERROR(AppendPath(source, index, begin, end, path));
  return std::vector<Hash>(path.rbegin(), path.rend());
}

Result<std::vector<Hash>> ProveInclusion(HashSource& source, std::uint64_t index,
                                         std::uint64_t size) {
  if (index >= size) {
    return Status::OutOfRange("leaf index " + std::to_string(index) + " is not below tree size " +
                              std::to_string(size));
  }
  return ProveSubtreeInclusion(source, index, 0, size);
}

Result<std::vector<Hash>> ProveConsistency(HashSource& source, std::uint64_t size1,
                                           std::uint64_t size2) {
  if (size1 == 0) {
    return Status::InvalidArgument(
        "no consistency proof from the empty tree: every tree extends it");
  }
  if (size1 > size2) {
    return Status::InvalidArgument("consistency proof from size " + std::to_string(size1) +
                                   " to the smaller size " + std::to_string(size2));
  }
  // SUBPROOF(m, D[begin:end], b), iteratively; hashes collected root-first, reversed at the end.
  std::vector<Hash> path;
  std::uint64_t m = size1;
  std::uint64_t begin = 0;
  std::uint64_t end = size2;
  bool complete = true;  // b: whether D[begin:begin+m] is a subtree the verifier already knows
  while (true) {
    const std::uint64_t n = end - begin;
    if (m == n) {
      if (!complete) {
        ARBITER_TRY(Hash h, RangeHash(source, begin, end));
        path.push_back(h);
      }
      break;
    }
    const std::uint64_t k = SplitPoint(n);
    if (m <= k) {
      ARBITER_TRY(Hash right, RangeHash(source, begin + k, end));
      path.push_back(right);
      end = begin + k;
    } else {
      ARBITER_TRY(Hash left, RangeHash(source, begin, begin + k));
      path.push_back(left);
      begin += k;
      m -= k;
      complete = false;
    }
  }
  return std::vector<Hash>(path.rbegin(), path.rend());
}

Result<Hash> RootFromInclusionProof(const Hash& leaf_hash, std::uint64_t index, std::uint64_t size,
                                    std::span<const Hash> proof) {
  if (index >= size) {
    return Status::InvalidArgument("leaf index " + std::to_string(index) +
                                   " is not below tree size " + std::to_string(size));
  }
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return ProofFailed("inclusion proof is too long");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFailed("inclusion proof is too short");
  return r;
}

Status VerifyInclusion(const Hash& leaf_hash, std::uint64_t index, std::uint64_t size,
                       std::span<const Hash> proof, const Hash& root) {
  ARBITER_TRY(Hash computed, RootFromInclusionProof(leaf_hash, index, size, proof));
  if (computed != root) return ProofFailed("inclusion proof does not lead to the root");
  return Status::Ok();
}

Status VerifyConsistency(std::uint64_t size1, std::uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2) {
  if (size2 < size1) {
    return Status::InvalidArgument("size1 " + std::to_string(size1) + " is greater than size2 " +
                                   std::to_string(size2));
  }
  if (size1 == 0) {
    return Status::InvalidArgument(
        "no consistency proof from the empty tree: every tree extends it");
  }
  if (size1 == size2) {
    if (!proof.empty()) return ProofFailed("consistency proof between equal sizes must be empty");
    if (root1 != root2) return ProofFailed("roots of equal sizes differ");
    return Status::Ok();
  }
  if (proof.empty()) return ProofFailed("consistency proof is empty");
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  std::uint64_t fn = size1 - 1;
  std::uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return ProofFailed("consistency proof is too long");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFailed("consistency proof is too short");
  if (fr != root1) return ProofFailed("consistency proof does not lead to the old root");
  if (sr != root2) return ProofFailed("consistency proof does not lead to the new root");
  return Status::Ok();
}

namespace {

Result<std::vector<Hash>> HashesFromBytes(std::span<const Bytes> list) {
  std::vector<Hash> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    auto h = HashFromBytes(list[i]);
    if (!h)
      return Status::InvalidArgument("proof element " + std::to_string(i) + ": " +
                                     h.error().message());
    out.push_back(*h);
  }
  return out;
}

}  // namespace

Status VerifyInclusionBytes(ByteView leaf_hash, std::uint64_t index, std::uint64_t size,
                            std::span<const Bytes> proof, ByteView root) {
  ARBITER_TRY(Hash leaf, HashFromBytes(leaf_hash));
  ARBITER_TRY(Hash r, HashFromBytes(root));
  ARBITER_TRY(std::vector<Hash> path, HashesFromBytes(proof));
  return VerifyInclusion(leaf, index, size, path, r);
}

Status VerifyConsistencyBytes(std::uint64_t size1, std::uint64_t size2,
                              std::span<const Bytes> proof, ByteView root1, ByteView root2) {
  if (size1 == size2 && size1 > 0) {
    if (!proof.empty()) return ProofFailed("consistency proof between equal sizes must be empty");
    if (!std::equal(root1.begin(), root1.end(), root2.begin(), root2.end())) {
      return ProofFailed("roots of equal sizes differ");
    }
    return Status::Ok();
  }
  ARBITER_TRY(Hash r1, HashFromBytes(root1));
  ARBITER_TRY(Hash r2, HashFromBytes(root2));
  ARBITER_TRY(std::vector<Hash> path, HashesFromBytes(proof));
  return VerifyConsistency(size1, size2, path, r1, r2);
}

void MerkleAccumulator::Add(const Hash& leaf_hash) {
  Hash h = leaf_hash;
  // Merge with the perfect subtrees of equal size: one per trailing one-bit of size_.
  for (std::uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    h = NodeHash(stack_.back(), h);
    stack_.pop_back();
  }
  stack_.push_back(h);
  ++size_;
}

Hash MerkleAccumulator::Root() const {
  if (stack_.empty()) return EmptyRoot();
  Hash r = stack_.back();
  for (size_t i = stack_.size() - 1; i-- > 0;) r = NodeHash(stack_[i], r);
  return r;
}

}  // namespace arbiter::ledger
