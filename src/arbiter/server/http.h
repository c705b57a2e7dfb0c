// HTTP request and response values as handlers see them, and the API's error model. No Beast or
// Asio here: the transport (server.cpp) converts to and from these types, so handlers and their
// tests compile quickly and never depend on the network library.
//
//   HttpResponse Handle(RequestContext& ctx) {
//     auto body = ctx.JsonBody();                      // bounded by the server's JSON limits
//     if (!body) return ErrorResponse(body.error());   // 400 {"error":{"code",...}}
//     return JsonResponse(200, {{"ok", true}});
//   }
//
// Errors always have the shape {"error":{"code":"...","message":"...","field":"..."|null}}.
// `code` is a stable, lowercase identifier (see ErrorCodeFor); `message` a one-line lowercase
// description; `field` the request field at fault, when one is.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::server {

enum class HttpMethod : std::uint8_t {
  kGet,
  kHead,
  kPost,
  kPut,
  kPatch,
  kDelete,
  kOptions,
  kOther
};

std::string_view HttpMethodName(HttpMethod m);
// "GET" → kGet, ...; anything else → kOther (methods are case-sensitive, RFC 9110 §9.1).
HttpMethod ParseHttpMethod(std::string_view name);

struct HttpHeader {
  std::string name;  // lowercase
  std::string value;
};

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string method_name;                                 // as sent, e.g. "GET" or "BREW"
  std::string target;                                      // as sent: path plus optional "?query"
  std::string path;                                        // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<HttpHeader> headers;
  std::string body;
  std::string remote_address;  // "ip:port" of the peer

  // The first header with this (case-insensitive) name, if any.
  std::optional<std::string_view> Header(std::string_view name) const;
  // The first query parameter with this name, if any.
  std::optional<std::string_view> QueryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<HttpHeader> headers;  // extra headers; the transport sets Content-Length and Date
  std::string body;
  std::string error_code;  // set by ErrorResponse, for logs and metrics; not sent
  // When set, the transport calls it once with a completion and sends the response only after the
  // completion has run: unchanged on OK, else as ErrorResponse(status). This is how writes are
  // acknowledged only once their evidence is durable without blocking an I/O thread
  // (EvidenceCommitter). Callers without a transport (tests of the Dispatcher) may call it
  // themselves.
  std::function<void(std::function<void(Status)>)> defer;
  // With `defer`: once the completion ran with OK, the transport calls this on its own thread and
  // sends the response as it leaves it (how a receipt that exists only once the evidence is
  // integrated gets into the answer). Callers without a transport call it themselves.
  std::function<void(HttpResponse&)> finish;
};

// An API error: the HTTP status, a stable code, a message and the field at fault.
struct ApiError {
  int http_status = 400;
  std::string code;
  std::string message;
  std::string field;  // empty when no single field is at fault
};

// The HTTP status for a Status code: invalid_argument/resource_exhausted/out_of_range → 400,
// unauthenticated → 401, permission_denied → 403, not_found → 404, already_exists and
// failed_precondition → 409, unavailable → 503, data_loss/internal → 500.
int HttpStatusFor(StatusCode code);

// Converts a module's Status into an ApiError. For 400-class errors the field is taken from the
// message when it follows
// the project's convention "<field.path>: <problem>" (as common/json.h's getters produce), so
// "case.customer.tier: expected a string" gives field "case.customer.tier". Internal and data-loss
// errors are reported as "internal error" without their message, which goes to the log instead.
ApiError ApiErrorFromStatus(const Status& status);

// {"error":{"code":..,"message":..,"field":..}} as a response with the error's status.
HttpResponse ErrorResponse(const ApiError& error);
HttpResponse ErrorResponse(const Status& status);
HttpResponse ErrorResponse(int http_status, std::string_view code, std::string_view message,
                           std::string_view field = {});

// A JSON response (compact serialisation).
HttpResponse JsonResponse(int status, const boost::json::value& body);

// The reason phrase for a status code, e.g. 404 → "Not Found".
std::string_view HttpReason(int status);

// Splits "a=1&b=%20x" into decoded pairs. Malformed percent escapes are an error naming the
// parameter.
Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);
// Decodes %XX escapes in a path. Rejects malformed escapes and encoded NUL or '/'.
Result<std::string> PercentDecodePath(std::string_view path);

}  // namespace arbiter::server
