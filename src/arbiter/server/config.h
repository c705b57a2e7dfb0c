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
//   evidence_ack = "fsync"                   # or "written" (see EvidenceAck)
//   evidence_sync_interval_ms = 20           # "written": fsync at most this long after a write
//   auth_cache_ttl_ms = 5000                 # API tokens answered from memory this long
//   single_use = "mmap"                      # or "store": where intent-token uses are recorded
//   single_use_slots = 1048576               # "mmap": slots in <data>/intents.used
//   single_use_sync = false                  # "mmap": msync each use (survives power loss)
//   intent_records = "deferred"              # or "sync": when mint commits the intent row
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

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"
#include "arbiter/grants/single_use_registry.h"
#include "arbiter/server/server.h"

namespace arbiter::server {

// When a write's response may leave, relative to its evidence reaching the disk.
enum class EvidenceAck : std::uint8_t {
  // After the evidence is fsynced in the ledger: survives a power loss. The default.
  kFsync,
  // After the evidence is committed to the ledger's write-ahead log without an fsync: survives a
  // crash (kill -9) of the server, not a power loss or kernel crash, which may lose the writes of
  // the last `evidence_sync_interval`. The ledger fsyncs within that interval (with its next
  // checkpoint); checkpoints, receipts and `?wait=integrated` cover only fsynced evidence.
  kWritten,
};

std::string_view EvidenceAckName(EvidenceAck ack);
// "fsync" or "written"; kInvalidArgument naming the value otherwise.
Result<EvidenceAck> ParseEvidenceAck(std::string_view text);

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
  EvidenceAck evidence_ack = EvidenceAck::kFsync;
  // The longest an acknowledged write waits for its fsync under EvidenceAck::kWritten (the
  // ledger's integration interval).
  std::chrono::milliseconds evidence_sync_interval{20};
  // How long a person's API token is answered from memory after the store confirmed it; 0 reads
  // the store on every request. Revocations through this server apply at once regardless.
  std::chrono::milliseconds auth_cache_ttl{5000};
  // Where introspection records intent-token uses (grants/single_use_registry.h). The default is
  // the mapped file <data>/intents.used: this server is one host on an embedded store, and every
  // grant change goes through it. `store` (one database commit per use) is for deployments where
  // several hosts share one database. docs/IDENTITY.md compares the two.
  grants::SingleUseConfig single_use{.backend = grants::SingleUseBackend::kMappedFile};
  // With the mapped file: whether mint leaves the grant store's intent row to a batching writer
  // (true, `intent_records = "deferred"`) or commits it before answering (`"sync"`). Either way
  // the token is recorded as issued in the mapped file before it is returned, and introspection
  // checks the same things (grants::IntentTokenOptions::defer_records, docs/IDENTITY.md).
  bool defer_intent_records = true;
};

// Parses TOML text. `source` names the file in errors ("arbiter.toml:3:1: unknown key `lisen`");
// relative `data`/`pack`/`access_log` paths are resolved against `base_dir` when it is non-empty.
Result<ServeConfig> ParseServeConfig(std::string_view text, std::string_view source,
                                     std::string_view base_dir = {});
// Reads and parses a file; kNotFound when it does not exist.
Result<ServeConfig> LoadServeConfig(const std::string& path);

}  // namespace arbiter::server
