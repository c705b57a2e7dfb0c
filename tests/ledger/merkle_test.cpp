// RFC 9162 Merkle core against ../shared/vectors/merkle-vectors.json: every vector, negative
// probes included.
#include "arbiter/ledger/merkle.h"

#include <gtest/gtest.h>

#include "ledger/test_util.h"

namespace arbiter::ledger {
namespace {

using testing::HexHash;
using testing::HexPath;
using testing::HexPathOrDie;
using testing::LoadJson;
using testing::Str;

Hash MustHex(const boost::json::value& v) {
  auto h = HexHash(v);
  EXPECT_TRUE(h.has_value()) << v;
  return h.value_or(Hash{});
}

// Raw bytes of a hex field (null or non-hex gives an empty string, which no verifier accepts as a
// hash).
Bytes HexBytes(const boost::json::value& v) {
  if (!v.is_string()) return {};
  return HexDecode(Str(v)).value_or(Bytes{});
}

std::vector<Bytes> HexList(const boost::json::value& v) {
  std::vector<Bytes> out;
  for (const auto& e : v.as_array()) out.push_back(HexBytes(e));
  return out;
}

std::vector<Hash> LeafHashesOf(const boost::json::array& leaves_hex) {
  std::vector<Hash> out;
  for (const auto& l : leaves_hex) out.push_back(LeafHash(*HexDecode(Str(l))));
  return out;
}

TEST(MerkleVectors, HashVectors) {
  ARBITER_REQUIRE_SHARED(path, "vectors/merkle-vectors.json");
  const auto doc = LoadJson(path);
  int checked = 0;
  for (const auto& v : doc.at("hash_vectors").as_array()) {
    const std::string kind = Str(v.at("kind"));
    const std::string want = Str(v.at("want"));
    if (kind == "empty_root") {
      EXPECT_EQ(HexEncode(EmptyRoot()), want);
    } else if (kind == "leaf") {
      EXPECT_EQ(HexEncode(LeafHash(*HexDecode(Str(v.at("input_hex"))))), want) << v;
    } else if (kind == "node") {
      // Children that are not 32 bytes: hash the raw preimage 0x01 || left || right.
      Bytes pre{0x01};
      Bytes l = *HexDecode(Str(v.at("left_hex")));
      Bytes r = *HexDecode(Str(v.at("right_hex")));
      pre.insert(pre.end(), l.begin(), l.end());
      pre.insert(pre.end(), r.begin(), r.end());
      EXPECT_EQ(HexEncode(Sha256(pre)), want);
    } else {
      ADD_FAILURE() << "unknown hash vector kind " << kind;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 5);
  // NodeHash itself on 32-byte children agrees with the raw construction.
  const Hash a = LeafHash(AsBytes("a"));
  const Hash b = LeafHash(AsBytes("b"));
  Bytes pre{0x01};
  pre.insert(pre.end(), a.begin(), a.end());
  pre.insert(pre.end(), b.begin(), b.end());
  EXPECT_EQ(NodeHash(a, b), Sha256(pre));
}

TEST(MerkleVectors, Rfc6962LeavesRootsNodesAndProofs) {
  ARBITER_REQUIRE_SHARED(path, "vectors/merkle-vectors.json");
  const auto doc = LoadJson(path);
  const auto& t = doc.at("rfc6962_leaves");
  const std::vector<Hash> leaves = LeafHashesOf(t.at("leaves").as_array());
  ASSERT_EQ(leaves.size(), 8u);
  for (size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(leaves[i], MustHex(t.at("leaf_hashes").at(i)));
  }
  MemoryHashSource source(leaves);
  for (std::uint32_t level = 0; level < 4; ++level) {
    const auto& nodes = t.at("node_hashes_by_level").at("level" + std::to_string(level)).as_array();
    for (size_t i = 0; i < nodes.size(); ++i) {
      EXPECT_EQ(*source.SubtreeHash(level, i), MustHex(nodes[i])) << level << "/" << i;
    }
  }
  for (const auto& r : t.at("roots").as_array()) {
    const auto size = static_cast<size_t>(r.at("tree_size").to_number<std::uint64_t>());
    const Hash want = MustHex(r.at("root"));
    EXPECT_EQ(RootFromLeafHashes(std::span<const Hash>(leaves).first(size)), want) << size;
    if (size > 0) {
      EXPECT_EQ(*RangeHash(source, 0, size), want);
    }
  }
  for (const char* key : {"published_inclusion_proofs", "derived_inclusion_proofs_all"}) {
    for (const auto& p : t.at(key).as_array()) {
      const auto index = p.at("leaf_index").to_number<std::uint64_t>();
      const auto size = p.at("tree_size").to_number<std::uint64_t>();
      const auto path_hashes = HexPathOrDie(p.at("path"));
      MemoryHashSource prefix(std::span<const Hash>(leaves).first(size));
      EXPECT_EQ(*ProveInclusion(prefix, index, size), path_hashes) << key << " " << p;
      EXPECT_TRUE(VerifyInclusion(MustHex(p.at("leaf_hash")), index, size, path_hashes,
                                  MustHex(p.at("root")))
                      .ok())
          << p;
    }
  }
  for (const char* key : {"published_consistency_proofs", "derived_consistency_proofs_all"}) {
    for (const auto& p : t.at(key).as_array()) {
      const auto size1 = p.at("size1").to_number<std::uint64_t>();
      const auto size2 = p.at("size2").to_number<std::uint64_t>();
      const auto path_hashes = HexPathOrDie(p.at("path"));
      MemoryHashSource prefix(std::span<const Hash>(leaves).first(size2));
      EXPECT_EQ(*ProveConsistency(prefix, size1, size2), path_hashes) << key << " " << p;
      EXPECT_TRUE(VerifyConsistency(size1, size2, path_hashes, MustHex(p.at("root1")),
                                    MustHex(p.at("root2")))
                      .ok())
          << p;
    }
  }
}

TEST(MerkleVectors, InclusionProbes) {
  ARBITER_REQUIRE_SHARED(path, "vectors/merkle-vectors.json");
  const auto doc = LoadJson(path);
  int accepted = 0, rejected = 0;
  for (const auto& p : doc.at("proof_probes").at("inclusion").as_array()) {
    const bool want_err = p.at("want_err").as_bool();
    const bool ok = VerifyInclusionBytes(HexBytes(p.at("leaf_hash")),
                                         p.at("leaf_index").to_number<std::uint64_t>(),
                                         p.at("tree_size").to_number<std::uint64_t>(),
                                         HexList(p.at("path")), HexBytes(p.at("root")))
                        .ok();
    EXPECT_EQ(ok, !want_err) << Str(p.at("file"));
    (ok ? accepted : rejected)++;
  }
  EXPECT_EQ(accepted + rejected, 98);
  EXPECT_EQ(accepted, 6);
}

TEST(MerkleVectors, ConsistencyProbes) {
  ARBITER_REQUIRE_SHARED(path, "vectors/merkle-vectors.json");
  const auto doc = LoadJson(path);
  int accepted = 0, total = 0;
  for (const auto& p : doc.at("proof_probes").at("consistency").as_array()) {
    const bool want_err = p.at("want_err").as_bool();
    const bool ok =
        VerifyConsistencyBytes(p.at("size1").to_number<std::uint64_t>(),
                               p.at("size2").to_number<std::uint64_t>(), HexList(p.at("path")),
                               HexBytes(p.at("root1")), HexBytes(p.at("root2")))
            .ok();
    EXPECT_EQ(ok, !want_err) << Str(p.at("file"));
    accepted += ok;
    ++total;
  }
  EXPECT_EQ(total, 98);
  EXPECT_EQ(accepted, 6);
}

std::vector<Hash> ByteLeaves(size_t n) {
  std::vector<Hash> leaves;
  for (size_t i = 0; i < n; ++i) {
    const auto b = static_cast<std::uint8_t>(i);
    leaves.push_back(LeafHash(ByteView(&b, 1)));
  }
  return leaves;
}

TEST(MerkleVectors, ByteLeavesRootsAndSpotChecks) {
  ARBITER_REQUIRE_SHARED(path, "vectors/merkle-vectors.json");
  const auto doc = LoadJson(path);
  const auto& t = doc.at("byte_leaves_0_to_129");
  const std::vector<Hash> leaves = ByteLeaves(130);
  MemoryHashSource source(leaves);
  for (const auto& r : t.at("derived_roots").as_array()) {
    const auto size = r.at("tree_size").to_number<std::uint64_t>();
    EXPECT_EQ(RootFromLeafHashes(std::span<const Hash>(leaves).first(size)), MustHex(r.at("root")))
        << size;
  }
  for (const auto& p : t.at("derived_inclusion_spot_checks").as_array()) {
    const auto index = p.at("leaf_index").to_number<std::uint64_t>();
    const auto size = p.at("tree_size").to_number<std::uint64_t>();
    MemoryHashSource prefix(std::span<const Hash>(leaves).first(size));
    const auto want = HexPathOrDie(p.at("path"));
    EXPECT_EQ(*ProveInclusion(prefix, index, size), want);
    EXPECT_TRUE(
        VerifyInclusion(MustHex(p.at("leaf_hash")), index, size, want, MustHex(p.at("root"))).ok());
  }
  for (const auto& p : t.at("derived_consistency_spot_checks").as_array()) {
    const auto size1 = p.at("size1").to_number<std::uint64_t>();
    const auto size2 = p.at("size2").to_number<std::uint64_t>();
    MemoryHashSource prefix(std::span<const Hash>(leaves).first(size2));
    const auto want = HexPathOrDie(p.at("path"));
    EXPECT_EQ(*ProveConsistency(prefix, size1, size2), want);
    EXPECT_TRUE(
        VerifyConsistency(size1, size2, want, MustHex(p.at("root1")), MustHex(p.at("root2"))).ok());
  }
}

bool ValidSubtree(std::uint64_t start, std::uint64_t end) {
  return start <= end && (start == 0 || start == end || start % std::bit_ceil(end - start) == 0);
}

// The accumulated digests of the plants-merkle-tree-certs subtree vectors: every valid subtree's
// hash and every subtree inclusion proof over leaves d[i] = byte(i), sizes up to 130.
TEST(MerkleVectors, ByteLeavesAccumulatedSubtreeDigests) {
  ARBITER_REQUIRE_SHARED(path, "vectors/merkle-vectors.json");
  const auto doc = LoadJson(path);
  const auto& digests = doc.at("byte_leaves_0_to_129").at("published_accumulated_digests");
  const std::vector<Hash> leaves = ByteLeaves(130);
  MemoryHashSource source(leaves);
  Sha256Hasher subtree_digest;
  Sha256Hasher proof_digest;
  for (std::uint64_t end = 0; end <= 130; ++end) {
    for (std::uint64_t start = 0; start <= end; ++start) {
      if (!ValidSubtree(start, end)) continue;
      const Hash h = start == end ? EmptyRoot() : *RangeHash(source, start, end);
      subtree_digest.Update("[" + std::to_string(start) + ", " + std::to_string(end) + ") " +
                            HexEncode(h) + "\n");
      for (std::uint64_t index = start; index < end; ++index) {
        auto proof = ProveSubtreeInclusion(source, index, start, end);
        ASSERT_TRUE(proof.has_value());
        std::string line =
            std::to_string(index) + " [" + std::to_string(start) + ", " + std::to_string(end) + ")";
        for (const Hash& p : *proof) line += " " + HexEncode(p);
        proof_digest.Update(line + "\n");
      }
    }
  }
  EXPECT_EQ(HexEncode(subtree_digest.Final()), Str(digests.at("subtree_hashes").at("want")));
  EXPECT_EQ(HexEncode(proof_digest.Final()),
            Str(digests.at("subtree_inclusion_proofs").at("want")));
}

// Every inclusion and consistency proof up to 70 leaves verifies, and fails once corrupted.
TEST(Merkle, ExhaustiveSmallTreesRoundTrip) {
  const std::vector<Hash> leaves = ByteLeaves(70);
  for (std::uint64_t size = 1; size <= leaves.size(); ++size) {
    MemoryHashSource source(std::span<const Hash>(leaves).first(size));
    const Hash root = RootFromLeafHashes(std::span<const Hash>(leaves).first(size));
    for (std::uint64_t i = 0; i < size; ++i) {
      auto proof = *ProveInclusion(source, i, size);
      ASSERT_TRUE(VerifyInclusion(leaves[i], i, size, proof, root).ok()) << i << "/" << size;
      if (!proof.empty()) {
        proof[0][0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(leaves[i], i, size, proof, root).ok());
      }
      // The wrong index: the path's shape or hashes no longer fit.
      if (size > 1) {
        EXPECT_FALSE(
            VerifyInclusion(leaves[i], (i + 1) % size, size, *ProveInclusion(source, i, size), root)
                .ok());
      }
    }
    for (std::uint64_t old = 1; old <= size; ++old) {
      const Hash old_root = RootFromLeafHashes(std::span<const Hash>(leaves).first(old));
      auto proof = *ProveConsistency(source, old, size);
      ASSERT_TRUE(VerifyConsistency(old, size, proof, old_root, root).ok()) << old << "->" << size;
      if (!proof.empty()) {
        proof.back()[31] ^= 0x80;
        EXPECT_FALSE(VerifyConsistency(old, size, proof, old_root, root).ok());
      }
    }
  }
}

TEST(Merkle, ConsistencyFromEmptyTreeIsRefused) {
  const std::vector<Hash> leaves = ByteLeaves(4);
  MemoryHashSource source(leaves);
  EXPECT_EQ(ProveConsistency(source, 0, 4).error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(VerifyConsistency(0, 0, {}, EmptyRoot(), EmptyRoot()).ok());
  EXPECT_EQ(ProveConsistency(source, 3, 2).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ProveInclusion(source, 4, 4).error().code(), StatusCode::kOutOfRange);
}

TEST(Merkle, AccumulatorMatchesRecursiveDefinition) {
  const std::vector<Hash> leaves = ByteLeaves(300);
  MerkleAccumulator acc;
  EXPECT_EQ(acc.Root(), EmptyRoot());
  MemoryHashSource source(leaves);
  for (size_t i = 0; i < leaves.size(); ++i) {
    acc.Add(leaves[i]);
    ASSERT_EQ(acc.Root(), *RangeHash(source, 0, i + 1)) << i + 1;
  }
}

}  // namespace
}  // namespace arbiter::ledger
