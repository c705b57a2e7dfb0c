#include "arbiter/server/config.h"

#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace arbiter::server {
namespace {

std::string Where(std::string_view source, const toml::source_region& region) {
  return std::string(source) + ":" + std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column);
}

std::string Resolve(std::string_view base_dir, std::string value) {
  if (base_dir.empty() || value.empty() || value == "-" || value == "off") return value;
  std::filesystem::path p(value);
  if (p.is_absolute()) return value;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  Status String(const toml::node& node, std::string_view key, std::string& out) {
    auto v = node.value<std::string>();
    if (!v || !node.is_string()) return Error(node, key, "expected a string");
    out = *v;
    return Status::Ok();
  }

  Status Integer(const toml::node& node, std::string_view key, std::int64_t min, std::int64_t max,
                 std::int64_t& out) {
    if (!node.is_integer()) return Error(node, key, "expected an integer");
    std::int64_t v = *node.value<std::int64_t>();
    if (v < min || v > max) {
      return Error(node, key,
                   "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    out = v;
    return Status::Ok();
  }

  Status Boolean(const toml::node& node, std::string_view key, bool& out) {
    if (!node.is_boolean()) return Error(node, key, "expected true or false");
    out = *node.value<bool>();
    return Status::Ok();
  }

  Status Error(const toml::node& node, std::string_view key, std::string_view what) const {
    return Status::InvalidArgument(Where(source_, node.source()) + ": `" + std::string(key) + "` " +
                                   std::string(what));
  }

 private:
  std::string_view source_;
};

}  // namespace

std::string_view EvidenceAckName(EvidenceAck ack) {
  switch (ack) {
    case EvidenceAck::kFsync: return "fsync";
    case EvidenceAck::kWritten: return "written";
  }
  return "unknown";
}

Result<EvidenceAck> ParseEvidenceAck(std::string_view text) {
  if (text == "fsync") return EvidenceAck::kFsync;
  if (text == "written") return EvidenceAck::kWritten;
  return Status::InvalidArgument("evidence ack `" + std::string(text) +
                                 "` is not one of `fsync`, `written`");
}

Result<ServeConfig> ParseServeConfig(std::string_view text, std::string_view source,
                                     std::string_view base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(Where(source, e.source()) + ": " + std::string(e.description()));
  }
  ServeConfig config;
  Reader r(source);
  constexpr std::int64_t kMaxMs = 24LL * 3600 * 1000;
  for (const auto& [key, node] : root) {
    std::string_view k = key.str();
    if (k == "listen") {
      ARBITER_RETURN_IF_ERROR(r.String(node, k, config.server.listen));
    } else if (k == "data") {
      ARBITER_RETURN_IF_ERROR(r.String(node, k, config.data_dir));
      config.data_dir = Resolve(base_dir, config.data_dir);
    } else if (k == "pack") {
      ARBITER_RETURN_IF_ERROR(r.String(node, k, config.pack_dir));
      config.pack_dir = Resolve(base_dir, config.pack_dir);
    } else if (k == "access_log") {
      ARBITER_RETURN_IF_ERROR(r.String(node, k, config.access_log));
      config.access_log = Resolve(base_dir, config.access_log);
    } else if (k == "ledger_origin") {
      ARBITER_RETURN_IF_ERROR(r.String(node, k, config.ledger_origin));
      if (config.ledger_origin.empty()) return r.Error(node, k, "must not be empty");
    } else if (k == "trust_domain") {
      ARBITER_RETURN_IF_ERROR(r.String(node, k, config.trust_domain));
    } else if (k == "intent_audience") {
      ARBITER_RETURN_IF_ERROR(r.String(node, k, config.intent_audience));
      if (config.intent_audience.empty() || config.intent_audience.size() > 256) {
        return r.Error(node, k, "must be 1-256 characters");
      }
    } else if (k == "evidence_ack") {
      std::string v;
      ARBITER_RETURN_IF_ERROR(r.String(node, k, v));
      auto ack = ParseEvidenceAck(v);
      if (!ack) return r.Error(node, k, "must be `fsync` or `written`, not `" + v + "`");
      config.evidence_ack = *ack;
    } else if (k == "evidence_sync_interval_ms") {
      std::int64_t v = 0;
      ARBITER_RETURN_IF_ERROR(r.Integer(node, k, 1, 10'000, v));
      config.evidence_sync_interval = std::chrono::milliseconds(v);
    } else if (k == "single_use") {
      std::string v;
      ARBITER_RETURN_IF_ERROR(r.String(node, k, v));
      auto backend = grants::ParseSingleUseBackend(v);
      if (!backend) return r.Error(node, k, "must be `mmap` or `store`, not `" + v + "`");
      config.single_use.backend = *backend;
    } else if (k == "single_use_slots") {
      std::int64_t v = 0;
      ARBITER_RETURN_IF_ERROR(r.Integer(node, k,
                                        static_cast<std::int64_t>(grants::kMinSingleUseSlots),
                                        static_cast<std::int64_t>(grants::kMaxSingleUseSlots), v));
      config.single_use.slots = static_cast<std::uint64_t>(v);
    } else if (k == "single_use_sync") {
      ARBITER_RETURN_IF_ERROR(r.Boolean(node, k, config.single_use.sync_each_use));
    } else if (k == "intent_records") {
      std::string v;
      ARBITER_RETURN_IF_ERROR(r.String(node, k, v));
      if (v != "deferred" && v != "sync") {
        return r.Error(node, k, "must be `deferred` or `sync`, not `" + v + "`");
      }
      config.defer_intent_records = v == "deferred";
    } else if (k == "auth_cache_ttl_ms") {
      std::int64_t v = 0;
      ARBITER_RETURN_IF_ERROR(r.Integer(node, k, 0, 3'600'000, v));
      config.auth_cache_ttl = std::chrono::milliseconds(v);
    } else if (k == "threads") {
      std::int64_t v = 0;
      ARBITER_RETURN_IF_ERROR(r.Integer(node, k, 0, 256, v));
      config.server.threads = static_cast<int>(v);
    } else if (k == "limits") {
      const toml::table* limits = node.as_table();
      if (limits == nullptr) return r.Error(node, k, "expected a table");
      ServerLimits& l = config.server.limits;
      for (const auto& [lkey, lnode] : *limits) {
        std::string_view lk = lkey.str();
        std::int64_t v = 0;
        // clang 14 cannot capture a structured binding in a lambda: capture a plain reference.
        const toml::node& limit_node = lnode;
        auto ms = [&](std::chrono::milliseconds& out) -> Status {
          ARBITER_RETURN_IF_ERROR(r.Integer(limit_node, lk, 1, kMaxMs, v));
          out = std::chrono::milliseconds(v);
          return Status::Ok();
        };
        if (lk == "max_body_bytes") {
          ARBITER_RETURN_IF_ERROR(r.Integer(lnode, lk, 1, 1LL << 30, v));
          l.max_body_bytes = static_cast<size_t>(v);
        } else if (lk == "max_header_bytes") {
          ARBITER_RETURN_IF_ERROR(r.Integer(lnode, lk, 256, 1LL << 20, v));
          l.max_header_bytes = static_cast<size_t>(v);
        } else if (lk == "max_json_depth") {
          ARBITER_RETURN_IF_ERROR(r.Integer(lnode, lk, 1, 1024, v));
          config.max_json_depth = static_cast<size_t>(v);
        } else if (lk == "max_connections") {
          ARBITER_RETURN_IF_ERROR(r.Integer(lnode, lk, 1, 1'000'000, v));
          l.max_connections = static_cast<size_t>(v);
        } else if (lk == "header_timeout_ms") {
          ARBITER_RETURN_IF_ERROR(ms(l.header_timeout));
        } else if (lk == "body_timeout_ms") {
          ARBITER_RETURN_IF_ERROR(ms(l.body_timeout));
        } else if (lk == "idle_timeout_ms") {
          ARBITER_RETURN_IF_ERROR(ms(l.idle_timeout));
        } else if (lk == "write_timeout_ms") {
          ARBITER_RETURN_IF_ERROR(ms(l.write_timeout));
        } else if (lk == "shutdown_grace_ms") {
          ARBITER_RETURN_IF_ERROR(ms(config.server.shutdown_grace));
        } else {
          return Status::InvalidArgument(Where(source, lkey.source()) + ": unknown key `limits." +
                                         std::string(lk) + "`");
        }
      }
    } else {
      return Status::InvalidArgument(Where(source, key.source()) + ": unknown key `" +
                                     std::string(k) + "`");
    }
  }
  ARBITER_RETURN_IF_ERROR(ParseListenAddress(config.server.listen));
  return config;
}

Result<ServeConfig> LoadServeConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("config: cannot read `" + path + "`");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) {
    return Status::ResourceExhausted("config: `" + path + "` is larger than 1 MiB");
  }
  std::string base = std::filesystem::path(path).parent_path().string();
  if (base.empty()) base = ".";
  return ParseServeConfig(text.str(), path, base);
}

}  // namespace arbiter::server
