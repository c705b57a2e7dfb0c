#include "arbiter/routing/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <initializer_list>
#include <set>

#include "arbiter/cedar/entities.h"

namespace arbiter::routing {
namespace {

class ConfigParser {
 public:
  ConfigParser(std::string_view source, const ConfigLimits& limits)
      : source_(source), limits_(limits) {}

  Result<RoutingConfig> Parse(std::string_view text) {
    if (text.size() > limits_.max_bytes) {
      return Status::ResourceExhausted(std::string(source_) + ": larger than " +
                                       std::to_string(limits_.max_bytes) + " bytes");
    }
    toml::table root;
    try {
      root = toml::parse(text, source_);
    } catch (const toml::parse_error& e) {
      return Status::InvalidArgument(
          std::string(source_) + ":" + std::to_string(e.source().begin.line) + ":" +
          std::to_string(e.source().begin.column) + ": " + Lower(std::string(e.description())));
    }
    RoutingConfig config;
    ARBITER_RETURN_IF_ERROR(OnlyKeys(
        root, "", {"pack", "routing", "grants", "queues", "intents", "agents", "signals"}));
    ARBITER_RETURN_IF_ERROR(ParsePack(root, config));
    ARBITER_RETURN_IF_ERROR(ParseQueues(root, config));
    ARBITER_RETURN_IF_ERROR(ParseRouting(root, config));
    ARBITER_RETURN_IF_ERROR(ParseGrants(root, config));
    ARBITER_RETURN_IF_ERROR(ParseIntents(root, config));
    ARBITER_RETURN_IF_ERROR(ParseAgents(root, config));
    ARBITER_RETURN_IF_ERROR(ParseSignals(root, config));
    return config;
  }

 private:
  static std::string Lower(std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    return s;
  }

  Status Error(const toml::node* node, std::string_view problem) const {
    std::string m(source_);
    if (node != nullptr && node->source().begin.line != 0) {
      m += ":" + std::to_string(node->source().begin.line) + ":" +
           std::to_string(node->source().begin.column);
    }
    m += ": ";
    m += problem;
    return Status::InvalidArgument(std::move(m));
  }

