// Signals the router reads besides the Case itself: the computed ones (data sensitivity,
// near-duplicate clusters) and the vocabulary that routing.toml maps into Cedar attributes.
//
// The signals module (scanner, duplicate index) plugs in behind SignalComputer; callers and pack
// tests may also supply computed signals directly, which then take precedence:
//
//   ARBITER_TRY(ComputedSignals given, SignalsFromJson(line["signals"], "signals"));
//   ComputedSignals s = MergeSignals(computer ? computer->Compute(c) : ComputedSignals{}, given);
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/sources/case.h"

namespace arbiter::routing {

// Sensitivity levels, least to most sensitive; the rank is the index. The names are the signals
// module's (signals::LevelName).
inline constexpr std::string_view kSensitivityLevels[] = {"public", "internal", "confidential",
                                                          "restricted"};
// The rank of a level name, or nullopt for an unknown name.
std::optional<std::int64_t> SensitivityRank(std::string_view level);

struct SensitivitySignal {
  std::string level = "public";
  std::vector<std::string>
      kinds;  // signals::KindName: "card", "iban", "email", ...; sorted, unique
};

struct DuplicateSignal {
  std::string duplicate_of;       // id of the most similar open case, or empty
  double similarity = 0.0;        // in [0, 1]
  std::int64_t cluster_size = 1;  // open cases in the cluster, this one included
};

struct ComputedSignals {
  std::optional<SensitivitySignal> sensitivity;
  std::optional<DuplicateSignal> duplicate;
};

// Computes signals from a case (the signals module implements this). Must be thread-safe.
class SignalComputer {
 public:
  virtual ~SignalComputer() = default;
  // The signals of `c` against the currently open cases. No side effects (dry runs call it too).
  virtual Result<ComputedSignals> Compute(const sources::Case& c) = 0;
  // The case was routed and is open: later cases may duplicate it.
  virtual void CaseOpened(const sources::Case& /*c*/) {}
  // The case was closed: it leaves the duplicate index.
  virtual void CaseClosed(std::string_view /*case_id*/) {}
};

// Parses {"sensitivity": {"level", "kinds"}, "duplicate": {"duplicate_of", "similarity",
// "cluster_size"}}; null or absent parts stay unset. `where` prefixes error messages.
Result<ComputedSignals> SignalsFromJson(const boost::json::value& json, std::string_view where);
boost::json::value SignalsToJson(const ComputedSignals& s);
// ToJson(SignalsToJson(s)) (the bytes boost::json::serialize writes), without building the tree:
// what the SQLite store keeps.
std::string SignalsToStoreText(const ComputedSignals& s);

// `given` wins over `computed`, part by part.
ComputedSignals MergeSignals(ComputedSignals computed, const ComputedSignals& given);

// The signal vocabulary routing.toml's `from = "..."` may name.
enum class SignalSource : std::uint8_t {
  kSource,                // "source": string
  kChannel,               // "channel": string
  kLanguage,              // "language": the BCP 47 tag, lowercased
  kLanguagePrimary,       // "language.primary": its primary subtag, e.g. "de" for "de-CH"
  kCustomerTier,          // "customer.tier": string
  kSeverity,              // "severity": long, 1 (most severe) .. 4
  kPriority,              // "priority": "low" | "normal" | "high" | "urgent"
  kPriorityRank,          // "priority.rank": long 0 (low) .. 3 (urgent)
  kCategory,              // "category": string
  kAiConfidence,          // "ai.confidence": fraction in [0, 1]; needs `scale`
  kAiModel,               // "ai.model": string
  kAiSuggestedQueue,      // "ai.suggested_queue": string
  kFraud,                 // "indicators.fraud": bool
  kRegulatory,            // "indicators.regulatory": bool
  kSafety,                // "indicators.safety": bool
  kSensitivityLevel,      // "sensitivity.level": string (kSensitivityLevels)
  kSensitivityRank,       // "sensitivity.rank": long 0..3
  kSensitivityKinds,      // "sensitivity.kinds": set of strings
  kDuplicateClusterSize,  // "duplicate.cluster_size": long
  kDuplicateSimilarity,   // "duplicate.similarity": fraction; needs `scale`
  kAttribute,             // "attributes.<name>": the case's free-form attribute (string/long/bool)
};

// The kind of value a signal produces before mapping.
enum class SignalKind : std::uint8_t { kString, kLong, kFraction, kBool, kStringSet, kAny };

struct SignalRef {
  SignalSource source = SignalSource::kSource;
  std::string attribute;  // for kAttribute
};

// Parses a `from` name; nullopt when it is not in the vocabulary.
std::optional<SignalRef> ParseSignalRef(std::string_view name);
std::string SignalRefName(const SignalRef& ref);
SignalKind SignalRefKind(const SignalRef& ref);

}  // namespace arbiter::routing
