// Sensitivity scanner and redaction: finds personal data and secrets in UTF-8 text of any language,
// assigns the text a sensitivity level, and produces the minimised view an AI agent may see.
//
//   ScanConfig config;  // the default level mapping (docs/SIGNALS.md)
//   ScanResult r = ScanText("mail me at ana@example.org", config);
//   r.level;                                   // Level::kInternal
//   r.count(Kind::kEmail);                     // 1
//   std::string view = Redact(text, r.spans);  // "mail me at [EMAIL]"
//
// The scanner is a single pass over the bytes with bounded look-ahead (no regular expressions), so
// its cost is linear in the input. It accepts any bytes: invalid UTF-8 and binary data are scanned
// like text and never make it fail. It is stateless and thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "arbiter/common/status.h"

namespace arbiter::signals {

// What a span contains. The names (KindName) are part of the JSON and CLI contract.
enum class Kind : std::uint8_t {
  kEmail,     // e-mail address
  kPhone,     // phone number in international or common national formats
  kCard,      // payment card number (Luhn-valid, known issuer prefix and length)
  kIban,      // IBAN (registered country length, mod-97 valid)
  kSsn,       // US social security number, ddd-dd-dddd (valid area/group/serial)
  kIp,        // IPv4 or IPv6 address
  kSecret,    // API key, token, private key: well-known prefixes or high-entropy tokens
  kPassword,  // the value of a password written in text ("password: hunter2")
};
inline constexpr size_t kKindCount = 8;
inline constexpr std::array<Kind, kKindCount> kAllKinds = {
    Kind::kEmail, Kind::kPhone, Kind::kCard,   Kind::kIban,
    Kind::kSsn,   Kind::kIp,    Kind::kSecret, Kind::kPassword};

std::string_view KindName(Kind kind);                  // "email", "phone", ...
std::optional<Kind> ParseKind(std::string_view name);  // inverse of KindName
std::string_view RedactionMarker(Kind kind);           // "[EMAIL]", "[PHONE]", ...

// Sensitivity levels, ordered: a text's level is the highest level of the kinds found in it.
enum class Level : std::uint8_t { kPublic, kInternal, kConfidential, kRestricted };
std::string_view LevelName(Level level);  // "public", "internal", ...
std::optional<Level> ParseLevel(std::string_view name);

// A half-open byte range [begin, end) of the scanned text.
struct Span {
  Kind kind;
  size_t begin = 0;
  size_t end = 0;
  friend bool operator==(const Span&, const Span&) = default;
};

struct ScanConfig {
  // The level each kind raises a text to. Defaults: email, phone, ip → internal; iban →
  // confidential; card, ssn, secret, password → restricted.
  std::array<Level, kKindCount> level_of = {
      Level::kInternal,   Level::kInternal, Level::kRestricted, Level::kConfidential,
      Level::kRestricted, Level::kInternal, Level::kRestricted, Level::kRestricted};
  // Kinds to look for; a disabled kind is neither reported nor redacted.
  std::array<bool, kKindCount> enabled = {true, true, true, true, true, true, true, true};
  // At most this many spans are returned (counts keep counting past it).
  size_t max_spans = 100000;

  Level LevelOf(Kind k) const { return level_of[static_cast<size_t>(k)]; }
  bool Enabled(Kind k) const { return enabled[static_cast<size_t>(k)]; }
};

// Reads a mapping such as {"levels": {"email": "confidential"}, "disabled": ["ip"]}. Kinds not
// named keep their defaults. Errors name the offending field.
Result<ScanConfig> ScanConfigFromJson(const boost::json::value& json);

struct ScanResult {
  Level level = Level::kPublic;
  std::array<std::uint32_t, kKindCount> counts{};  // indexed by Kind
  std::vector<Span> spans;                         // sorted by begin, never overlapping

  std::uint32_t count(Kind k) const { return counts[static_cast<size_t>(k)]; }
};

// Scans `text`. Never fails: any byte sequence is accepted.
ScanResult ScanText(std::string_view text, const ScanConfig& config = {});

// The minimised view: each span replaced by its marker ("[EMAIL]"), every other byte unchanged.
// `spans` must be sorted and non-overlapping (as ScanText returns them); spans that overlap an
// earlier one or reach past the text are ignored.
std::string Redact(std::string_view text, const std::vector<Span>& spans);

// ScanResult as JSON: {"level", "kinds": {kind: count}, "spans": [{"kind","begin","end"}]}.
boost::json::value ScanResultToJson(const ScanResult& result);

}  // namespace arbiter::signals