  Status OnlyKeys(const toml::table& t, std::string_view where,
                  std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, node] : t) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        std::string name = where.empty() ? std::string(key.str())
                                         : std::string(where) + "." + std::string(key.str());
        return Error(&node, "unknown key `" + name + "`");
      }
    }
    return Status::Ok();
  }

  Result<const toml::table*> Table(const toml::table& parent, std::string_view key,
                                   std::string_view where, bool required) const {
    const toml::node* n = parent.get(key);
    if (n == nullptr) {
      if (required) return Error(&parent, "missing table `" + std::string(where) + "`");
      return static_cast<const toml::table*>(nullptr);
    }
    if (!n->is_table()) return Error(n, "`" + std::string(where) + "` must be a table");
    return n->as_table();
  }

  // Reads an optional string; `out` keeps its value when absent.
  Status String(const toml::table& t, std::string_view key, std::string_view where,
                std::string& out, bool required = false) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) return Error(&t, "missing `" + std::string(where) + "`");
      return Status::Ok();
    }
    if (!n->is_string()) return Error(n, "`" + std::string(where) + "` must be a string");
    out = n->as_string()->get();
    if (required && out.empty()) return Error(n, "`" + std::string(where) + "` must not be empty");
    return Status::Ok();
  }

  Status Int(const toml::table& t, std::string_view key, std::string_view where, std::int64_t& out,
             std::int64_t min, std::int64_t max) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Status::Ok();
    if (!n->is_integer()) return Error(n, "`" + std::string(where) + "` must be an integer");
    const std::int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      return Error(n, "`" + std::string(where) + "` must be between " + std::to_string(min) +
                          " and " + std::to_string(max));
    }
    out = v;
    return Status::Ok();
  }

  Status ParsePack(const toml::table& root, RoutingConfig& c) const {
    ARBITER_TRY(const toml::table* t, Table(root, "pack", "pack", true));
    ARBITER_RETURN_IF_ERROR(OnlyKeys(*t, "pack", {"name", "version", "description"}));
    ARBITER_RETURN_IF_ERROR(String(*t, "name", "pack.name", c.name, true));
    ARBITER_RETURN_IF_ERROR(String(*t, "version", "pack.version", c.version, true));
    return String(*t, "description", "pack.description", c.description);
  }

  Status ParseQueues(const toml::table& root, RoutingConfig& c) const {
    ARBITER_TRY(const toml::table* t, Table(root, "queues", "queues", true));
    if (t->size() > limits_.max_entries) return Error(t, "too many queues");
    for (auto&& [key, node] : *t) {
      const std::string id(key.str());
      const std::string where = "queues." + id;
      if (!node.is_table()) return Error(&node, "`" + where + "` must be a table");
      const toml::table& q = *node.as_table();
      ARBITER_RETURN_IF_ERROR(OnlyKeys(q, where, {"name", "kind"}));
      QueueConfig queue;
      queue.id = id;
      queue.name = id;
      ARBITER_RETURN_IF_ERROR(String(q, "name", where + ".name", queue.name));
      ARBITER_RETURN_IF_ERROR(String(q, "kind", where + ".kind", queue.kind));
      if (queue.kind != "human" && queue.kind != "incident") {
        return Error(q.get("kind"), "`" + where + ".kind` must be `human` or `incident`, not `" +
                                        queue.kind + "`");
      }
      c.queues.emplace(id, std::move(queue));
    }
    if (c.queues.empty()) return Error(t, "`queues` must declare at least one queue");
    return Status::Ok();
  }

  Status ParseRouting(const toml::table& root, RoutingConfig& c) const {
    ARBITER_TRY(const toml::table* t, Table(root, "routing", "routing", true));
    ARBITER_RETURN_IF_ERROR(OnlyKeys(
        *t, "routing", {"ai_principal", "case_type", "default_human_queue", "error_queue"}));
    std::string principal;
    ARBITER_RETURN_IF_ERROR(String(*t, "ai_principal", "routing.ai_principal", principal, true));
    auto uid = cedar::ParseEntityUid(principal);
    if (!uid) {
      return Error(t->get("ai_principal"), "`routing.ai_principal`: " + uid.error().message());
    }
    c.ai_principal = *uid;
    ARBITER_RETURN_IF_ERROR(String(*t, "case_type", "routing.case_type", c.case_type));
    ARBITER_RETURN_IF_ERROR(String(*t, "default_human_queue", "routing.default_human_queue",
                                   c.default_human_queue, true));
    if (c.FindQueue(c.default_human_queue) == nullptr) {
      return Error(
          t->get("default_human_queue"),
          "`routing.default_human_queue` names unknown queue `" + c.default_human_queue + "`");
    }
    c.error_queue = c.default_human_queue;
    ARBITER_RETURN_IF_ERROR(String(*t, "error_queue", "routing.error_queue", c.error_queue));
    if (c.FindQueue(c.error_queue) == nullptr) {
      return Error(t->get("error_queue"),
                   "`routing.error_queue` names unknown queue `" + c.error_queue + "`");
    }
    return Status::Ok();
  }

  Status ParseGrants(const toml::table& root, RoutingConfig& c) const {
    ARBITER_TRY(const toml::table* t, Table(root, "grants", "grants", false));
    if (t == nullptr) return Status::Ok();
    ARBITER_RETURN_IF_ERROR(OnlyKeys(*t, "grants", {"ttl_seconds", "max_ttl_seconds"}));
    ARBITER_RETURN_IF_ERROR(
        Int(*t, "ttl_seconds", "grants.ttl_seconds", c.grant_ttl_seconds, 1, 7 * 86400));
    ARBITER_RETURN_IF_ERROR(Int(*t, "max_ttl_seconds", "grants.max_ttl_seconds",
                                c.grant_max_ttl_seconds, 1, 30 * 86400));
    if (c.grant_max_ttl_seconds < c.grant_ttl_seconds) {
      return Error(t->get("max_ttl_seconds"),
                   "`grants.max_ttl_seconds` is shorter than `grants.ttl_seconds`");
    }
    return Status::Ok();
  }

  Status ParseIntents(const toml::table& root, RoutingConfig& c) const {
    ARBITER_TRY(const toml::table* t, Table(root, "intents", "intents", false));
    if (t == nullptr) return Status::Ok();
    if (t->size() > limits_.max_entries) return Error(t, "too many intents");
    for (auto&& [key, node] : *t) {
      const std::string name(key.str());
      const std::string where = "intents." + name;
      if (!node.is_table()) return Error(&node, "`" + where + "` must be a table");
      const toml::table& it = *node.as_table();
      ARBITER_RETURN_IF_ERROR(OnlyKeys(it, where, {"action", "params"}));
      IntentConfig intent;
      intent.name = name;
      intent.action = name;
      ARBITER_RETURN_IF_ERROR(String(it, "action", where + ".action", intent.action));
      if (intent.action == "ai_handle" || intent.action == "approve" ||
          intent.action == "override") {
        return Error(it.get("action"), "`" + where + ".action` may not be the reserved action `" +
                                           intent.action + "`");
      }
      ARBITER_TRY(const toml::table* params, Table(it, "params", where + ".params", false));
      if (params != nullptr) {
        for (auto&& [pkey, pnode] : *params) {
          const std::string pname(pkey.str());
          if (pname == "approval") {
            return Error(&pnode, "`" + where + ".params.approval` is reserved for approvals");
          }
          const auto* type = pnode.as_string();
          const std::string tname = type ? type->get() : "";
          ParamType pt;
          if (tname == "long") {
            pt = ParamType::kLong;
          } else if (tname == "string") {
            pt = ParamType::kString;
          } else if (tname == "bool") {
            pt = ParamType::kBool;
          } else {
            return Error(&pnode, "`" + where + ".params." + pname +
                                     "` must be \"long\", \"string\" or \"bool\"");
          }
          intent.params.emplace(pname, pt);
        }
      }
      c.intents.emplace(name, std::move(intent));
    }
    return Status::Ok();
  }

  Status ParseAgents(const toml::table& root, RoutingConfig& c) const {
    ARBITER_TRY(const toml::table* t, Table(root, "agents", "agents", false));
    if (t == nullptr) return Status::Ok();
    ARBITER_RETURN_IF_ERROR(OnlyKeys(*t, "agents", {"types", "owner_attribute"}));
    if (const toml::node* types = t->get("types")) {
      const toml::array* arr = types->as_array();
      if (arr == nullptr) return Error(types, "`agents.types` must be an array of strings");
      for (const toml::node& n : *arr) {
        if (!n.is_string()) return Error(&n, "`agents.types` must be an array of strings");
        c.agent_types.push_back(n.as_string()->get());
      }
    }
    return String(*t, "owner_attribute", "agents.owner_attribute", c.owner_attribute);
  }

  Result<cedar::Value> DefaultValue(const toml::node& n, SignalKind kind, bool scaled,
                                    const std::string& where) const {
    const bool want_long = kind == SignalKind::kLong || (kind == SignalKind::kFraction && scaled);
    if (n.is_string() && (kind == SignalKind::kString || kind == SignalKind::kAny)) {
      return cedar::Value::String(n.as_string()->get());
    }
    if (n.is_integer() && (want_long || kind == SignalKind::kAny)) {
      return cedar::Value::Long(n.as_integer()->get());
    }
    if (n.is_boolean() && (kind == SignalKind::kBool || kind == SignalKind::kAny)) {
      return cedar::Value::Bool(n.as_boolean()->get());
    }
    if (n.is_array() && kind == SignalKind::kStringSet) {
      std::vector<cedar::Value> items;
      for (const toml::node& e : *n.as_array()) {
        if (!e.is_string()) return Error(&e, "`" + where + ".default` must be strings");
        items.push_back(cedar::Value::String(e.as_string()->get()));
      }
      return cedar::Value::Set(std::move(items));
    }
    static constexpr std::string_view kNames[] = {
        "a string",  "an integer",          "an integer",
        "a boolean", "an array of strings", "a string, integer or boolean"};
    return Error(&n, "`" + where + ".default` must be " +
                         std::string(kNames[static_cast<size_t>(kind)]) + " for this signal");
  }

  Status ParseSignals(const toml::table& root, RoutingConfig& c) const {
    ARBITER_TRY(const toml::table* t, Table(root, "signals", "signals", false));
    if (t == nullptr) return Status::Ok();
    if (t->size() > limits_.max_entries) return Error(t, "too many signals");
    for (auto&& [key, node] : *t) {
      const std::string attr(key.str());
      const std::string where = "signals." + attr;
      if (!node.is_table()) return Error(&node, "`" + where + "` must be a table");
      const toml::table& s = *node.as_table();
      ARBITER_RETURN_IF_ERROR(OnlyKeys(s, where, {"from", "scale", "default"}));
      SignalMapping m;
      m.attribute = attr;
      m.line = static_cast<std::uint32_t>(node.source().begin.line);
      std::string from;
      ARBITER_RETURN_IF_ERROR(String(s, "from", where + ".from", from, true));
      auto ref = ParseSignalRef(from);
      if (!ref) return Error(s.get("from"), "`" + where + ".from`: unknown signal `" + from + "`");
      m.from = *ref;
      const SignalKind kind = SignalRefKind(m.from);
      ARBITER_RETURN_IF_ERROR(Int(s, "scale", where + ".scale", m.scale, 1, 1'000'000));
      if (kind == SignalKind::kFraction && m.scale == 0) {
        return Error(&node, "`" + where + "` maps a fraction: it needs `scale` (e.g. 100)");
      }
      if (kind != SignalKind::kFraction && m.scale != 0) {
        return Error(s.get("scale"), "`" + where + ".scale` applies only to fractions");
      }
      const toml::node* def = s.get("default");
      if (def == nullptr) return Error(&node, "`" + where + "` needs a `default`");
      ARBITER_TRY(m.default_value, DefaultValue(*def, kind, m.scale != 0, where));
      c.signals.push_back(std::move(m));
    }
    // toml++ keeps tables sorted by key; keep the file's order instead (it is the order of the
    // decision's signal values).
    std::stable_sort(
        c.signals.begin(), c.signals.end(),
        [](const SignalMapping& a, const SignalMapping& b) { return a.line < b.line; });
    return Status::Ok();
  }

  std::string_view source_;
  const ConfigLimits& limits_;
};

}  // namespace

std::string_view ParamTypeName(ParamType t) {
  switch (t) {
    case ParamType::kLong: return "long";
    case ParamType::kString: return "string";
    case ParamType::kBool: return "bool";
  }
  return "long";
}

const QueueConfig* RoutingConfig::FindQueue(std::string_view id) const {
  auto it = queues.find(std::string(id));
  return it == queues.end() ? nullptr : &it->second;
}

const IntentConfig* RoutingConfig::FindIntent(std::string_view intent) const {
  auto it = intents.find(std::string(intent));
  return it == intents.end() ? nullptr : &it->second;
}

Result<RoutingConfig> ParseRoutingConfig(std::string_view text, std::string_view source_name,
                                         const ConfigLimits& limits) {
  return ConfigParser(source_name, limits).Parse(text);
}

}  // namespace arbiter::routing
