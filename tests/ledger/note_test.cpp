// C2SP signed notes and checkpoints against ../shared/vectors/signed-note-vectors.json: every key,
// bad key, note, bad note, checkpoint and cosignature vector.
#include "arbiter/ledger/note.h"

#include <gtest/gtest.h>

#include "arbiter/ledger/checkpoint.h"
#include "ledger/test_util.h"

namespace arbiter::ledger {
namespace {

using testing::LoadJson;
using testing::Str;

std::vector<NoteVerifierKey> ParseKeys(const boost::json::value& list) {
  std::vector<NoteVerifierKey> out;
  for (const auto& v : list.as_array()) {
    auto k = ParseVerifierKey(Str(v));
    EXPECT_TRUE(k.has_value()) << Str(v) << ": " << k.status().ToString();
    if (k) out.push_back(*k);
  }
  return out;
}

std::vector<std::string> Names(const std::vector<NoteSignature>& sigs) {
  std::vector<std::string> out;
  for (const auto& s : sigs) out.push_back(s.name);
  return out;
}

TEST(NoteVectors, Keys) {
  ARBITER_REQUIRE_SHARED(path, "vectors/signed-note-vectors.json");
  const auto doc = LoadJson(path);
  int parsed = 0;
  for (const auto& k : doc.at("keys").as_array()) {
    const auto& o = k.as_object();
    const std::string vkey = Str(k.at("vkey"));
    const std::string alg = Str(k.at("alg"));
    auto key = ParseVerifierKey(vkey);
    if (alg.find("(0x06)") != std::string::npos) {
      // ML-DSA-44 is not supported, and this vector's key id does not match its key anyway.
      EXPECT_FALSE(key.has_value()) << vkey;
      Bytes raw = *Base64Decode(vkey.substr(vkey.find('+', vkey.find('+') + 1) + 1));
      Bytes pub(raw.begin() + 1, raw.end());
      char id[9];
      std::snprintf(id, sizeof id, "%08x", NoteKeyId(Str(k.at("name")), NoteKeyType{0x06}, pub));
      EXPECT_EQ(id, Str(k.at("key_id_computed_per_spec_hex")));
      continue;
    }
    ASSERT_TRUE(key.has_value()) << vkey << ": " << key.status().ToString();
    ++parsed;
    EXPECT_EQ(key->name, Str(k.at("name")));
    EXPECT_EQ(HexEncode(key->public_key), Str(k.at("public_key_hex")));
    char id[9];
    std::snprintf(id, sizeof id, "%08x", key->key_id);
    EXPECT_EQ(id, Str(k.at("key_id_hex")));
    EXPECT_EQ(key->ToString(), vkey);
    if (o.contains("key_id_preimage_hex")) {
      const Bytes pre = *HexDecode(Str(k.at("key_id_preimage_hex")));
      const auto d = Sha256(pre);
      EXPECT_EQ(HexEncode(ByteView(d.data(), 4)), Str(k.at("key_id_hex")));
    }
    if (o.contains("as_cosignature_v1_key_id_hex")) {
      std::snprintf(id, sizeof id, "%08x",
                    NoteKeyId(key->name, NoteKeyType::kCosignatureV1, key->public_key));
      EXPECT_EQ(id, Str(k.at("as_cosignature_v1_key_id_hex")));
    }
    // Signing keys: the private key string and seed reproduce the verifier key.
    if (o.contains("seed_hex")) {
      auto seed = *HexDecode(Str(k.at("seed_hex")));
      auto priv = *Ed25519PrivateKey::FromSeed(seed);
      if (key->type == NoteKeyType::kEd25519) {
        auto signer = NoteSigner::Create(key->name, priv);
        ASSERT_TRUE(signer.has_value());
        EXPECT_EQ(signer->VerifierKey(), vkey);
        const std::string skey = o.contains("skey") ? Str(k.at("skey")) : Str(k.at("skey_derived"));
        EXPECT_EQ(signer->PrivateKeyString(), skey);
        auto reparsed = NoteSigner::FromPrivateKeyString(skey);
        ASSERT_TRUE(reparsed.has_value()) << reparsed.status().ToString();
        EXPECT_EQ(reparsed->VerifierKey(), vkey);
      }
    }
  }
  EXPECT_EQ(parsed, 13);
}

TEST(NoteVectors, BadKeysAreRejected) {
  ARBITER_REQUIRE_SHARED(path, "vectors/signed-note-vectors.json");
  const auto doc = LoadJson(path);
  int n = 0;
  for (const auto& k : doc.at("bad_vkeys").as_array()) {
    auto key = ParseVerifierKey(Str(k.at("vkey")));
    EXPECT_FALSE(key.has_value()) << Str(k.at("why"));
    if (!key) {
      EXPECT_EQ(key.error().code(), StatusCode::kInvalidArgument);
    }
    ++n;
  }
  EXPECT_EQ(n, 3);
  for (const char* bad : {"", "nokey", "a+b", "a+c74f20a3+", "a b+c74f20a3+AQ==",
                          "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"}) {
    EXPECT_FALSE(ParseVerifierKey(bad).has_value()) << bad;
  }
}

TEST(NoteVectors, Notes) {
  ARBITER_REQUIRE_SHARED(path, "vectors/signed-note-vectors.json");
  const auto doc = LoadJson(path);
  int positive = 0, negative = 0;
  for (const auto& n : doc.at("notes").as_array()) {
    const auto& o = n.as_object();
    if (o.contains("negative")) {
      for (const auto& bad : n.at("negative").as_array()) {
        std::string note;
        if (bad.as_object().contains("note")) {
          note = Str(bad.at("note"));
        } else {
          Bytes raw = *HexDecode(Str(bad.at("note_hex")));
          note.assign(raw.begin(), raw.end());
        }
        const auto keys = ParseKeys(bad.at("verifiers"));
        auto opened = OpenNote(note, keys);
        EXPECT_FALSE(opened.has_value()) << Str(bad.at("desc"));
        const std::string expect = Str(bad.at("expect"));
        if (!opened) {
          if (expect.rfind("malformed", 0) == 0) {
            EXPECT_EQ(opened.error().code(), StatusCode::kInvalidArgument)
                << Str(bad.at("desc")) << ": " << opened.error().ToString();
          } else {
            EXPECT_EQ(opened.error().code(), StatusCode::kUnauthenticated)
                << Str(bad.at("desc")) << ": " << opened.error().ToString();
          }
        }
        ++negative;
      }
      continue;
    }
    const std::string note = Str(n.at("note"));
    const std::string text = Str(n.at("text"));
    auto check = [&](const boost::json::value& verifiers, const std::string& expect) {
      const auto keys = ParseKeys(verifiers);
      auto opened = OpenNote(note, keys);
      if (expect.rfind("error", 0) == 0) {
        EXPECT_FALSE(opened.has_value()) << expect;
        if (!opened) {
          EXPECT_EQ(opened.error().code(), StatusCode::kUnauthenticated);
        }
        return;
      }
      ASSERT_TRUE(opened.has_value()) << Str(n.at("desc")) << ": " << opened.status().ToString();
      EXPECT_EQ(opened->text, text);
      EXPECT_EQ(opened->verified.size(), keys.size()) << expect;
      if (expect.find("unverified=[EnochRoot]") != std::string::npos) {
        EXPECT_EQ(Names(opened->unverified), std::vector<std::string>{"EnochRoot"});
      }
      ++positive;
    };
    if (o.contains("cases")) {
      for (const auto& c : n.at("cases").as_array()) check(c.at("verifiers"), Str(c.at("expect")));
    } else {
      check(n.at("verifiers"), Str(n.at("expect")));
    }
  }
  EXPECT_EQ(positive, 4);
  EXPECT_EQ(negative, 9);
}

// Ed25519 is deterministic: signing the vector texts with the published seeds reproduces the
// published notes byte for byte.
TEST(NoteVectors, SigningReproducesGoldenNotes) {
  ARBITER_REQUIRE_SHARED(path, "vectors/signed-note-vectors.json");
  const auto doc = LoadJson(path);
  const auto& first = doc.at("notes").at(0);
  auto signer = NoteSigner::FromPrivateKeyString(Str(doc.at("keys").at(0).at("skey")));
  ASSERT_TRUE(signer.has_value());
  EXPECT_EQ(*signer->Sign(Str(first.at("text"))), Str(first.at("note")));
  // The second note adds EnochRoot's signature line to the first.
  auto enoch = NoteSigner::FromPrivateKeyString(Str(doc.at("keys").at(1).at("skey_derived")));
  ASSERT_TRUE(enoch.has_value());
  EXPECT_EQ(Str(first.at("note")) + *enoch->SignatureLine(Str(first.at("text"))),
            Str(doc.at("notes").at(1).at("note")));
}

TEST(CheckpointVectors, C2spExampleParsesAndUnknownKeysAreIgnored) {
  ARBITER_REQUIRE_SHARED(path, "vectors/signed-note-vectors.json");
  const auto doc = LoadJson(path);
  const auto& ex = doc.at("checkpoints").at("c2sp_checkpoint_example");
  const std::string note = Str(ex.at("note"));
  auto text = NoteText(note);
  ASSERT_TRUE(text.has_value());
  auto cp = ParseCheckpoint(*text);
  ASSERT_TRUE(cp.has_value()) << cp.status().ToString();
  EXPECT_EQ(cp->origin, Str(ex.at("parsed").at("origin")));
  EXPECT_EQ(cp->size, ex.at("parsed").at("tree_size").to_number<std::uint64_t>());
  EXPECT_EQ(HexEncode(cp->root), Str(ex.at("parsed").at("root_hash_hex")));
  EXPECT_EQ(cp->Format(), *text);
  // The log's key is unpublished: with no known key the note must not verify.
  EXPECT_EQ(OpenNote(note, {}).error().code(), StatusCode::kUnauthenticated);

  const auto& cosig = doc.at("checkpoints").at("derived_cosignature_v1_ed25519");
  auto wit = ParseVerifierKey(Str(cosig.at("vkey_type_0x04")));
  ASSERT_TRUE(wit.has_value()) << wit.status().ToString();
  auto opened = OpenNote(Str(cosig.at("note_with_cosignature")), {&*wit, 1});
  ASSERT_TRUE(opened.has_value()) << opened.status().ToString();
  ASSERT_EQ(Names(opened->verified), std::vector<std::string>{"Wit1"});
  EXPECT_EQ(opened->verified[0].timestamp, cosig.at("timestamp").to_number<std::uint64_t>());
  EXPECT_EQ(Names(opened->unverified), std::vector<std::string>{"example.com/behind-the-sofa"});
  // The cosignature is exactly the derived signature line.
  const std::string line = Str(cosig.at("signature_line"));
  EXPECT_NE(Str(cosig.at("note_with_cosignature")).find(line), std::string::npos);
  // A flipped timestamp breaks it: a bad signature by a known key rejects the note.
  std::string tampered = Str(cosig.at("note_with_cosignature"));
  tampered.replace(tampered.find("mz+y1QAAAABkGFDL"), 16, "mz+y1QAAAABkGFDM");
  EXPECT_EQ(OpenNote(tampered, {&*wit, 1}).error().code(), StatusCode::kUnauthenticated);
  // The same key as type 0x01 has another key id, so the cosignature is simply unknown.
  Bytes raw{0x01};
  raw.insert(raw.end(), wit->public_key.begin(), wit->public_key.end());
  auto as_plain = ParseVerifierKey(Str(doc.at("keys").at(8).at("vkey")));
  ASSERT_TRUE(as_plain.has_value());
  EXPECT_FALSE(OpenNote(Str(cosig.at("note_with_cosignature")), {&*as_plain, 1}).has_value());
}

TEST(CheckpointVectors, Marshal) {
  ARBITER_REQUIRE_SHARED(path, "vectors/signed-note-vectors.json");
  const auto doc = LoadJson(path);
  const auto& m = doc.at("checkpoint_marshal_vectors");
  for (const auto& c : m.at("cases").as_array()) {
    EXPECT_EQ(FormatCheckpointBody(Str(c.at("origin")), c.at("size").to_number<std::uint64_t>(),
                                   AsBytes(Str(c.at("hash_ascii")))),
              Str(c.at("want")));
    // Roots that are not 32 bytes are not RFC 9162 SHA-256 checkpoints.
    EXPECT_FALSE(ParseCheckpoint(Str(c.at("want"))).has_value());
  }
  EXPECT_EQ(Base64Encode(EmptyRoot()), Str(m.at("empty_tree_root_b64")));
}

TEST(Checkpoint, StrictParsing) {
  const std::string root = Base64Encode(EmptyRoot());
  EXPECT_TRUE(ParseCheckpoint("o\n0\n" + root + "\n").has_value());
  auto ext = ParseCheckpoint("o\n5\n" + root + "\next one\nx\n");
  ASSERT_TRUE(ext.has_value());
  EXPECT_EQ(ext->extensions, (std::vector<std::string>{"ext one", "x"}));
  for (const std::string& bad : std::vector<std::string>{
           "", "o\n1\n", "\n1\n" + root + "\n", "o\n01\n" + root + "\n", "o\n-1\n" + root + "\n",
           "o\n+1\n" + root + "\n", "o\n1\n" + root, "o\n1\nAAAA\n", "o\n1\n" + root + "\n\n",
           "o\n18446744073709551616\n" + root + "\n", "o\n1 \n" + root + "\n"}) {
    auto cp = ParseCheckpoint(bad);
    EXPECT_FALSE(cp.has_value()) << bad;
    if (!cp) {
      EXPECT_EQ(cp.error().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(Note, SixteenAndMoreSignaturesAreAccepted) {
  const std::string text = "example.com/log\n3\n" + Base64Encode(EmptyRoot()) + "\n";
  std::string note = text + "\n";
  std::vector<NoteVerifierKey> keys;
  for (int i = 0; i < 20; ++i) {
    auto signer = NoteSigner::Generate("witness-" + std::to_string(i));
    ASSERT_TRUE(signer.has_value());
    note += *signer->SignatureLine(text);
    keys.push_back(*ParseVerifierKey(signer->VerifierKey()));
  }
  auto opened = OpenNote(note, keys);
  ASSERT_TRUE(opened.has_value()) << opened.status().ToString();
  EXPECT_EQ(opened->verified.size(), 20u);
  // With only some keys known, the rest are ignored.
  auto partial = OpenNote(note, std::span<const NoteVerifierKey>(keys).first(3));
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->verified.size(), 3u);
  EXPECT_EQ(partial->unverified.size(), 17u);
}

TEST(Note, SignRefusesMalformedText) {
  auto signer = *NoteSigner::Generate("log");
  for (const std::string& bad :
       std::vector<std::string>{"", "no newline", "a\n\nb\n", "\n", "bad\x01\n", "\xff\n"}) {
    EXPECT_FALSE(signer.Sign(bad).has_value()) << bad;
  }
  EXPECT_FALSE(NoteSigner::Generate("bad name").has_value());
  EXPECT_FALSE(NoteSigner::Generate("a+b").has_value());
  EXPECT_FALSE(NoteSigner::FromPrivateKeyString("PRIVATE+KEY+x+00000000+AQ==").has_value());
}

TEST(Checkpoint, OpenChecksOriginAndSignature) {
  auto signer = *NoteSigner::Generate("example.com/log");
  auto key = *ParseVerifierKey(signer.VerifierKey());
  Checkpoint cp{"example.com/log", 42, LeafHash(AsBytes("x")), {}};
  const std::string note = *signer.Sign(cp.Format());
  auto opened = OpenCheckpoint(note, {&key, 1}, "example.com/log");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->checkpoint, cp);
  EXPECT_FALSE(OpenCheckpoint(note, {&key, 1}, "other").has_value());
  std::string flipped = note;
  flipped[flipped.find("42")] = '3';
  EXPECT_EQ(OpenCheckpoint(flipped, {&key, 1}).error().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace arbiter::ledger
