#include "arbiter/routing/signals.h"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <utility>

#include "arbiter/common/json.h"

namespace arbiter::routing {
namespace {

struct SignalName {
  std::string_view name;
  SignalSource source;
  SignalKind kind;
};

constexpr std::array<SignalName, 20> kSignalNames = {{
    {"source", SignalSource::kSource, SignalKind::kString},
    {"channel", SignalSource::kChannel, SignalKind::kString},
    {"language", SignalSource::kLanguage, SignalKind::kString},
    {"language.primary", SignalSource::kLanguagePrimary, SignalKind::kString},
    {"customer.tier", SignalSource::kCustomerTier, SignalKind::kString},
    {"severity", SignalSource::kSeverity, SignalKind::kLong},
    {"priority", SignalSource::kPriority, SignalKind::kString},
    {"priority.rank", SignalSource::kPriorityRank, SignalKind::kLong},
    {"category", SignalSource::kCategory, SignalKind::kString},
    {"ai.confidence", SignalSource::kAiConfidence, SignalKind::kFraction},
    {"ai.model", SignalSource::kAiModel, SignalKind::kString},
    {"ai.suggested_queue", SignalSource::kAiSuggestedQueue, SignalKind::kString},
    {"indicators.fraud", SignalSource::kFraud, SignalKind::kBool},
    {"indicators.regulatory", SignalSource::kRegulatory, SignalKind::kBool},
    {"indicators.safety", SignalSource::kSafety, SignalKind::kBool},
    {"sensitivity.level", SignalSource::kSensitivityLevel, SignalKind::kString},
    {"sensitivity.rank", SignalSource::kSensitivityRank, SignalKind::kLong},
    {"sensitivity.kinds", SignalSource::kSensitivityKinds, SignalKind::kStringSet},
    {"duplicate.cluster_size", SignalSource::kDuplicateClusterSize, SignalKind::kLong},
    {"duplicate.similarity", SignalSource::kDuplicateSimilarity, SignalKind::kFraction},
}};

constexpr std::string_view kAttributePrefix = "attributes.";
constexpr size_t kMaxKinds = 64;

Status Invalid(std::string_view where, std::string_view problem) {
  return Status::InvalidArgument(std::string(where) + ": " + std::string(problem));
}

}  // namespace

std::optional<std::int64_t> SensitivityRank(std::string_view level) {
  for (size_t i = 0; i < std::size(kSensitivityLevels); ++i) {
    if (kSensitivityLevels[i] == level) return static_cast<std::int64_t>(i);
  }
  return std::nullopt;
}

Result<ComputedSignals> SignalsFromJson(const boost::json::value& json, std::string_view where) {
  ComputedSignals out;
  if (json.is_null()) return out;
  ARBITER_TRY(const boost::json::object* root, AsObject(json, where));
  for (const auto& kv : *root) {
    if (kv.key() != "sensitivity" && kv.key() != "duplicate") {
      return Invalid(std::string(where) + "." + std::string(kv.key()),
                     "unknown signal (expected `sensitivity` or `duplicate`)");
    }
  }
  if (const auto* v = root->if_contains("sensitivity"); v != nullptr && !v->is_null()) {
    const std::string w = std::string(where) + ".sensitivity";
    ARBITER_TRY(const boost::json::object* s, AsObject(*v, w));
    SensitivitySignal sig;
    ARBITER_TRY(auto level, GetOptionalString(*s, "level", w));
    if (level) {
      if (!SensitivityRank(*level)) {
        return Invalid(w + ".level",
                       "`" + std::string(*level) +
                           "` is not one of public, internal, confidential, restricted");
      }
      sig.level.assign(*level);
    }
    if (const auto* kinds = s->if_contains("kinds"); kinds != nullptr && !kinds->is_null()) {
      if (!kinds->is_array()) return Invalid(w + ".kinds", "expected an array of strings");
      if (kinds->get_array().size() > kMaxKinds) return Invalid(w + ".kinds", "too many kinds");
      for (const auto& k : kinds->get_array()) {
        if (!k.is_string()) return Invalid(w + ".kinds", "expected an array of strings");
        sig.kinds.emplace_back(k.get_string());
      }
      std::sort(sig.kinds.begin(), sig.kinds.end());
      sig.kinds.erase(std::unique(sig.kinds.begin(), sig.kinds.end()), sig.kinds.end());
    }
    out.sensitivity = std::move(sig);
  }
  if (const auto* v = root->if_contains("duplicate"); v != nullptr && !v->is_null()) {
    const std::string w = std::string(where) + ".duplicate";
    ARBITER_TRY(const boost::json::object* d, AsObject(*v, w));
    DuplicateSignal sig;
    ARBITER_TRY(auto of, GetOptionalString(*d, "duplicate_of", w));
    if (of) sig.duplicate_of.assign(*of);
    if (const auto* sim = d->if_contains("similarity"); sim != nullptr && !sim->is_null()) {
      if (!sim->is_number()) return Invalid(w + ".similarity", "expected a number");
      sig.similarity = sim->to_number<double>();
      if (!(sig.similarity >= 0.0 && sig.similarity <= 1.0)) {
        return Invalid(w + ".similarity", "must be between 0 and 1");
      }
    }
    if (const auto* n = d->if_contains("cluster_size"); n != nullptr && !n->is_null()) {
      if (!n->is_int64() || n->get_int64() < 1) {
        return Invalid(w + ".cluster_size", "expected a positive integer");
      }
      sig.cluster_size = n->get_int64();
    }
    out.duplicate = std::move(sig);
  }
  return out;
}

boost::json::value SignalsToJson(const ComputedSignals& s) {
  boost::json::object o;
  if (s.sensitivity) {
    boost::json::array kinds;
    for (const auto& k : s.sensitivity->kinds) kinds.emplace_back(k);
    o["sensitivity"] = {{"level", s.sensitivity->level}, {"kinds", std::move(kinds)}};
  }
  if (s.duplicate) {
    boost::json::object d;
    if (!s.duplicate->duplicate_of.empty()) d["duplicate_of"] = s.duplicate->duplicate_of;
    d["similarity"] = s.duplicate->similarity;
    d["cluster_size"] = s.duplicate->cluster_size;
    o["duplicate"] = std::move(d);
  }
  return o;
}

namespace {

// Appends a number as boost::json::serialize writes it (its shortest round-trip form for a
// double, e.g. 8.9E-1), through a serializer on the stack instead of a string.
void AppendNumber(const boost::json::value& v, std::string& out) {
  boost::json::serializer sr;
  sr.reset(&v);
  char buf[64];
  while (!sr.done()) out.append(sr.read(buf, sizeof(buf)));
}

}  // namespace

std::string SignalsToStoreText(const ComputedSignals& s) {
  std::string out;
  out.reserve(160);
  out += '{';
  if (s.sensitivity) {
    out += R"("sensitivity":{"level":)";
    AppendJsonString(s.sensitivity->level, out);
    out += R"(,"kinds":[)";
    for (size_t i = 0; i < s.sensitivity->kinds.size(); ++i) {
      if (i != 0) out += ',';
      AppendJsonString(s.sensitivity->kinds[i], out);
    }
    out += "]}";
  }
  if (s.duplicate) {
    if (s.sensitivity) out += ',';
    out += R"("duplicate":{)";
    if (!s.duplicate->duplicate_of.empty()) {
      out += R"("duplicate_of":)";
      AppendJsonString(s.duplicate->duplicate_of, out);
      out += ',';
    }
    out += R"("similarity":)";
    AppendNumber(boost::json::value(s.duplicate->similarity), out);
    out += R"(,"cluster_size":)";
    AppendNumber(boost::json::value(s.duplicate->cluster_size), out);
    out += '}';
  }
  out += '}';
  return out;
}

ComputedSignals MergeSignals(ComputedSignals computed, const ComputedSignals& given) {
  if (given.sensitivity) computed.sensitivity = given.sensitivity;
  if (given.duplicate) computed.duplicate = given.duplicate;
  return computed;
}

std::optional<SignalRef> ParseSignalRef(std::string_view name) {
  for (const auto& s : kSignalNames) {
    if (s.name == name) return SignalRef{s.source, {}};
  }
  if (name.starts_with(kAttributePrefix) && name.size() > kAttributePrefix.size()) {
    return SignalRef{SignalSource::kAttribute, std::string(name.substr(kAttributePrefix.size()))};
  }
  return std::nullopt;
}

std::string SignalRefName(const SignalRef& ref) {
  if (ref.source == SignalSource::kAttribute) return std::string(kAttributePrefix) + ref.attribute;
  for (const auto& s : kSignalNames) {
    if (s.source == ref.source) return std::string(s.name);
  }
  return "";
}

SignalKind SignalRefKind(const SignalRef& ref) {
  if (ref.source == SignalSource::kAttribute) return SignalKind::kAny;
  for (const auto& s : kSignalNames) {
    if (s.source == ref.source) return s.kind;
  }
  return SignalKind::kAny;
}

}  // namespace arbiter::routing
