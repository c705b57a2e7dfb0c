#include "arbiter/ledger/note.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace arbiter::ledger {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space
constexpr std::string_view kCosignatureHeader = "cosignature/v1\ntime ";

Status Malformed(std::string_view why) {
  return Status::InvalidArgument("malformed note: " + std::string(why));
}

// Decodes one UTF-8 code point at s[i]; returns its length, or 0 for an invalid sequence.
size_t DecodeUtf8(std::string_view s, size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t len = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool IsUnicodeSpace(char32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Valid UTF-8 with no ASCII control character other than '\n'.
Status CheckNoteCharacters(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const size_t n = DecodeUtf8(s, i, cp);
    if (n == 0) return Malformed("invalid utf-8 at byte " + std::to_string(i));
    if (cp < 0x20 && cp != '\n') {
      return Malformed("control character at byte " + std::to_string(i));
    }
    i += n;
  }
  return Status::Ok();
}

std::string HexId(std::uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

void PutBigEndian32(Bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

std::uint64_t GetBigEndian64(ByteView b) {
  std::uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | b[i];
  return v;
}

Result<std::uint32_t> ParseHexId(std::string_view s) {
  if (s.size() != 8) return Status::InvalidArgument("key id must be 8 hex digits");
  std::uint32_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return Status::InvalidArgument("key id must be 8 lowercase hex digits");
    }
    v = (v << 4) | static_cast<std::uint32_t>(d);
  }
  return v;
}

Status CheckSignableText(std::string_view text) {
  if (text.empty() || text.back() != '\n') return Malformed("text must end with a newline");
  if (text.size() > kMaxNoteSize) return Malformed("text is too large");
  if (text.front() == '\n' || text.find("\n\n") != std::string_view::npos) {
    return Malformed("text must not contain empty lines");
  }
  return CheckNoteCharacters(text);
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    char32_t cp = 0;
    const size_t n = DecodeUtf8(name, i, cp);
    if (n == 0 || cp == '+' || IsUnicodeSpace(cp) || cp < 0x20 || cp == 0x7F) return false;
    i += n;
  }
  return true;
}

std::uint32_t NoteKeyId(std::string_view name, NoteKeyType type, ByteView public_key) {
  Sha256Hasher h;
  h.Update(name).Update(static_cast<std::uint8_t>('\n'));
  h.Update(static_cast<std::uint8_t>(type)).Update(public_key);
  const Sha256Digest d = h.Final();
  return (std::uint32_t{d[0]} << 24) | (std::uint32_t{d[1]} << 16) | (std::uint32_t{d[2]} << 8) |
         std::uint32_t{d[3]};
}

std::string NoteVerifierKey::ToString() const {
  Bytes raw;
  raw.push_back(static_cast<std::uint8_t>(type));
  raw.insert(raw.end(), public_key.begin(), public_key.end());
  return name + "+" + HexId(key_id) + "+" + Base64Encode(raw);
}

Result<NoteVerifierKey> ParseVerifierKey(std::string_view vkey) {
  const size_t p1 = vkey.find('+');
  if (p1 == std::string_view::npos) {
    return Status::InvalidArgument("verifier key `" + std::string(vkey.substr(0, 64)) +
                                   "` is not <name>+<id>+<key>");
  }
  const size_t p2 = vkey.find('+', p1 + 1);
  if (p2 == std::string_view::npos) {
    return Status::InvalidArgument("verifier key `" + std::string(vkey.substr(0, 64)) +
                                   "` is not <name>+<id>+<key>");
  }
  NoteVerifierKey key;
  key.name = std::string(vkey.substr(0, p1));
  if (!IsValidKeyName(key.name)) {
    return Status::InvalidArgument("verifier key name `" + key.name + "` is invalid");
  }
  auto id = ParseHexId(vkey.substr(p1 + 1, p2 - p1 - 1));
  if (!id) return Status::InvalidArgument("verifier key: " + id.error().message());
  auto raw = Base64Decode(vkey.substr(p2 + 1));
  if (!raw || raw->empty()) {
    return Status::InvalidArgument("verifier key for `" + key.name + "`: invalid base64 key");
  }
  const std::uint8_t type = (*raw)[0];
  if (type != static_cast<std::uint8_t>(NoteKeyType::kEd25519) &&
      type != static_cast<std::uint8_t>(NoteKeyType::kCosignatureV1)) {
    return Status::InvalidArgument("verifier key for `" + key.name +
                                   "`: unsupported signature type 0x" +
                                   HexEncode(ByteView(&(*raw)[0], 1)));
  }
  key.type = static_cast<NoteKeyType>(type);
  key.public_key.assign(raw->begin() + 1, raw->end());
  if (key.public_key.size() != kEd25519KeySize) {
    return Status::InvalidArgument("verifier key for `" + key.name + "`: ed25519 key has " +
                                   std::to_string(key.public_key.size()) + " bytes, expected 32");
  }
  key.key_id = NoteKeyId(key.name, key.type, key.public_key);
  if (key.key_id != *id) {
    return Status::InvalidArgument("verifier key for `" + key.name + "`: key id " + HexId(*id) +
                                   " does not match the key (" + HexId(key.key_id) + ")");
  }
  return key;
}

