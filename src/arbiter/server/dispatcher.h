// From a parsed request to a response, without the network: path decoding, routing (404/405),
// authentication (401) and access rules (403), the handler call with every exception caught
// (→ 500, logged), request ids, metrics and the access log. The transport (HttpServer) parses
// bytes into an HttpRequest, calls Dispatch and writes the response; transport-level failures
// (oversized headers or body, malformed requests) are recorded through RecordRejected so that they
// show in the same metrics and log.
//
//   Dispatcher d(router, authenticator, metrics, logger, {.max_body_bytes = 1 << 20});
//   HttpResponse r = d.Dispatch(request);
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arbiter/common/json.h"
#include "arbiter/server/auth.h"
#include "arbiter/server/http.h"
#include "arbiter/server/log.h"
#include "arbiter/server/metrics.h"
#include "arbiter/server/router.h"

namespace arbiter::server {

struct DispatchOptions {
  JsonLimits json;  // applied by RequestContext::JsonBody
};

class Dispatcher {
 public:
  // `router`, `authenticator`, `metrics` and `logger` must outlive the dispatcher. `authenticator`
  // may be null: then every non-public route answers 401. Registers the HTTP metrics
  // (arbiter_http_*) in `metrics`; fails if they are already registered there.
  static Result<std::unique_ptr<Dispatcher>> Create(const Router* router,
                                                    const Authenticator* authenticator,
                                                    MetricsRegistry* metrics, Logger* logger,
                                                    DispatchOptions options);

  // Handles one request. Never throws. Sets the X-Request-Id response header (the caller's, when
  // it sent a well-formed one, else a fresh one).
  HttpResponse Dispatch(const HttpRequest& request);

  // Records a request the transport answered itself (`status`, `code`, e.g. 431
  // "headers_too_large") or dropped (`status` 0: timeout, reset), in metrics and the access log.
  void RecordRejected(const std::string& remote, int status, std::string_view code);

  // Connection accounting for the transport.
  void ConnectionOpened();
  void ConnectionClosed();
  void ConnectionRefused(std::string_view reason);

  Logger& logger() { return *logger_; }

 private:
  Dispatcher() = default;
  std::string NewRequestId();

  const Router* router_ = nullptr;
  const Authenticator* authenticator_ = nullptr;
  Logger* logger_ = nullptr;
  DispatchOptions options_;
  CounterFamily* requests_ = nullptr;
  HistogramFamily* latency_ = nullptr;
  // The requests counter of each route for the common status codes (kCachedStatuses), filled
  // on first use, so the hot path does not build a label key and take the family's lock.
  static constexpr std::array<int, 10> kCachedStatuses = {200, 201, 202, 204, 400,
                                                          401, 403, 404, 409, 503};
  std::unique_ptr<std::array<std::atomic<Counter*>, kCachedStatuses.size()>[]> route_requests_;
  Counter& RequestsCounter(const Route* route, HttpMethod method, int status);
  std::vector<Histogram*> route_latency_;  // by route index
  Histogram* unmatched_latency_ = nullptr;
  CounterFamily* rejected_ = nullptr;
  Gauge* connections_active_ = nullptr;
  Counter* connections_total_ = nullptr;
  CounterFamily* connections_refused_ = nullptr;
  std::string id_prefix_;
  std::atomic<std::uint64_t> next_id_{0};
};

}  // namespace arbiter::server
