// Liveness and readiness of the service, and the routes that expose them with the metrics:
// `GET /healthz` (the process answers), `GET /readyz` (it should receive traffic: every readiness
// check passes and it is not draining) and `GET /metrics`.
//
//   Health health;
//   health.AddReadinessCheck("store", [&] { return store.Ping(); });
//   ARBITER_RETURN_IF_ERROR(AddHealthRoutes(router, &health, &metrics));
//   ...
//   health.SetDraining();   // on SIGTERM, before HttpServer::Shutdown()
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/server/metrics.h"
#include "arbiter/server/router.h"

namespace arbiter::server {

class Health {
 public:
  // A check returns OK when its dependency is usable. Checks run on every /readyz call, so they
  // must be cheap and thread-safe.
  void AddReadinessCheck(std::string name, std::function<Status()> check);
  void SetDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }
  // OK when ready; otherwise kUnavailable naming the first failing check ("draining" when
  // shutting down).
  Status Ready() const;

 private:
  std::atomic<bool> draining_{false};
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::function<Status()>>> checks_;
};

// Registers GET /healthz, GET /readyz and GET /metrics (all public). `health` and `metrics` must
// outlive the router.
Status AddHealthRoutes(Router& router, const Health* health, const MetricsRegistry* metrics);

}  // namespace arbiter::server
