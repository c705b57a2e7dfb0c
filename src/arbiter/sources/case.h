// The Case: Arbiter's native, source-independent description of one support case, and its JSON form
// (documented field by field in docs/CASE.md). Source adapters produce it; signals and the router
// read it.
//
//   ARBITER_TRY(auto json, ParseJson(text));
//   ARBITER_TRY(Case c, CaseFromJson(json));   // errors name the field: "case.customer.tier: ..."
//   std::string out = ToJson(CaseToJson(c));
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::sources {

enum class Priority : std::uint8_t { kLow, kNormal, kHigh, kUrgent };
std::string_view PriorityName(Priority p);
std::optional<Priority> ParsePriority(std::string_view name);

// Incident severity: 1 is the most severe (an outage), 4 the least. Absent when the source gives
// none.
inline constexpr std::int64_t kMostSevere = 1;
inline constexpr std::int64_t kLeastSevere = 4;

struct Message {
  std::string author;  // "customer", "agent", "ai", "system", or a source-specific role
  std::string text;
  std::string at;  // RFC 3339 timestamp, or empty
};

struct Customer {
  std::string id;
  std::string tier;  // organisation-defined, e.g. "free", "standard", "premium", "enterprise"
};

struct AiClassification {
  std::optional<double> confidence;  // in [0, 1]
  std::string model;
  std::string suggested_queue;
};

struct Indicators {
  bool fraud = false;
  bool regulatory = false;
  bool safety = false;
};

struct Case {
  std::string id;      // required; unique within the source
  std::string source;  // "native", "zendesk", "jira", "servicenow", "freshdesk", "email"
  std::string subject;
  std::string body;
  std::vector<Message> messages;
  std::string language;  // BCP 47 tag, e.g. "en", "de-CH"; empty when unknown
  std::string channel;   // "email", "chat", "phone", "web", "api", ...
  Customer customer;
  std::optional<std::int64_t> severity;  // kMostSevere..kLeastSevere
  Priority priority = Priority::kNormal;
  std::string category;  // the case's intent or category
  AiClassification ai;
  Indicators indicators;
  std::string created_at;  // RFC 3339, or empty
  // Everything else the source said, kept for policies and people (free-form JSON).
  boost::json::object attributes;

  // All customer-visible text (subject, body, messages) joined by newlines: what the scanners read.
  std::string AllText() const;
};

// Limits on a Case that comes from outside.
struct CaseLimits {
  size_t max_id_bytes = 256;
  size_t max_text_bytes = 1u << 20;  // subject, body and each message
  size_t max_messages = 1000;
};

// Parses and validates the native JSON form. Unknown top-level fields are refused (a typo in a
// signal must not silently drop it); free-form data belongs under "attributes".
Result<Case> CaseFromJson(const boost::json::value& json, const CaseLimits& limits = {});
boost::json::value CaseToJson(const Case& c);
// The same document as compact text, written directly without building a tree: always the bytes
// of ToJson(CaseToJson(c)) (the durable case row stores them), at a fraction of the cost.
std::string CaseToJsonText(const Case& c);

}  // namespace arbiter::sources
