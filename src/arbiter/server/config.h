// The configuration of `arbiter serve`: a TOML file, overridden by command-line flags.
//
//   ARBITER_TRY(ServeConfig config, LoadServeConfig("arbiter.toml"));
//   config.server.listen = "127.0.0.1:0";   // a flag wins over the file
//
// The file (every key optional; unknown keys are errors, so typos do not go unnoticed):
//
//   listen = "127.0.0.1:8080"
//   data = "/var/lib/arbiter"        # relative paths are relative to the config file
//   pack = "/etc/arbiter/pack"
//   threads = 2
//   access_log = "-"                 # "-" (stderr), "off", or a file path
//   ledger_origin = "arbiter.local/ledger"   # the checkpoint origin line and key name
//   trust_domain = "arbiter.local"           # SPIFFE trust domain of agent identities
//   intent_audience = "tools"                # `aud` of intent tokens (the downstream tools)
//   [limits]
//   max_body_bytes = 1048576
//   max_header_bytes = 16384
//   max_json_depth = 64
//   max_connections = 1024
//   header_timeout_ms = 10000
//   body_timeout_ms = 30000
//   idle_timeout_ms = 60000
//   write_timeout_ms = 30000
//   shutdown_grace_ms = 5000
#pragma once

#include <string>
#include <string_view>

#include "arbiter/common/status.h"
#include "arbiter/server/server.h"

namespace arbiter::server {

struct ServeConfig {
  ServerOptions server;
  size_t max_json_depth = 64;
  std::string data_dir = "arbiter-data";
  std::string pack_dir;          // empty: no policy pack
  std::string access_log = "-";  // "-" stderr, "off", or a file path
  // The ledger's origin: the first line of every checkpoint and the name of its signing key.
  // Fixed for the life of a ledger (an existing ledger with another origin fails to open).
  std::string ledger_origin = "arbiter.local/ledger";
  // The SPIFFE trust domain of agent instances: spiffe://<trust_domain>/agent/<workload>/<id>.
  std::string trust_domain = "arbiter.local";
  // The `aud` of intent tokens: the downstream tools that introspect them.
  std::string intent_audience = "tools";
};

// Parses TOML text. `source` names the file in errors ("arbiter.toml:3:1: unknown key `lisen`");
// relative `data`/`pack`/`access_log` paths are resolved against `base_dir` when it is non-empty.
Result<ServeConfig> ParseServeConfig(std::string_view text, std::string_view source,
                                     std::string_view base_dir = {});
// Reads and parses a file; kNotFound when it does not exist.
Result<ServeConfig> LoadServeConfig(const std::string& path);

}  // namespace arbiter::server
