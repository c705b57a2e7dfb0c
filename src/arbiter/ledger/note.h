// C2SP signed notes (https://c2sp.org/signed-note), the envelope of transparency-log checkpoints:
// a UTF-8 text, a blank line, then one signature line per signer,
//
//   <text lines, each ending in '\n'>
//   \n
//   — <key name> base64(4-byte key id || signature)\n
//
// Key ids are SHA-256(name || '\n' || type || public key)[:4]. Verifier keys are written
// `<name>+<8 hex key id>+base64(type || public key)`. Supported types: 0x01 Ed25519 (signature over
// the text) and 0x04 Ed25519 cosignature/v1 (https://c2sp.org/tlog-cosignature: 8-byte big-endian
// timestamp || signature over "cosignature/v1\ntime <t>\n" || text).
//
//   ARBITER_TRY(NoteSigner signer, NoteSigner::Generate("example.com/log"));
//   ARBITER_TRY(std::string note, signer.Sign("hello\n"));
//   ARBITER_TRY(NoteVerifierKey key, ParseVerifierKey(signer.VerifierKey()));
//   ARBITER_TRY(OpenedNote opened, OpenNote(note, {&key, 1}));   // opened.text == "hello\n"
//
// Opening follows golang.org/x/mod/sumdb/note: signatures by unknown keys are kept as unverified
// and ignored, a bad signature by a known key rejects the whole note, at most 100 signature lines
// are read (C2SP requires accepting at least 16), and a note with no verified signature is an
// error.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"

namespace arbiter::ledger {

enum class NoteKeyType : std::uint8_t {
  kEd25519 = 0x01,
  kCosignatureV1 = 0x04,
};

inline constexpr size_t kMaxNoteSignatures = 100;
inline constexpr size_t kMaxNoteSize = 1 << 20;

// A key name is non-empty UTF-8 without whitespace or '+'.
bool IsValidKeyName(std::string_view name);

// SHA-256(name || 0x0A || type || public_key)[:4] as a big-endian integer.
std::uint32_t NoteKeyId(std::string_view name, NoteKeyType type, ByteView public_key);

struct NoteVerifierKey {
  std::string name;
  std::uint32_t key_id = 0;
  NoteKeyType type = NoteKeyType::kEd25519;
  Bytes public_key;  // 32 bytes for both supported types

  // `<name>+<hex id>+base64(type || key)`.
  std::string ToString() const;
};

// Parses a verifier key. Rejects malformed text, unknown or unsupported types, wrong key sizes and
// a key id that does not match the name and key.
Result<NoteVerifierKey> ParseVerifierKey(std::string_view vkey);

// Signs notes with an Ed25519 key (type 0x01) under a key name.
class NoteSigner {
 public:
  static Result<NoteSigner> Create(std::string name, Ed25519PrivateKey key);
  static Result<NoteSigner> Generate(std::string name);
  // The golang.org/x/mod/sumdb/note private key format:
  // `PRIVATE+KEY+<name>+<hex id>+base64(0x01 || 32-byte seed)`.
  static Result<NoteSigner> FromPrivateKeyString(std::string_view skey);

  std::string PrivateKeyString() const;
  std::string VerifierKey() const;
  const std::string& name() const { return name_; }
  std::uint32_t key_id() const { return key_id_; }

  // The signature line for `text` ("— <name> <base64>\n").
  Result<std::string> SignatureLine(std::string_view text) const;
  // text + "\n" + signature line. The text must be well formed (see OpenNote): valid UTF-8 without
  // control characters other than '\n', ending in '\n', without empty lines.
  Result<std::string> Sign(std::string_view text) const;

 private:
  NoteSigner(std::string name, Ed25519PrivateKey key, Bytes public_key, std::uint32_t key_id)
      : name_(std::move(name)),
        key_(std::move(key)),
        public_key_(std::move(public_key)),
        key_id_(key_id) {}
  std::string name_;
  Ed25519PrivateKey key_;
  Bytes public_key_;
  std::uint32_t key_id_;
};

struct NoteSignature {
  std::string name;
  std::uint32_t key_id = 0;
  std::string base64;                      // as written on the line (key id included)
  std::optional<std::uint64_t> timestamp;  // cosignature/v1 only
};

struct OpenedNote {
  std::string text;
  std::vector<NoteSignature> verified;
  std::vector<NoteSignature> unverified;  // by keys not among the verifiers
};

// Parses `note` and verifies its signatures against `verifiers`. Errors: kInvalidArgument for a
// malformed note ("malformed note: ..."), kUnauthenticated for a bad signature by a known key or
// when no signature is by a known key.
Result<OpenedNote> OpenNote(std::string_view note, std::span<const NoteVerifierKey> verifiers);

// Splits a note into its text and signature lines without verifying anything (for tools that only
// read a note's text).
Result<std::string> NoteText(std::string_view note);

}  // namespace arbiter::ledger
