// Unit tests of the transport-free layers: the error model, query parsing, authentication and the
// dispatcher (routing, 401/403/404/405, exceptions, request ids, metrics, access log).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>

#include "arbiter/common/json.h"
#include "arbiter/server/auth.h"
#include "arbiter/server/dispatcher.h"
#include "arbiter/server/http.h"

namespace arbiter::server {
namespace {

boost::json::object ErrorOf(const HttpResponse& r) {
  return boost::json::parse(r.body).as_object().at("error").as_object();
}

TEST(ErrorModelTest, MapsStatusCodesToHttp) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
}

TEST(ErrorModelTest, TakesTheFieldFromConventionalMessages) {
  HttpResponse r = ErrorResponse(Status::InvalidArgument("case.customer.tier: expected a string"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_code, "invalid_argument");
  auto e = ErrorOf(r);
  EXPECT_EQ(e.at("code").as_string(), "invalid_argument");
  EXPECT_EQ(e.at("message").as_string(), "case.customer.tier: expected a string");
  EXPECT_EQ(e.at("field").as_string(), "case.customer.tier");

  // A JSON syntax error names no field.
  auto j =
      ErrorOf(ErrorResponse(Status::InvalidArgument("json: unexpected `}` at line 1, column 2")));
  EXPECT_TRUE(j.at("field").is_null());
  // Free text before a colon is not a field.
  auto t = ErrorOf(ErrorResponse(Status::FailedPrecondition("case `c-1` is closed: cannot claim")));
  EXPECT_TRUE(t.at("field").is_null());
}

TEST(ErrorModelTest, HidesInternalMessages) {
  HttpResponse r = ErrorResponse(Status::Internal("sqlite: disk image is malformed at /var/x"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(ErrorOf(r).at("message").as_string(), "internal error");
  HttpResponse u = ErrorResponse(Status::Unavailable("store is read-only"));
  EXPECT_EQ(u.status, 503);
  EXPECT_EQ(ErrorOf(u).at("message").as_string(), "store is read-only");
}

TEST(QueryTest, DecodesParameters) {
  auto q = ParseQuery("a=1&b=x%20y&c=p+q&flag&&d=");
  ASSERT_TRUE(q.has_value());
  ASSERT_EQ(q->size(), 5u);
  EXPECT_EQ((*q)[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ((*q)[1], (std::pair<std::string, std::string>{"b", "x y"}));
  EXPECT_EQ((*q)[2], (std::pair<std::string, std::string>{"c", "p q"}));
  EXPECT_EQ((*q)[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ((*q)[4], (std::pair<std::string, std::string>{"d", ""}));
  auto bad = ParseQuery("wait=%zz");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "query.wait: malformed percent escape");
  EXPECT_FALSE(ParseQuery("x=%4").has_value());
}

TEST(QueryTest, DecodesPathsAndRejectsEncodedSeparators) {
  EXPECT_EQ(PercentDecodePath("/v1/cases/a%20b").value(), "/v1/cases/a b");
  EXPECT_FALSE(PercentDecodePath("/v1/cases/a%2Fb").has_value());
  EXPECT_FALSE(PercentDecodePath("/v1/cases/a%00").has_value());
  EXPECT_FALSE(PercentDecodePath("/v1/%g1").has_value());
}

HttpRequest WithAuth(std::string value) {
  HttpRequest r;
  r.headers.push_back({"authorization", std::move(value)});
  return r;
}

TEST(AuthTest, ParsesBearerCredentials) {
  EXPECT_EQ(BearerToken(WithAuth("Bearer abc")).value(), "abc");
  EXPECT_EQ(BearerToken(WithAuth("bearer  abc ")).value(), "abc");
  EXPECT_EQ(BearerToken(HttpRequest{}).error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(BearerToken(WithAuth("Basic dXNlcjpwYXNz")).error().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(BearerToken(WithAuth("Bearer ")).error().code(), StatusCode::kUnauthenticated);
}

TEST(AuthTest, StaticTokensMapToPrincipals) {
  StaticTokenAuthenticator auth;
  auth.AddToken("admin-token", {PrincipalKind::kHuman, "root", {"admin"}});
  auth.AddToken("agent-token", {PrincipalKind::kAgent, "spiffe://example.org/agent/triage", {}});
  auto admin = auth.Authenticate(WithAuth("Bearer admin-token"));
  ASSERT_TRUE(admin.has_value());
  EXPECT_TRUE(admin->IsAdmin());
  auto agent = auth.Authenticate(WithAuth("Bearer agent-token"));
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->kind, PrincipalKind::kAgent);
  EXPECT_FALSE(agent->IsAdmin());
  EXPECT_EQ(auth.Authenticate(WithAuth("Bearer admin-tokeN")).error().code(),
            StatusCode::kUnauthenticated);
}

TEST(AuthTest, AccessRules) {
  Principal agent{PrincipalKind::kAgent, "spiffe://x/a", {}};
  Principal person{PrincipalKind::kHuman, "ann", {"supervisor"}};
  Principal admin{PrincipalKind::kHuman, "root", {"admin"}};
  EXPECT_TRUE(CheckAccess(Access::kAuthenticated, agent).ok());
  EXPECT_TRUE(CheckAccess(Access::kAgent, agent).ok());
  EXPECT_EQ(CheckAccess(Access::kAgent, person).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckAccess(Access::kHuman, agent).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckAccess(Access::kHuman, admin).ok());
  EXPECT_EQ(CheckAccess(Access::kAdmin, person).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckAccess(Access::kAdmin, admin).ok());
}

class FailingAuthenticator : public Authenticator {
 public:
  Result<Principal> Authenticate(const HttpRequest&) const override {
    return Status::Unauthenticated("jwt-svid: token expired");
  }
};

TEST(AuthTest, CompositeReportsTheSpecificFailure) {
  auto tokens = std::make_shared<StaticTokenAuthenticator>();
  tokens->AddToken("t", {PrincipalKind::kHuman, "ann", {}});
  CompositeAuthenticator composite;
  composite.Add(tokens);
  composite.Add(std::make_shared<FailingAuthenticator>());
  EXPECT_EQ(composite.Authenticate(WithAuth("Bearer t"))->id, "ann");
  EXPECT_EQ(composite.Authenticate(WithAuth("Bearer eyJ...")).error().message(),
            "jwt-svid: token expired");
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_.AddToken("admin", {PrincipalKind::kHuman, "root", {"admin"}});
    auth_.AddToken("agent", {PrincipalKind::kAgent, "spiffe://example.org/agent/a", {}});
    log_path_ = std::filesystem::temp_directory_path() /
                ("arbiter_dispatcher_test_" + std::to_string(::getpid()) + ".jsonl");
    std::filesystem::remove(log_path_);
    auto logger = Logger::ToFile(log_path_.string());
    ASSERT_TRUE(logger.has_value());
    logger_ = std::move(*logger);
    ASSERT_TRUE(router_
                    .Add(HttpMethod::kPost, "/v1/echo/{id}", Access::kAuthenticated,
                         [](RequestContext& ctx) {
                           auto body = ctx.JsonObjectBody();
                           if (!body) return ErrorResponse(body.error());
                           auto name = GetString(*body, "name", "body");
                           if (!name) return ErrorResponse(name.error());
                           boost::json::object o;
                           o["id"] = ctx.PathParam("id");
                           o["name"] = *name;
                           o["caller"] = ctx.principal()->id;
                           return JsonResponse(200, o);
                         })
                    .ok());
    ASSERT_TRUE(router_
                    .Add(HttpMethod::kGet, "/admin/only", Access::kAdmin,
                         [](RequestContext&) { return JsonResponse(200, boost::json::object{}); })
                    .ok());
    ASSERT_TRUE(
        router_
            .Add(HttpMethod::kGet, "/boom", Access::kPublic,
                 [](RequestContext&) -> HttpResponse { throw std::runtime_error("handler bug"); })
            .ok());
    auto d = Dispatcher::Create(&router_, &auth_, &metrics_, logger_.get(),
                                {.json = {.max_bytes = 1 << 16, .max_depth = 8}});
    ASSERT_TRUE(d.has_value());
    dispatcher_ = std::move(*d);
  }
  void TearDown() override { std::filesystem::remove(log_path_); }

  HttpRequest Request(HttpMethod method, std::string path, std::string body = {},
                      std::string token = {}) {
    HttpRequest r;
    r.method = method;
    r.method_name = std::string(HttpMethodName(method));
    r.path = path;
    r.target = path;
    r.body = std::move(body);
    r.remote_address = "127.0.0.1:1";
    if (!token.empty()) r.headers.push_back({"authorization", "Bearer " + token});
    return r;
  }

  Router router_;
  StaticTokenAuthenticator auth_;
  MetricsRegistry metrics_;
  std::filesystem::path log_path_;
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, CallsTheHandlerWithParamsBodyAndPrincipal) {
  HttpResponse r =
      dispatcher_->Dispatch(Request(HttpMethod::kPost, "/v1/echo/42", R"({"name":"x"})", "agent"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = boost::json::parse(r.body).as_object();
  EXPECT_EQ(body.at("id").as_string(), "42");
  EXPECT_EQ(body.at("caller").as_string(), "spiffe://example.org/agent/a");
}

TEST_F(DispatcherTest, AnswersEachErrorWithTheErrorModel) {
  struct Case {
    HttpRequest request;
    int status;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {Request(HttpMethod::kGet, "/nope"), 404, "not_found", ""},
      {Request(HttpMethod::kDelete, "/v1/echo/1"), 405, "method_not_allowed", ""},
      {Request(HttpMethod::kPost, "/v1/echo/1", "{}"), 401, "unauthenticated", ""},
      {Request(HttpMethod::kPost, "/v1/echo/1", "{}", "wrong"), 401, "unauthenticated", ""},
      {Request(HttpMethod::kGet, "/admin/only", "", "agent"), 403, "permission_denied", ""},
      {Request(HttpMethod::kPost, "/v1/echo/1", "{", "agent"), 400, "invalid_argument", "body"},
      {Request(HttpMethod::kPost, "/v1/echo/1", "", "agent"), 400, "invalid_argument", "body"},
      {Request(HttpMethod::kPost, "/v1/echo/1", "[1]", "agent"), 400, "invalid_argument", "body"},
      {Request(HttpMethod::kPost, "/v1/echo/1", R"({"name":7})", "agent"), 400, "invalid_argument",
       "body.name"},
      {Request(HttpMethod::kPost, "/v1/echo/1", "[[[[[[[[[[[[1]]]]]]]]]]]]", "agent"), 400,
       "resource_exhausted", "body"},
      {Request(HttpMethod::kGet, "/boom"), 500, "internal", ""},
  };
  for (const auto& c : cases) {
    HttpResponse r = dispatcher_->Dispatch(c.request);
    SCOPED_TRACE(c.request.method_name + " " + c.request.path + " " + c.request.body);
    EXPECT_EQ(r.status, c.status) << r.body;
    auto e = ErrorOf(r);
    EXPECT_EQ(e.at("code").as_string(), c.code);
    EXPECT_FALSE(e.at("message").as_string().empty());
    if (c.field.empty()) {
      EXPECT_TRUE(e.at("field").is_null()) << r.body;
    } else {
      EXPECT_EQ(e.at("field").as_string(), c.field) << r.body;
    }
  }
}

TEST_F(DispatcherTest, Sets401ChallengeAnd405Allow) {
  HttpResponse r = dispatcher_->Dispatch(Request(HttpMethod::kPost, "/v1/echo/1", "{}"));
  auto has = [&](const HttpResponse& resp, std::string name, std::string value) {
    for (const auto& h : resp.headers) {
      if (h.name == name && h.value == value) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(r, "www-authenticate", "Bearer"));
  HttpResponse m = dispatcher_->Dispatch(Request(HttpMethod::kGet, "/v1/echo/1"));
  EXPECT_TRUE(has(m, "allow", "POST"));
}

TEST_F(DispatcherTest, KeepsWellFormedRequestIdsAndReplacesOthers) {
  HttpRequest a = Request(HttpMethod::kGet, "/nope");
  a.headers.push_back({"x-request-id", "abc-123"});
  HttpRequest b = Request(HttpMethod::kGet, "/nope");
  b.headers.push_back({"x-request-id", "bad id\n"});
  auto id_of = [](const HttpResponse& r) {
    for (const auto& h : r.headers) {
      if (h.name == "x-request-id") return h.value;
    }
    return std::string();
  };
  EXPECT_EQ(id_of(dispatcher_->Dispatch(a)), "abc-123");
  std::string fresh = id_of(dispatcher_->Dispatch(b));
  EXPECT_FALSE(fresh.empty());
  EXPECT_NE(fresh, "bad id\n");
}

TEST_F(DispatcherTest, CountsRequestsAndWritesAccessLog) {
  (void)dispatcher_->Dispatch(Request(HttpMethod::kGet, "/admin/only", "", "admin"));
  (void)dispatcher_->Dispatch(Request(HttpMethod::kGet, "/admin/only", "", "agent"));
  std::string text = metrics_.Render();
  EXPECT_NE(
      text.find(R"(arbiter_http_requests_total{method="GET",route="/admin/only",status="200"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(arbiter_http_requests_total{method="GET",route="/admin/only",status="403"} 1)"),
      std::string::npos);
  EXPECT_NE(
      text.find(
          R"(arbiter_http_request_duration_seconds_count{method="GET",route="/admin/only"} 2)"),
      std::string::npos);
  logger_->Flush();
  std::ifstream in(log_path_);
  std::string line;
  std::vector<boost::json::object> entries;
  while (std::getline(in, line)) entries.push_back(boost::json::parse(line).as_object());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].at("type").as_string(), "access");
  EXPECT_EQ(entries[0].at("status").as_int64(), 200);
  EXPECT_EQ(entries[0].at("principal").as_string(), "root");
  EXPECT_EQ(entries[0].at("route").as_string(), "/admin/only");
  EXPECT_EQ(entries[1].at("status").as_int64(), 403);
  EXPECT_EQ(entries[1].at("error").as_string(), "permission_denied");
}

}  // namespace
}  // namespace arbiter::server
