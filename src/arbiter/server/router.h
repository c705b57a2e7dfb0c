// The API's routing table: method + path pattern → access rule + handler.
//
// Patterns are literal segments, `{name}` (one segment) and a final `{name...}` (one or more
// segments, for C2SP tile paths like `tile/0/x001/234`):
//
//   Router router;
//   ARBITER_RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/cases/{id}/claim", Access::kAgent,
//       [](RequestContext& ctx) { return Claim(ctx.PathParam("id"), ctx.principal()); }));
//   RouteMatch m = router.Match(HttpMethod::kPost, "/v1/cases/c-1/claim");
//
// When several patterns match, the most specific wins (literal before `{param}` before
// `{rest...}`, compared segment by segment), so `/v1/cases/search` beats `/v1/cases/{id}`
// whatever the registration order. HEAD falls back to the GET route. A path that matches no
// pattern is 404; one that matches only under other methods is 405 with those methods.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arbiter/common/json.h"
#include "arbiter/server/auth.h"
#include "arbiter/server/http.h"

namespace arbiter::server {

// What a handler sees of one request.
class RequestContext {
 public:
  RequestContext(const HttpRequest& request, const Principal* principal,
                 std::vector<std::pair<std::string, std::string>> path_params,
                 JsonLimits json_limits, std::string request_id)
      : request_(request),
        principal_(principal),
        path_params_(std::move(path_params)),
        json_limits_(json_limits),
        request_id_(std::move(request_id)) {}

  const HttpRequest& request() const { return request_; }
  // The authenticated caller; nullptr on public routes called without a credential.
  const Principal* principal() const { return principal_; }
  // The value of a `{name}` in the route's pattern (empty if the pattern has none).
  std::string_view PathParam(std::string_view name) const;
  // The body parsed as JSON under the server's size and depth limits. An empty body, malformed
  // JSON and a too-deep document are kInvalidArgument/kResourceExhausted errors (→ 400).
  Result<boost::json::value> JsonBody() const;
  // The body as a JSON object; the error names `where` when it is another JSON type.
  Result<boost::json::object> JsonObjectBody(std::string_view where = "body") const;
  const std::string& request_id() const { return request_id_; }

 private:
  const HttpRequest& request_;
  const Principal* principal_;
  std::vector<std::pair<std::string, std::string>> path_params_;
  JsonLimits json_limits_;
  std::string request_id_;
};

using Handler = std::function<HttpResponse(RequestContext&)>;

struct Route {
  HttpMethod method = HttpMethod::kGet;
  std::string pattern;
  Access access = Access::kPublic;
  Handler handler;
  size_t index = 0;  // registration order; stable for the router's lifetime
};

struct RouteMatch {
  enum class Outcome : std::uint8_t { kFound, kNotFound, kMethodNotAllowed };
  Outcome outcome = Outcome::kNotFound;
  const Route* route = nullptr;  // when kFound
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<HttpMethod> allowed;  // when kMethodNotAllowed
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Registers a route. Errors (kInvalidArgument) for a malformed pattern — not starting with '/',
  // an empty segment, an unclosed or empty `{}`, a `{rest...}` not last, a parameter name used
  // twice — and kAlreadyExists for the same method and pattern shape registered twice.
  Status Add(HttpMethod method, std::string_view pattern, Access access, Handler handler);

  // `path` is the percent-decoded path without the query.
  RouteMatch Match(HttpMethod method, std::string_view path) const;

  // All routes in registration order.
  std::vector<const Route*> Routes() const;

 private:
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> routes_;
};

}  // namespace arbiter::server
