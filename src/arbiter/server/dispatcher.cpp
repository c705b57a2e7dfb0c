#include "arbiter/server/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"

namespace arbiter::server {
namespace {

bool IsGoodRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string AllowHeader(const std::vector<HttpMethod>& methods) {
  std::string out;
  for (HttpMethod m : methods) {
    if (!out.empty()) out += ", ";
    out += HttpMethodName(m);
  }
  return out;
}

std::string_view StatusClass(int status) {
  // Only used to label metrics when the code is unusual; exact codes are bounded anyway.
  return status >= 500 ? "5xx" : status >= 400 ? "4xx" : "2xx";
}

}  // namespace

Result<std::unique_ptr<Dispatcher>> Dispatcher::Create(const Router* router,
                                                       const Authenticator* authenticator,
                                                       MetricsRegistry* metrics, Logger* logger,
                                                       DispatchOptions options) {
  std::unique_ptr<Dispatcher> d(new Dispatcher());
  d->router_ = router;
  d->authenticator_ = authenticator;
  d->logger_ = logger;
  d->options_ = options;
  ARBITER_TRY(d->requests_, metrics->AddCounter("arbiter_http_requests_total",
                                                "HTTP requests answered, by method, route "
                                                "pattern and status code.",
                                                {"method", "route", "status"}));
  ARBITER_TRY(d->latency_,
              metrics->AddHistogram("arbiter_http_request_duration_seconds",
                                    "Time from a parsed request to its response, by route.",
                                    {"method", "route"}));
  ARBITER_TRY(d->rejected_,
              metrics->AddCounter("arbiter_http_rejected_total",
                                  "Requests the transport refused or dropped before routing, by "
                                  "reason (headers_too_large, payload_too_large, bad_request, "
                                  "timeout).",
                                  {"reason"}));
  ARBITER_TRY(auto* active,
              metrics->AddGauge("arbiter_http_connections_active", "Open client connections."));
  d->connections_active_ = &active->WithLabels({});
  ARBITER_TRY(auto* total, metrics->AddCounter("arbiter_http_connections_total",
                                               "Client connections accepted."));
  d->connections_total_ = &total->WithLabels({});
  ARBITER_TRY(
      d->connections_refused_,
      metrics->AddCounter("arbiter_http_connections_refused_total",
                          "Client connections refused, by reason (limit, draining).", {"reason"}));
  for (const Route* r : router->Routes()) {
    d->route_latency_.push_back(&d->latency_->WithLabels({HttpMethodName(r->method), r->pattern}));
  }
  d->unmatched_latency_ = &d->latency_->WithLabels({"OTHER", "unmatched"});
  d->route_requests_ =
      std::make_unique<std::array<std::atomic<Counter*>, kCachedStatuses.size()>[]>(
          router->Routes().size());
  Bytes prefix = RandomBytes(4);
  d->id_prefix_ = HexEncode(prefix) + "-";
  return d;
}

std::string Dispatcher::NewRequestId() {
  return id_prefix_ + std::to_string(next_id_.fetch_add(1, std::memory_order_relaxed) + 1);
}

Counter& Dispatcher::RequestsCounter(const Route* route, HttpMethod method, int status) {
  // A route's method is fixed except for HEAD served by a GET route: that one is not cached.
  const std::string_view method_label =
      method == HttpMethod::kOther ? "OTHER" : HttpMethodName(method);
  const std::string_view route_label = route ? std::string_view(route->pattern) : "unmatched";
  auto lookup = [&]() -> Counter& {
    return requests_->WithLabels({method_label, route_label, std::to_string(status)});
  };
  if (route == nullptr || method != route->method) return lookup();
  const auto* slot_it = std::find(kCachedStatuses.begin(), kCachedStatuses.end(), status);
  if (slot_it == kCachedStatuses.end()) return lookup();
  std::atomic<Counter*>& slot =
      route_requests_[route->index][static_cast<size_t>(slot_it - kCachedStatuses.begin())];
  Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Two threads may race here; both find the same child, so either store is right.
    counter = &lookup();
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

HttpResponse Dispatcher::Dispatch(const HttpRequest& request) {
  auto start = std::chrono::steady_clock::now();
  std::string request_id;
  if (auto given = request.Header("x-request-id"); given && IsGoodRequestId(*given)) {
    request_id = std::string(*given);
  } else {
    request_id = NewRequestId();
  }

  const Route* route = nullptr;
  std::string principal_id;
  HttpResponse response = [&]() -> HttpResponse {
    RouteMatch match = router_->Match(request.method, request.path);
    if (match.outcome == RouteMatch::Outcome::kNotFound) {
      return ErrorResponse(404, "not_found", "no route for `" + request.path + "`");
    }
    if (match.outcome == RouteMatch::Outcome::kMethodNotAllowed) {
      HttpResponse r = ErrorResponse(
          405, "method_not_allowed",
          "method `" + request.method_name + "` is not allowed on `" + request.path + "`");
      r.headers.push_back({"allow", AllowHeader(match.allowed)});
      return r;
    }
    route = match.route;
    std::optional<Principal> principal;
    if (route->access != Access::kPublic) {
      if (authenticator_ == nullptr) {
        return ErrorResponse(401, "unauthenticated", "authentication is not configured");
      }
      auto who = authenticator_->Authenticate(request);
      if (!who) {
        HttpResponse r = ErrorResponse(401, "unauthenticated", who.error().message());
        r.headers.push_back({"www-authenticate", "Bearer"});
        return r;
      }
      principal = std::move(*who);
      if (logger_->enabled()) principal_id = principal->id;
      if (Status s = CheckAccess(route->access, *principal); !s.ok()) {
        return ErrorResponse(403, "permission_denied", s.message());
      }
    }
    RequestContext ctx(request, principal ? &*principal : nullptr, std::move(match.params),
                       options_.json, request_id);
    try {
      return route->handler(ctx);
    } catch (const std::exception& e) {
      logger_->Event(LogLevel::kError, "handler threw",
                     {{"route", route->pattern}, {"request_id", request_id}, {"what", e.what()}});
    } catch (...) {
      logger_->Event(LogLevel::kError, "handler threw",
                     {{"route", route->pattern}, {"request_id", request_id}, {"what", "unknown"}});
    }
    return ErrorResponse(500, "internal", "internal error");
  }();
  response.headers.push_back({"x-request-id", request_id});

  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RequestsCounter(route, request.method, response.status).Inc();
  (route ? route_latency_[route->index] : unmatched_latency_)->Observe(seconds);

  if (!logger_->enabled()) return response;
  AccessLogEntry entry;
  entry.request_id = request_id;
  entry.remote = request.remote_address;
  entry.method = request.method_name;
  entry.path = request.path;
  entry.route = route ? route->pattern : "";
  entry.status = response.status;
  entry.bytes_in = request.body.size();
  entry.bytes_out = response.body.size();
  entry.duration_ms = seconds * 1000.0;
  entry.principal = principal_id;
  if (response.status >= 400) {
    entry.error_code = response.error_code;
    if (entry.error_code.empty()) entry.error_code = std::string(StatusClass(response.status));
  }
  logger_->Access(entry);
  return response;
}

void Dispatcher::RecordRejected(const std::string& remote, int status, std::string_view code) {
  rejected_->WithLabels({code}).Inc();
  AccessLogEntry entry;
  entry.request_id = NewRequestId();
  entry.remote = remote;
  entry.status = status;
  entry.error_code = std::string(code);
  logger_->Access(entry);
}

void Dispatcher::ConnectionOpened() {
  connections_total_->Inc();
  connections_active_->Add(1);
}

void Dispatcher::ConnectionClosed() { connections_active_->Add(-1); }

void Dispatcher::ConnectionRefused(std::string_view reason) {
  connections_refused_->WithLabels({reason}).Inc();
}

}  // namespace arbiter::server
