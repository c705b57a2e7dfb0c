// routing.toml: a policy pack's routing configuration (queues, the default human queue, the
// fail-safe queue, grant TTLs, agent intents, agent owner checks, and how signals map into Cedar
// attributes of the case). The format is documented in docs/POLICY_PACKS.md.
//
//   ARBITER_TRY(RoutingConfig config, ParseRoutingConfig(text, "routing.toml"));
//   const QueueConfig* q = config.FindQueue("fraud");
//
// Errors are one line: "routing.toml:<line>:<column>: <problem>".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/cedar/value.h"
#include "arbiter/common/status.h"
#include "arbiter/routing/signals.h"

namespace arbiter::routing {

struct QueueConfig {
  std::string id;
  std::string name;
  std::string kind = "human";  // "human" or "incident"
};

enum class ParamType : std::uint8_t { kLong, kString, kBool };
std::string_view ParamTypeName(ParamType t);

struct IntentConfig {
  std::string name;    // what agents ask for, e.g. "refund"
  std::string action;  // the Cedar action id, e.g. "refund" for Action::"refund"
  // Declared parameters (all required); other parameters are refused.
  std::map<std::string, ParamType> params;
};

// One Case attribute computed from a signal.
struct SignalMapping {
  std::string attribute;  // Cedar attribute name on the case entity
  SignalRef from;
  std::int64_t scale = 0;      // fractions are multiplied by this and rounded (required for them)
  cedar::Value default_value;  // used when the signal has no value; its kind is the attribute's
  std::uint32_t line = 0;      // in routing.toml
};

struct RoutingConfig {
  std::string name;
  std::string version;
  std::string description;

  cedar::EntityUid ai_principal;  // principal of ai_handle when no agent is named
  std::string case_type = "Case";
  std::string default_human_queue;
  std::string error_queue;  // the fail-safe queue; defaults to default_human_queue

  std::int64_t grant_ttl_seconds = 900;
  std::int64_t grant_max_ttl_seconds = 3600;

  std::map<std::string, QueueConfig> queues;
  std::map<std::string, IntentConfig> intents;
  std::vector<std::string> agent_types;
  std::string owner_attribute = "owner";
  std::vector<SignalMapping> signals;

  const QueueConfig* FindQueue(std::string_view id) const;
  const IntentConfig* FindIntent(std::string_view name) const;
};

struct ConfigLimits {
  size_t max_bytes = 1u << 20;
  size_t max_entries = 1000;  // queues, intents, signals each
};

Result<RoutingConfig> ParseRoutingConfig(std::string_view text, std::string_view source_name,
                                         const ConfigLimits& limits = {});

}  // namespace arbiter::routing
