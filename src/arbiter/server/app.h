// The assembled Arbiter service: what `arbiter serve` runs and what end-to-end tests start.
// Owns the data directory, the bootstrap admin credential, the metrics registry, the logger, the
// routing table with every wired module's endpoints, the dispatcher and the HTTP server, and the
// wired modules themselves:
//   <data>/admin.token   the bootstrap admin credential (user `admin`, role `admin`)
//   <data>/arbiter.db    people, agent workloads and instances, token signing keys
//   <data>/ledger/       the evidence ledger (ledger.db, ledger-tree.db, ledger.key)
//
//   ARBITER_TRY(auto app, App::Start(config));
//   std::cout << app->address();        // "127.0.0.1:8080"
//   ...                                  // on SIGTERM:
//   app->Shutdown();                     // /readyz turns 503, in-flight requests finish
//
// The bootstrap admin credential is the first API token of user `admin` (role `admin`), written
// to `<data>/admin.token` (mode 0600) on first start and never printed. Deleting the file and
// restarting issues a new one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/server/config.h"
#include "arbiter/server/router.h"

namespace arbiter::server {

class App {
 public:
  static Result<std::unique_ptr<App>> Start(const ServeConfig& config);
  ~App();  // Shutdown()
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  std::string address() const;
  const std::string& data_dir() const;          // absolute
  const std::string& admin_token_path() const;  // absolute
  // The hash of the policy bundle in force, or "" when no pack is loaded.
  std::string pack_hash() const;
  // The ledger's checkpoint origin and its verifier key (`<origin>+<key id>+<base64 key>`).
  const std::string& ledger_origin() const;
  std::string ledger_verifier_key() const;
  // Routes this build serves, "METHOD /pattern", in registration order.
  std::vector<std::string> ServedRoutes() const;

  // Graceful stop (see HttpServer::Shutdown). Idempotent.
  void Shutdown();

 private:
  struct Impl;
  explicit App(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace arbiter::server
