// The Merkle tree of RFC 9162 §2.1 (the hash construction of Certificate Transparency, Trillian,
// Tessera and Go's checksum database) over SHA-256: leaf and node hashing with the 0x00/0x01
// domain-separation prefixes, the root of a tree of any size, and generation and verification of
// inclusion and consistency proofs. Paths are ordered leaf to root, as in the RFC.
//
//   Hash leaf = LeafHash(AsBytes("entry"));
//   ARBITER_TRY(auto proof, ProveInclusion(source, /*index=*/5, /*size=*/8));
//   ARBITER_RETURN_IF_ERROR(VerifyInclusion(leaf, 5, 8, proof, root));
//
// Proof generation reads the hashes of perfect subtrees from a HashSource, so the same code serves
// an in-memory tree (tests, verification) and the stored tiles of a ledger.
//
// Consistency from size 0: every tree trivially extends the empty tree, so RFC 9162 defines no
// proof for it. ProveConsistency(0, n) is an error (kInvalidArgument) and VerifyConsistency rejects
// size1 == 0, as transparency-dev/merkle does; callers that hold no earlier checkpoint simply have
// nothing to check.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"

namespace arbiter::ledger {

using Hash = Sha256Digest;
inline constexpr size_t kHashSize = 32;

// SHA-256(0x00 || entry).
Hash LeafHash(ByteView entry);
// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);
// The root of the empty tree, SHA-256("").
Hash EmptyRoot();

// A 32-byte hash from arbitrary bytes (e.g. decoded hex); kInvalidArgument for any other length.
Result<Hash> HashFromBytes(ByteView bytes);

// MTH(D[0:n]) for the given leaf hashes (the empty root for none).
Hash RootFromLeafHashes(std::span<const Hash> leaf_hashes);

// Supplies the hash of the perfect subtree at `level` covering leaves
// [index * 2^level, (index + 1) * 2^level). Callers only ask for subtrees that lie within the tree
// size they are proving against.
class HashSource {
 public:
  virtual ~HashSource() = default;
  virtual Result<Hash> SubtreeHash(std::uint32_t level, std::uint64_t index) = 0;
};

// A HashSource over leaf hashes held in memory. Computes each subtree on demand (O(2^level)):
// meant for tests and small trees.
class MemoryHashSource final : public HashSource {
 public:
  explicit MemoryHashSource(std::span<const Hash> leaf_hashes) : leaves_(leaf_hashes) {}
  Result<Hash> SubtreeHash(std::uint32_t level, std::uint64_t index) override;

 private:
  std::span<const Hash> leaves_;
};

// MTH(D[begin:end]) from perfect subtrees, splitting as RFC 9162 does (begin must be a multiple of
// the largest power of two not exceeding end - begin, which holds for every range the proofs use).
Result<Hash> RangeHash(HashSource& source, std::uint64_t begin, std::uint64_t end);

// PATH(index, D[0:size]). kOutOfRange unless index < size.
Result<std::vector<Hash>> ProveInclusion(HashSource& source, std::uint64_t index,
                                         std::uint64_t size);
// PATH(index - begin, D[begin:end]): the inclusion proof of a leaf in a subtree.
Result<std::vector<Hash>> ProveSubtreeInclusion(HashSource& source, std::uint64_t index,
                                                std::uint64_t begin, std::uint64_t end);

// PROOF(size1, D[0:size2]). Requires 0 < size1 <= size2; empty when size1 == size2.
Result<std::vector<Hash>> ProveConsistency(HashSource& source, std::uint64_t size1,
                                           std::uint64_t size2);

// RFC 9162 §2.1.3.2. OK iff `proof` proves that `leaf_hash` is leaf `index` of the tree of `size`
// with root `root`; otherwise kUnauthenticated (or kInvalidArgument for impossible indices).
Status VerifyInclusion(const Hash& leaf_hash, std::uint64_t index, std::uint64_t size,
                       std::span<const Hash> proof, const Hash& root);
// The root implied by an inclusion proof, or an error when the proof has the wrong shape.
Result<Hash> RootFromInclusionProof(const Hash& leaf_hash, std::uint64_t index, std::uint64_t size,
                                    std::span<const Hash> proof);

// RFC 9162 §2.1.4.2, with size1 == size2 requiring an empty proof and equal roots, and size1 == 0
// rejected (see above). OK iff the tree of size2 with root2 extends the tree of size1 with root1.
Status VerifyConsistency(std::uint64_t size1, std::uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2);

// The same checks on untrusted byte strings (hashes read from a file or the network): any hash
// that is not 32 bytes rejects the proof, except that two equal sizes only need byte-equal roots
// and an empty proof (transparency-dev/merkle behaves the same).
Status VerifyInclusionBytes(ByteView leaf_hash, std::uint64_t index, std::uint64_t size,
                            std::span<const Bytes> proof, ByteView root);
Status VerifyConsistencyBytes(std::uint64_t size1, std::uint64_t size2,
                              std::span<const Bytes> proof, ByteView root1, ByteView root2);

// Builds a tree incrementally from leaf hashes, keeping only the O(log n) perfect subtrees on the
// right edge. Used to recompute roots while streaming a whole log.
class MerkleAccumulator {
 public:
  void Add(const Hash& leaf_hash);
  std::uint64_t size() const { return size_; }
  Hash Root() const;

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash> stack_;  // perfect subtrees, largest first; one per set bit of size_
};

}  // namespace arbiter::ledger