Result<NoteSigner> NoteSigner::Create(std::string name, Ed25519PrivateKey key) {
  if (!IsValidKeyName(name)) {
    return Status::InvalidArgument("key name `" + name + "` is invalid");
  }
  Bytes pub = key.PublicKey();
  const std::uint32_t id = NoteKeyId(name, NoteKeyType::kEd25519, pub);
  return NoteSigner(std::move(name), std::move(key), std::move(pub), id);
}

Result<NoteSigner> NoteSigner::Generate(std::string name) {
  ARBITER_TRY(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  return Create(std::move(name), std::move(key));
}

Result<NoteSigner> NoteSigner::FromPrivateKeyString(std::string_view skey) {
  constexpr std::string_view kPrefix = "PRIVATE+KEY+";
  if (skey.substr(0, kPrefix.size()) != kPrefix) {
    return Status::InvalidArgument("private key does not start with `PRIVATE+KEY+`");
  }
  std::string_view rest = skey.substr(kPrefix.size());
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
  const size_t p1 = rest.find('+');
  const size_t p2 = p1 == std::string_view::npos ? p1 : rest.find('+', p1 + 1);
  if (p2 == std::string_view::npos) {
    return Status::InvalidArgument("private key is not PRIVATE+KEY+<name>+<id>+<key>");
  }
  ARBITER_TRY(std::uint32_t id, ParseHexId(rest.substr(p1 + 1, p2 - p1 - 1)));
  auto raw = Base64Decode(rest.substr(p2 + 1));
  if (!raw || raw->size() != 1 + kEd25519KeySize || (*raw)[0] != 0x01) {
    return Status::InvalidArgument("private key: expected base64 of 0x01 and a 32-byte seed");
  }
  ARBITER_TRY(Ed25519PrivateKey key,
              Ed25519PrivateKey::FromSeed(ByteView(raw->data() + 1, kEd25519KeySize)));
  ARBITER_TRY(NoteSigner signer, Create(std::string(rest.substr(0, p1)), std::move(key)));
  if (signer.key_id() != id) {
    return Status::InvalidArgument("private key: key id does not match the key");
  }
  return signer;
}

std::string NoteSigner::PrivateKeyString() const {
  Bytes raw{0x01};
  Bytes seed = key_.Seed();
  raw.insert(raw.end(), seed.begin(), seed.end());
  return "PRIVATE+KEY+" + name_ + "+" + HexId(key_id_) + "+" + Base64Encode(raw);
}

std::string NoteSigner::VerifierKey() const {
  return NoteVerifierKey{name_, key_id_, NoteKeyType::kEd25519, public_key_}.ToString();
}

Result<std::string> NoteSigner::SignatureLine(std::string_view text) const {
  ARBITER_RETURN_IF_ERROR(CheckSignableText(text));
  ARBITER_TRY(Bytes sig, key_.Sign(AsBytes(text)));
  Bytes raw;
  PutBigEndian32(raw, key_id_);
  raw.insert(raw.end(), sig.begin(), sig.end());
  return std::string(kSigPrefix) + name_ + " " + Base64Encode(raw) + "\n";
}

Result<std::string> NoteSigner::Sign(std::string_view text) const {
  ARBITER_TRY(std::string line, SignatureLine(text));
  std::string note(text);
  note += '\n';
  note += line;
  return note;
}

namespace {

struct SplitNote {
  std::string_view text;
  std::string_view sigs;
};

Result<SplitNote> Split(std::string_view note) {
  if (note.size() > kMaxNoteSize) {
    return Status::ResourceExhausted("note is larger than " + std::to_string(kMaxNoteSize) +
                                     " bytes");
  }
  ARBITER_RETURN_IF_ERROR(CheckNoteCharacters(note));
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return Malformed("no blank line before the signatures");
  SplitNote out{note.substr(0, split + 1), note.substr(split + 2)};
  if (out.sigs.empty()) return Malformed("no signatures");
  if (out.sigs.back() != '\n') return Malformed("signature block does not end with a newline");
  return out;
}

}  // namespace

Result<std::string> NoteText(std::string_view note) {
  ARBITER_TRY(SplitNote parts, Split(note));
  return std::string(parts.text);
}

Result<OpenedNote> OpenNote(std::string_view note, std::span<const NoteVerifierKey> verifiers) {
  ARBITER_TRY(SplitNote parts, Split(note));
  OpenedNote out;
  out.text = std::string(parts.text);
  std::string_view sigs = parts.sigs;
  std::vector<std::string_view> seen_unverified;
  std::vector<std::pair<std::string_view, std::uint32_t>> seen_verified;
  size_t count = 0;
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (++count > kMaxNoteSignatures) {
      return Malformed("more than " + std::to_string(kMaxNoteSignatures) + " signatures");
    }
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
      return Malformed("line " + std::to_string(count) +
                       " of the signature block does not start with an em dash");
    }
    line.remove_prefix(kSigPrefix.size());
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return Malformed("signature line without a signature");
    const std::string_view name = line.substr(0, sp);
    const std::string_view b64 = line.substr(sp + 1);
    auto raw = Base64Decode(b64);
    if (!IsValidKeyName(name) || b64.empty() || !raw || raw->size() < 5) {
      return Malformed("bad signature line " + std::to_string(count));
    }
    const std::uint32_t id = (std::uint32_t{(*raw)[0]} << 24) | (std::uint32_t{(*raw)[1]} << 16) |
                             (std::uint32_t{(*raw)[2]} << 8) | std::uint32_t{(*raw)[3]};
    const ByteView sig(raw->data() + 4, raw->size() - 4);
    const NoteVerifierKey* key = nullptr;
    for (const NoteVerifierKey& k : verifiers) {
      if (k.name == name && k.key_id == id) {
        key = &k;
        break;
      }
    }
    NoteSignature entry{std::string(name), id, std::string(b64), std::nullopt};
    if (key == nullptr) {
      if (std::find(seen_unverified.begin(), seen_unverified.end(), line) ==
          seen_unverified.end()) {
        seen_unverified.push_back(line);
        out.unverified.push_back(std::move(entry));
      }
      continue;
    }
    if (std::find(seen_verified.begin(), seen_verified.end(), std::pair(name, id)) !=
        seen_verified.end()) {
      continue;
    }
    seen_verified.emplace_back(name, id);
    const std::string who = "`" + std::string(name) + "+" + HexId(id) + "`";
    Status verified;
    if (key->type == NoteKeyType::kEd25519) {
      verified = Ed25519Verify(key->public_key, AsBytes(parts.text), sig);
    } else {
      if (sig.size() != 8 + kEd25519SignatureSize) {
        verified = Status::Unauthenticated("bad cosignature size");
      } else {
        const std::uint64_t t = GetBigEndian64(sig);
        std::string message(kCosignatureHeader);
        message += std::to_string(t);
        message += '\n';
        message += parts.text;
        verified = Ed25519Verify(key->public_key, AsBytes(message), sig.subspan(8));
        entry.timestamp = t;
      }
    }
    if (!verified.ok()) return Status::Unauthenticated("invalid signature by known key " + who);
    out.verified.push_back(std::move(entry));
  }
  if (out.verified.empty()) {
    return Status::Unauthenticated("note has no signature by a known key");
  }
  return out;
}

}  // namespace arbiter::ledger
