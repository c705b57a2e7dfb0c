#include "arbiter/routing/bundle.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"
#include "arbiter/routing/router.h"

namespace arbiter::routing {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kRoutingFile = "routing.toml";
constexpr std::string_view kSchemaFile = "schema.cedarschema";
constexpr std::string_view kEntitiesFile = "entities.json";
constexpr std::string_view kPoliciesDir = "policies";

Result<std::string> ReadFile(const fs::path& path, std::string_view name, size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Status::NotFound(std::string(name) + ": missing (expected a file)");
  }
  const auto size = fs::file_size(path, ec);
  if (ec) return Status::Unavailable(std::string(name) + ": " + ec.message());
  if (size > max_bytes) {
    return Status::ResourceExhausted(std::string(name) + ": larger than " +
                                     std::to_string(max_bytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Unavailable(std::string(name) + ": cannot be opened");
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (static_cast<size_t>(in.gcount()) != size) {
    return Status::Unavailable(std::string(name) + ": short read");
  }
  return text;
}

std::string Located(std::string_view file, std::uint32_t line, std::string_view problem) {
  return std::string(file) + ":" + std::to_string(line) + ": " + std::string(problem);
}

// 1-based line of byte `offset` in `text`.
std::uint32_t LineAt(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::uint32_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

Result<PolicyInfo> ReadAnnotations(const cedar::Policy& p, const RoutingConfig& config,
                                   std::string_view file, std::uint32_t line) {
  PolicyInfo info;
  info.file = file;
  info.line = line;
  const bool forbid = p.effect() == cedar::Effect::kForbid;
  auto fail = [&](std::string_view problem) {
    return Status::InvalidArgument(
        Located(file, line, "policy `" + p.id() + "`: " + std::string(problem)));
  };
  bool has_priority = false;
  for (const auto& [key, value] : p.annotations()) {
    if (key == "escalate" || key == "priority" || key == "reason" || key == "approval" ||
        key == "block") {
      if (!value || value->empty()) return fail("@" + key + " needs a value");
    }
    if (key == "escalate") {
      if (!forbid) return fail("@escalate belongs on a forbid policy (a permit cannot escalate)");
      if (config.FindQueue(*value) == nullptr) {
        return fail("@escalate names unknown queue `" + *value + "` (declare it in routing.toml)");
      }
      info.escalate = *value;
    } else if (key == "priority") {
      std::int64_t n = 0;
      const char* end = value->data() + value->size();
      auto [ptr, ec] = std::from_chars(value->data(), end, n);
      if (ec != std::errc() || ptr != end || n < 0 || n > 1'000'000) {
        return fail("@priority must be an integer from 0 to 1000000, not `" + *value + "`");
      }
      info.priority = n;
      has_priority = true;
    } else if (key == "reason") {
      info.reason = *value;
    } else if (key == "approval") {
      if (!forbid) return fail("@approval belongs on a forbid policy");
      info.approval = *value;
    } else if (key == "block") {
      if (!forbid) return fail("@block belongs on a forbid policy");
      info.block = *value;
    }
  }
  if (has_priority && !info.escalate) return fail("@priority without @escalate");
  if (info.approval && (info.escalate || info.block)) {
    return fail("@approval cannot be combined with @escalate or @block");
  }
  return info;
}

std::string HashHex(std::string_view text) { return HexEncode(Sha256(text)); }

}  // namespace

Result<PackSources> ReadPackSources(const fs::path& dir, const LoadOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound("pack `" + dir.string() + "`: not a directory");
  }
  PackSources s;
  ARBITER_TRY(s.routing_toml, ReadFile(dir / kRoutingFile, kRoutingFile, options.max_file_bytes));
  ARBITER_TRY(s.schema, ReadFile(dir / kSchemaFile, kSchemaFile, options.max_file_bytes));
  ARBITER_TRY(s.entities_json,
              ReadFile(dir / kEntitiesFile, kEntitiesFile, options.max_file_bytes));
  const fs::path policies = dir / kPoliciesDir;
  if (!fs::is_directory(policies, ec)) {
    return Status::NotFound("policies/: missing (expected a folder of .cedar files)");
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(policies, ec)) {
    if (entry.path().extension() == ".cedar" && entry.is_regular_file()) {
      names.push_back(entry.path().filename().string());
      if (names.size() > options.max_policy_files) {
        return Status::ResourceExhausted("policies/: more than " +
                                         std::to_string(options.max_policy_files) + " files");
      }
    }
  }
  if (ec) return Status::Unavailable("policies/: " + ec.message());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string rel = std::string(kPoliciesDir) + "/" + name;
    ARBITER_TRY(std::string text, ReadFile(policies / name, rel, options.max_file_bytes));
    s.policy_files.emplace_back(rel, std::move(text));
  }
  return s;
}

namespace {

// The texts Bundle::StringValue shares (see there), at most kMaxPackStrings of them.
constexpr size_t kMaxPackStrings = 4096;
constexpr size_t kMaxPackStringBytes = 256;

void AddPackStrings(const cedar::Value& v, std::vector<cedar::Value>& out) {
  if (out.size() >= kMaxPackStrings) return;
  if (v.is(cedar::ValueKind::kString)) {
    if (v.as_string().size() <= kMaxPackStringBytes) out.push_back(v);
  } else if (v.is(cedar::ValueKind::kSet)) {
    for (const cedar::Value& e : v.as_set().elements()) AddPackStrings(e, out);
  } else if (v.is(cedar::ValueKind::kRecord)) {
    for (const auto& [key, field] : v.as_record().fields()) AddPackStrings(field, out);
  }
}

std::unordered_map<std::string_view, cedar::Value> PackStrings(const Bundle& bundle) {
  // Policy literals first: on equal texts the first one is kept, so signal values share the
  // policies' own storage.
  std::vector<cedar::Value> out = cedar::StringLiterals(bundle.policies());
  for (const SignalMapping& m : bundle.config().signals) AddPackStrings(m.default_value, out);
  bundle.entities().ForEach(
      [&](const cedar::EntityData& data) { AddPackStrings(data.attrs, out); });
  for (sources::Priority p : {sources::Priority::kLow, sources::Priority::kNormal,
                              sources::Priority::kHigh, sources::Priority::kUrgent}) {
    AddPackStrings(cedar::Value::String(std::string(sources::PriorityName(p))), out);
  }
  if (out.size() > kMaxPackStrings) out.resize(kMaxPackStrings);
  std::unordered_map<std::string_view, cedar::Value> by_text;
  by_text.reserve(out.size());
  for (const cedar::Value& v : out) by_text.try_emplace(v.as_string(), v);
  return by_text;
}

}  // namespace

Result<std::shared_ptr<const Bundle>> BuildBundle(const PackSources& sources, const fs::path& dir) {
  auto bundle = std::make_shared<Bundle>();
  bundle->dir_ = dir;
  ARBITER_TRY(bundle->config_, ParseRoutingConfig(sources.routing_toml, kRoutingFile));
  ARBITER_TRY(bundle->schema_, cedar::ParseSchema(sources.schema, kSchemaFile));
  const RoutingConfig& config = bundle->config_;
  const cedar::Schema& schema = bundle->schema_;
  for (std::string_view action : {"ai_handle", "approve", "override"}) {
    if (!schema.HasAction(cedar::EntityUid("Action", action))) {
      return Status::InvalidArgument(std::string(kSchemaFile) + ": the router needs action `" +
                                     std::string(action) + "`; the schema does not declare it");
    }
  }
  for (const auto& [name, intent] : config.intents) {
    if (!schema.HasAction(cedar::EntityUid("Action", intent.action))) {
      return Status::InvalidArgument(std::string(kRoutingFile) + ": intent `" + name +
                                     "` uses action `" + intent.action +
                                     "`, which schema.cedarschema does not declare");
    }
  }
  if (!schema.HasEntityType(config.case_type)) {
    return Status::InvalidArgument(std::string(kRoutingFile) + ": `routing.case_type` `" +
                                   config.case_type + "` is not an entity type of the schema");
  }

  // Policies: each file on its own first, so that errors name the file; then all of them as one
  // set (in file-name order) for the authorizer.
  if (sources.policy_files.empty()) {
    return Status::InvalidArgument("policies/: no .cedar files");
  }
  std::string combined;
  std::vector<std::pair<size_t, size_t>> file_offsets;  // (offset in combined, file index)
  std::map<std::string, std::string> first_seen;        // policy id -> "file:line"
  for (size_t f = 0; f < sources.policy_files.size(); ++f) {
    const auto& [name, text] = sources.policy_files[f];
    ARBITER_TRY(cedar::PolicySet set, cedar::ParsePolicySet(text, name));
    for (const cedar::Policy& p : set.policies()) {
      const std::uint32_t line = p.span().line != 0 ? p.span().line : LineAt(text, p.span().begin);
      if (!p.annotation("id")) {
        return Status::InvalidArgument(Located(
            name, line, "policy has no @id(\"...\"): pack policies need stable ids for evidence"));
      }
      const std::string here = name + ":" + std::to_string(line);
      auto [it, inserted] = first_seen.emplace(p.id(), here);
      if (!inserted) {
        return Status::InvalidArgument(Located(
            name, line, "duplicate policy id `" + p.id() + "` (first at " + it->second + ")"));
      }
    }
    file_offsets.emplace_back(combined.size(), f);
    combined += text;
    combined += "\n";
  }
  ARBITER_TRY(bundle->policies_, cedar::ParsePolicySet(combined, "policies"));
  for (const cedar::Policy& p : bundle->policies_.policies()) {
    auto it = std::upper_bound(file_offsets.begin(), file_offsets.end(),
                               std::make_pair(static_cast<size_t>(p.span().begin), SIZE_MAX));
    const auto& [offset, f] = *std::prev(it);
    const std::string& name = sources.policy_files[f].first;
    const std::uint32_t line = LineAt(sources.policy_files[f].second, p.span().begin - offset);
    ARBITER_TRY(PolicyInfo info, ReadAnnotations(p, config, name, line));
    bundle->infos_.push_back(std::move(info));
  }

  auto entities = cedar::ParseEntitiesJson(sources.entities_json, &schema);
  if (!entities) {
    return Status(entities.error().code(),
                  std::string(kEntitiesFile) + ": " + entities.error().message());
  }
  bundle->entities_ = std::move(entities).value();
  const cedar::Entities& ents = bundle->entities_;
  if (ents.Find(config.ai_principal) == nullptr) {
    return Status::InvalidArgument(std::string(kRoutingFile) + ": `routing.ai_principal` " +
                                   config.ai_principal.ToString() + " is not in entities.json");
  }
  // Every agent workload names an owner that exists.
  std::vector<std::string> problems;
  ents.ForEach([&](const cedar::EntityData& data) {
    const cedar::EntityUid& uid = data.uid;
    if (std::find(config.agent_types.begin(), config.agent_types.end(), uid.type()) ==
        config.agent_types.end()) {
      return;
    }
    const cedar::Value* owner = data.attrs.is(cedar::ValueKind::kRecord)
                                    ? data.attrs.as_record().Find(config.owner_attribute)
                                    : nullptr;
    if (owner == nullptr || !owner->is(cedar::ValueKind::kEntity)) {
      problems.push_back("agent workload " + uid.ToString() + " has no `" + config.owner_attribute +
                         "` (every agent needs an owner)");
    } else if (ents.Find(owner->as_entity()) == nullptr) {
      problems.push_back("agent workload " + uid.ToString() + ": owner " +
                         owner->as_entity().ToString() + " is not in entities.json");
    }
  });
  if (!problems.empty()) {
    std::sort(problems.begin(), problems.end());
    return Status::InvalidArgument(std::string(kEntitiesFile) + ": " + problems.front());
  }

  // Content hash: over each file's path and SHA-256, in path order.
  std::vector<std::pair<std::string, std::string>> files = {
      {std::string(kRoutingFile), HashHex(sources.routing_toml)},
      {std::string(kSchemaFile), HashHex(sources.schema)},
      {std::string(kEntitiesFile), HashHex(sources.entities_json)}};
  for (const auto& [name, text] : sources.policy_files) files.emplace_back(name, HashHex(text));
  std::sort(files.begin(), files.end());
  std::string manifest = "arbiter-pack-v1\n";
  for (const auto& [name, hash] : files) manifest += hash + "  " + name + "\n";
  bundle->hash_ = HashHex(manifest);
  bundle->file_hashes_ = std::move(files);

  bundle->canonical_ref_ = CanonicalJson(boost::json::object{
      {"hash", bundle->hash_}, {"name", config.name}, {"version", config.version}});
  for (size_t i = 0; i < bundle->infos_.size(); ++i) {
    const cedar::Policy& p = bundle->policies_.policies()[i];
    PolicyReason reason{p.id(), p.effect() == cedar::Effect::kForbid, p.annotations(), {}, 0};
    bundle->infos_[i].canonical_reason = CanonicalJson(ReasonsToJson({reason}).at(0));
  }
  bundle->ai_principal_text_ = config.ai_principal.ToString();
  bundle->ai_principal_json_ = CanonicalJson(boost::json::value(bundle->ai_principal_text_));
  for (const SignalMapping& m : config.signals) {
    bundle->signal_json_keys_.push_back(CanonicalJson(boost::json::value(m.attribute)) + ":");
  }
  bundle->signal_order_.resize(config.signals.size());
  for (size_t i = 0; i < config.signals.size(); ++i) bundle->signal_order_[i] = i;
  std::sort(bundle->signal_order_.begin(), bundle->signal_order_.end(),
            [&config](size_t a, size_t b) {
              return config.signals[a].attribute < config.signals[b].attribute;
            });

  bundle->string_values_ = PackStrings(*bundle);

  ARBITER_RETURN_IF_ERROR(internal::ProbeBundle(*bundle));
  return std::shared_ptr<const Bundle>(std::move(bundle));
}

cedar::Value Bundle::StringValue(std::string_view text) const {
  auto it = string_values_.find(text);
  if (it != string_values_.end()) return it->second;
  return cedar::Value::String(std::string(text));
}

Result<std::shared_ptr<const Bundle>> LoadBundle(const fs::path& dir, const LoadOptions& options) {
  ARBITER_TRY(PackSources sources, ReadPackSources(dir, options));
  return BuildBundle(sources, dir);
}

std::shared_ptr<const Bundle> PackStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Result<PackStore::Loaded> PackStore::Load(const fs::path& dir, const Actor& actor,
                                          const LoadOptions& options) {
  ARBITER_TRY(std::shared_ptr<const Bundle> bundle, LoadBundle(dir, options));
  return Install(std::move(bundle), actor);
}

Result<PackStore::Loaded> PackStore::Install(std::shared_ptr<const Bundle> bundle,
                                             const Actor& actor) {
  if (bundle == nullptr) return Status::InvalidArgument("pack store: no bundle to install");
  std::lock_guard<std::mutex> load_lock(load_mu_);
  std::shared_ptr<const Bundle> previous = Current();
  boost::json::object record = NewEvidenceRecord("pack_load", actor, clock_.NowMicros());
  record["bundle"] = {{"hash", bundle->hash()},
                      {"name", bundle->config().name},
                      {"version", bundle->config().version}};
  record["previous"] =
      previous ? boost::json::value(previous->hash()) : boost::json::value(nullptr);
  boost::json::array files;
  for (const auto& [name, hash] : bundle->file_hashes()) {
    files.push_back(boost::json::object{{"path", name}, {"sha256", hash}});
  }
  record["files"] = std::move(files);
  record["policies"] = bundle->policies().size();
  ARBITER_TRY(std::optional<std::uint64_t> index, AppendEvidence(sink_, record));
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = bundle;
  }
  return Loaded{std::move(bundle), index};
}

}  // namespace arbiter::routing
