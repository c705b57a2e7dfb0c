#include "arbiter/server/http.h"

#include <boost/json/object.hpp>

#include <array>
#include <cctype>

#include "arbiter/common/json.h"

namespace arbiter::server {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX (and '+' as space when `plus_is_space`). Returns false on a malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

bool IsFieldPathChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '[' ||
         c == ']' || c == '-';
}

// "case.customer.tier: expected a string" → "case.customer.tier". Only dotted or bracketed paths
// and plain identifiers qualify; "json: ..." (a parse error, not a field) does not.
std::string FieldFromMessage(std::string_view message) {
  size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0 || colon > 200) return {};
  std::string_view head = message.substr(0, colon);
  if (!std::isalpha(static_cast<unsigned char>(head[0])) && head[0] != '_') return {};
  for (char c : head) {
    if (!IsFieldPathChar(c)) return {};
  }
  if (head == "json") return {};
  return std::string(head);
}

}  // namespace

std::string_view HttpMethodName(HttpMethod m) {
  switch (m) {
    case HttpMethod::kGet: return "GET";
    case HttpMethod::kHead: return "HEAD";
    case HttpMethod::kPost: return "POST";
    case HttpMethod::kPut: return "PUT";
    case HttpMethod::kPatch: return "PATCH";
    case HttpMethod::kDelete: return "DELETE";
    case HttpMethod::kOptions: return "OPTIONS";
    case HttpMethod::kOther: return "OTHER";
  }
  return "OTHER";
}

HttpMethod ParseHttpMethod(std::string_view name) {
  static constexpr std::array<HttpMethod, 7> kKnown = {
      HttpMethod::kGet,   HttpMethod::kHead,   HttpMethod::kPost,   HttpMethod::kPut,
      HttpMethod::kPatch, HttpMethod::kDelete, HttpMethod::kOptions};
  for (HttpMethod m : kKnown) {
    if (HttpMethodName(m) == name) return m;
  }
  return HttpMethod::kOther;
}

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  for (const auto& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::optional<std::string_view> HttpRequest::QueryParam(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kResourceExhausted: return 400;
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDataLoss: return 500;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

ApiError ApiErrorFromStatus(const Status& status) {
  ApiError e;
  e.http_status = HttpStatusFor(status.code());
  e.code = std::string(StatusCodeName(status.code()));
  if (e.http_status >= 500 && status.code() != StatusCode::kUnavailable) {
    e.message = "internal error";
    return e;
  }
  e.message = status.message();
  // Only validation errors name a field; credential errors ("expired: ...") name a reason.
  if (e.http_status == 400) e.field = FieldFromMessage(status.message());
  return e;
}

HttpResponse ErrorResponse(const ApiError& error) {
  return ErrorResponse(error.http_status, error.code, error.message, error.field);
}

HttpResponse ErrorResponse(const Status& status) {
  return ErrorResponse(ApiErrorFromStatus(status));
}

HttpResponse ErrorResponse(int http_status, std::string_view code, std::string_view message,
                           std::string_view field) {
  boost::json::object err;
  err["code"] = code;
  err["message"] = message;
  if (field.empty()) {
    err["field"] = nullptr;
  } else {
    err["field"] = field;
  }
  boost::json::object root;
  root["error"] = std::move(err);
  HttpResponse r = JsonResponse(http_status, root);
  r.error_code = std::string(code);
  return r;
}

HttpResponse JsonResponse(int status, const boost::json::value& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = ToJson(body);
  return r;
}

std::string_view HttpReason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view raw_key = part.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    std::string key, value;
    if (!PercentDecode(raw_key, true, key)) {
      return Status::InvalidArgument("query: malformed percent escape in parameter name");
    }
    if (!PercentDecode(raw_value, true, value)) {
      return Status::InvalidArgument("query." + key + ": malformed percent escape");
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

Result<std::string> PercentDecodePath(std::string_view path) {
  std::string out;
  if (!PercentDecode(path, false, out)) {
    return Status::InvalidArgument("path: malformed percent escape");
  }
  // An encoded '/' would let a path parameter smuggle a separator; an encoded NUL is never valid.
  for (size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] == '%' && (path.substr(i + 1, 2) == "2F" || path.substr(i + 1, 2) == "2f" ||
                           path.substr(i + 1, 2) == "00")) {
      return Status::InvalidArgument("path: encoded `/` or NUL is not allowed");
    }
  }
  return out;
}

}  // namespace arbiter::server
