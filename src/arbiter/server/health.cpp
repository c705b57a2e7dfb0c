#include "arbiter/server/health.h"

#include <boost/json/object.hpp>

#include <utility>

#include "arbiter/common/version.h"

namespace arbiter::server {

void Health::AddReadinessCheck(std::string name, std::function<Status()> check) {
  std::lock_guard lock(mu_);
  checks_.emplace_back(std::move(name), std::move(check));
}

Status Health::Ready() const {
  if (draining()) return Status::Unavailable("not ready: draining");
  std::lock_guard lock(mu_);
  for (const auto& [name, check] : checks_) {
    Status s = check();
    if (!s.ok()) return Status::Unavailable("not ready: " + name + ": " + s.message());
  }
  return Status::Ok();
}

Status AddHealthRoutes(Router& router, const Health* health, const MetricsRegistry* metrics) {
  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/healthz", Access::kPublic, [](RequestContext&) {
        boost::json::object o;
        o["status"] = "ok";
        o["version"] = kVersion;
        return JsonResponse(200, std::move(o));
      }));
  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/readyz", Access::kPublic, [health](RequestContext&) {
        Status s = health->Ready();
        if (!s.ok()) return ErrorResponse(s);
        boost::json::object o;
        o["status"] = "ready";
        return JsonResponse(200, std::move(o));
      }));
  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/metrics", Access::kPublic, [metrics](RequestContext&) {
        HttpResponse r;
        r.status = 200;
        r.content_type = std::string(kPrometheusContentType);
        r.body = metrics->Render();
        return r;
      }));
  return Status::Ok();
}

}  // namespace arbiter::server
