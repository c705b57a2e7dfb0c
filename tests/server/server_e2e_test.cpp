// End-to-end tests over real HTTP on 127.0.0.1 with port 0: keep-alive, every error status, the
// transport limits, slow clients, the connection limit, graceful shutdown and /metrics.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "arbiter/common/json.h"
#include "arbiter/server/dispatcher.h"
#include "arbiter/server/health.h"
#include "arbiter/server/server.h"
#include "test_client.h"

namespace arbiter::server {
namespace {

using namespace std::chrono_literals;
using testing::BuildRequest;
using testing::Fetch;
using testing::RawResponse;
using testing::TestConnection;

// A gate a handler waits on until the test opens it.
class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, 10s, [this] { return open_; });
  }
  bool WaitEntered(std::chrono::milliseconds t) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, t, [this] { return entered_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  bool entered_ = false;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartServer(ServerLimits{.max_body_bytes = 4096,
                             .max_header_bytes = 2048,
                             .max_connections = 8,
                             .header_timeout = 300ms,
                             .body_timeout = 300ms,
                             .idle_timeout = 400ms,
                             .write_timeout = 1s});
  }

  void StartServer(ServerLimits limits) {
    auth_.AddToken("admin-token", {PrincipalKind::kHuman, "root", {"admin"}});
    auth_.AddToken("agent-token", {PrincipalKind::kAgent, "spiffe://example.org/agent/t", {}});
    ASSERT_TRUE(AddHealthRoutes(router_, &health_, &metrics_).ok());
    ASSERT_TRUE(router_
                    .Add(HttpMethod::kPost, "/v1/echo", Access::kPublic,
                         [](RequestContext& ctx) {
                           auto body = ctx.JsonObjectBody();
                           if (!body) return ErrorResponse(body.error());
                           auto name = GetString(*body, "name", "body");
                           if (!name) return ErrorResponse(name.error());
                           boost::json::object o;
                           o["name"] = *name;
                           return JsonResponse(200, o);
                         })
                    .ok());
    ASSERT_TRUE(router_
                    .Add(HttpMethod::kGet, "/v1/items/{id}", Access::kPublic,
                         [](RequestContext& ctx) {
                           boost::json::object o;
                           o["id"] = ctx.PathParam("id");
                           o["wait"] = ctx.request().QueryParam("wait").value_or("");
                           return JsonResponse(200, o);
                         })
                    .ok());
    ASSERT_TRUE(
        router_
            .Add(HttpMethod::kPost, "/v1/items/{id}/close", Access::kHuman,
                 [](RequestContext& ctx) {
                   return ErrorResponse(Status::FailedPrecondition(
                       "case `" + std::string(ctx.PathParam("id")) + "` is already closed"));
                 })
            .ok());
    ASSERT_TRUE(router_
                    .Add(HttpMethod::kGet, "/v1/admin/thing", Access::kAdmin,
                         [](RequestContext&) { return JsonResponse(200, boost::json::object{}); })
                    .ok());
    ASSERT_TRUE(router_
                    .Add(HttpMethod::kGet, "/v1/boom", Access::kPublic,
                         [](RequestContext&) -> HttpResponse { throw std::logic_error("bug"); })
                    .ok());
    ASSERT_TRUE(router_
                    .Add(HttpMethod::kGet, "/v1/slow", Access::kPublic,
                         [this](RequestContext&) {
                           gate_.Wait();
                           return JsonResponse(200, boost::json::object{{"slow", true}});
                         })
                    .ok());
    // Answers only when the test completes the parked wait (as the evidence committer does).
    ASSERT_TRUE(router_
                    .Add(HttpMethod::kGet, "/v1/parked/{id}", Access::kPublic,
                         [this](RequestContext& ctx) {
                           HttpResponse r =
                               JsonResponse(200, boost::json::object{{"id", ctx.PathParam("id")}});
                           std::string id(ctx.PathParam("id"));
                           r.defer = [this, id](std::function<void(Status)> done) {
                             std::lock_guard lock(parked_mu_);
                             parked_.emplace_back(id, std::move(done));
                             parked_cv_.notify_all();
                           };
                           // Runs only after an OK completion (a receipt is added this way).
                           r.finish = [id](HttpResponse& out) {
                             out.body = boost::json::serialize(
                                 boost::json::object{{"id", id}, {"finished", true}});
                           };
                           return r;
                         })
                    .ok());
    ASSERT_TRUE(router_
                    .Add(HttpMethod::kGet, "/v1/big", Access::kPublic,
                         [](RequestContext&) {
                           HttpResponse r;
                           r.content_type = "text/plain";
                           r.body.resize(kBigBody);
                           for (size_t i = 0; i < r.body.size(); ++i) {
                             r.body[i] = static_cast<char>('a' + i % 26);
                           }
                           return r;
                         })
                    .ok());
    logger_ = Logger::Null();
    auto d = Dispatcher::Create(&router_, &auth_, &metrics_, logger_.get(),
                                {.json = {.max_bytes = limits.max_body_bytes, .max_depth = 16}});
    ASSERT_TRUE(d.has_value()) << d.error().ToString();
    dispatcher_ = std::move(*d);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    options.limits = limits;
    options.shutdown_grace = 2s;
    auto s = HttpServer::Start(options, dispatcher_.get());
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    server_ = std::move(*s);
    port_ = server_->port();
  }

  void TearDown() override {
    gate_.Open();
    if (server_) server_->Shutdown();
  }

  static boost::json::object ErrorOf(const RawResponse& r) {
    return boost::json::parse(r.body).as_object().at("error").as_object();
  }

  // Waits until `n` parked responses are waiting; returns them (id, completion).
  std::vector<std::pair<std::string, std::function<void(Status)>>> WaitParked(size_t n) {
    std::unique_lock lock(parked_mu_);
    parked_cv_.wait_for(lock, 5s, [&] { return parked_.size() >= n; });
    return std::exchange(parked_, {});
  }

  static constexpr size_t kBigBody = 8u << 20;  // more than a loopback socket buffer takes at once

  std::mutex parked_mu_;
  std::condition_variable parked_cv_;
  std::vector<std::pair<std::string, std::function<void(Status)>>> parked_;
  Router router_;
  StaticTokenAuthenticator auth_;
  MetricsRegistry metrics_;
  Health health_;
  Gate gate_;
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
};

TEST_F(ServerTest, BindsAnEphemeralPortOnLoopback) {
  EXPECT_NE(port_, 0);
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(port_));
  auto r = Fetch(port_, "GET", "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_EQ(boost::json::parse(r->body).at("status").as_string(), "ok");
  EXPECT_FALSE(r->Header("x-request-id").empty());
}

TEST_F(ServerTest, KeepsConnectionsAliveAcrossRequests) {
  TestConnection c(port_);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        c.Send(BuildRequest("POST", "/v1/echo", R"({"name":"n)" + std::to_string(i) + "\"}")));
    auto r = c.Read();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(boost::json::parse(r->body).at("name").as_string(), "n" + std::to_string(i));
    EXPECT_NE(r->Header("connection"), "close");
  }
  EXPECT_EQ(server_->active_connections(), 1u);
}

TEST_F(ServerTest, AnswersPipelinedRequestsInOrder) {
  TestConnection c(port_);
  ASSERT_TRUE(c.Send(BuildRequest("GET", "/v1/items/a") + BuildRequest("GET", "/v1/items/b") +
                     BuildRequest("GET", "/v1/items/c")));
  for (std::string id : {"a", "b", "c"}) {
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(boost::json::parse(r->body).at("id").as_string(), id);
  }
}

TEST_F(ServerTest, HonoursConnectionCloseAndHttp10) {
  TestConnection c(port_);
  ASSERT_TRUE(c.Send(BuildRequest("GET", "/healthz", "", "Connection: close\r\n")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed(1s));

  TestConnection old(port_);
  ASSERT_TRUE(old.Send("GET /healthz HTTP/1.0\r\n\r\n"));
  auto r10 = old.Read();
  ASSERT_TRUE(r10);
  EXPECT_EQ(r10->status, 200);
  EXPECT_EQ(r10->version, "HTTP/1.0");
  EXPECT_TRUE(old.WaitClosed(1s));
}

// The transport writes the header block itself: pin its exact bytes (what Beast's serializer
// wrote before: reason phrase, Content-Type, the handler's headers in order, Connection as the
// request's keep-alive semantics require, Content-Length, and no body for HEAD).
std::string ExchangeRaw(std::uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
    // Every request here asks the server to close, so read to EOF.
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
      out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST_F(ServerTest, ResponseHeaderBlockIsExact) {
  auto body_of = [](const std::string& raw) { return raw.substr(raw.find("\r\n\r\n") + 4); };
  std::string r11 = ExchangeRaw(
      port_, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: id-1\r\nConnection: close\r\n\r\n");
  ASSERT_FALSE(r11.empty());
  const std::string body = body_of(r11);
  ASSERT_FALSE(body.empty());
  EXPECT_EQ(r11,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-request-id: id-1\r\n"
            "Connection: close\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);

  // HTTP/1.0 without keep-alive: no Connection header; HEAD: the GET's length and no body.
  std::string head = ExchangeRaw(port_, "HEAD /healthz HTTP/1.0\r\nX-Request-Id: id-2\r\n\r\n");
  EXPECT_EQ(head,
            "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nx-request-id: id-2\r\n"
            "Content-Length: " +
                std::to_string(body.size()) + "\r\n\r\n");

  // An error with an extra header, HTTP/1.0 asking for keep-alive (then closing via 1.1 close).
  std::string e = ExchangeRaw(port_,
                              "DELETE /healthz HTTP/1.0\r\nConnection: keep-alive\r\n"
                              "X-Request-Id: id-3\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
                              "X-Request-Id: id-4\r\nConnection: close\r\n\r\n");
  const std::string err_body =
      e.substr(e.find("\r\n\r\n") + 4, e.find("HTTP/1.1") - e.find("\r\n\r\n") - 4);
  EXPECT_EQ(e.substr(0, e.find("HTTP/1.1")),
            "HTTP/1.0 405 Method Not Allowed\r\nContent-Type: application/json\r\n"
            "allow: GET\r\nx-request-id: id-3\r\nConnection: keep-alive\r\nContent-Length: " +
                std::to_string(err_body.size()) + "\r\n\r\n" + err_body);
  EXPECT_EQ(e.substr(e.find("HTTP/1.1")),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-request-id: id-4\r\n"
            "Connection: close\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
}

TEST_F(ServerTest, DecodesPathParametersAndQueries) {
  auto r = Fetch(port_, "GET", "/v1/items/a%20b?wait=integrated&x=1");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  auto o = boost::json::parse(r->body).as_object();
  EXPECT_EQ(o.at("id").as_string(), "a b");
  EXPECT_EQ(o.at("wait").as_string(), "integrated");
  auto bad = Fetch(port_, "GET", "/v1/items/a%2Fb");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(ErrorOf(*bad).at("code").as_string(), "invalid_argument");
}

TEST_F(ServerTest, EveryErrorStatusUsesTheErrorModel) {
  struct Case {
    std::string request;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {BuildRequest("POST", "/v1/echo", "{not json"), 400, "invalid_argument"},
      {BuildRequest("POST", "/v1/echo", R"({"name":1})"), 400, "invalid_argument"},
      {BuildRequest("POST", "/v1/items/c1/close", "{}"), 401, "unauthenticated"},
      {BuildRequest("POST", "/v1/items/c1/close", "{}", "Authorization: Bearer agent-token\r\n"),
       403, "permission_denied"},
      {BuildRequest("GET", "/v1/admin/thing", "", "Authorization: Bearer agent-token\r\n"), 403,
       "permission_denied"},
      {BuildRequest("GET", "/v1/nothing-here"), 404, "not_found"},
      {BuildRequest("DELETE", "/v1/echo"), 405, "method_not_allowed"},
      {BuildRequest("POST", "/v1/items/c1/close", "{}", "Authorization: Bearer admin-token\r\n"),
       409, "failed_precondition"},
      {BuildRequest("GET", "/v1/boom"), 500, "internal"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.request);
    TestConnection conn(port_);
    ASSERT_TRUE(conn.Send(c.request));
    auto r = conn.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status) << r->body;
    auto e = ErrorOf(*r);
    EXPECT_EQ(e.at("code").as_string(), c.code);
    EXPECT_TRUE(e.at("message").is_string());
    EXPECT_TRUE(e.contains("field"));
    // An application error does not cost the client its connection.
    ASSERT_TRUE(conn.Send(BuildRequest("GET", "/healthz")));
    auto again = conn.Read();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
  }
}

TEST_F(ServerTest, NamesTheFieldAtFault) {
  auto r = Fetch(port_, "POST", "/v1/echo", R"({"name":["x"]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorOf(*r).at("field").as_string(), "body.name");
}

TEST_F(ServerTest, RejectsDeepJsonWith400) {
  std::string deep(40, '[');
  deep += std::string(40, ']');
  auto r = Fetch(port_, "POST", "/v1/echo", deep);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorOf(*r).at("code").as_string(), "resource_exhausted");
}

TEST_F(ServerTest, RejectsADeclaredOversizedBodyWith413WithoutReadingIt) {
  TestConnection c(port_);
  ASSERT_TRUE(c.Send("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(ErrorOf(*r).at("code").as_string(), "payload_too_large");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed(1s));
}

TEST_F(ServerTest, RejectsAnOversizedChunkedBodyWith413) {
  TestConnection c(port_);
  std::string chunk(3000, 'a');
  std::string req = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 2; ++i) req += "bb8\r\n" + chunk + "\r\n";
  req += "0\r\n\r\n";
  c.Send(req);  // the server may close before taking all of it
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(ServerTest, RejectsOversizedHeadersWith431) {
  std::string big = "X-Filler: " + std::string(4000, 'x') + "\r\n";
  TestConnection c(port_);
  c.Send(BuildRequest("GET", "/healthz", "", big));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(ErrorOf(*r).at("code").as_string(), "headers_too_large");
  EXPECT_TRUE(c.WaitClosed(1s));
}

TEST_F(ServerTest, RejectsMalformedRequestsWith400) {
  for (std::string raw : {"GARBAGE\r\n\r\n", "GET /healthz HTTP/9.9\r\n\r\n",
                          "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
                          "POST /v1/echo HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                          "GET http://example.org/healthz HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    SCOPED_TRACE(raw);
    TestConnection c(port_);
    ASSERT_TRUE(c.Send(raw));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_FALSE(ErrorOf(*r).at("message").as_string().empty());
  }
}

TEST_F(ServerTest, AnswersHeadWithoutABody) {
  TestConnection c(port_);
  ASSERT_TRUE(c.Send(BuildRequest("HEAD", "/healthz")));
  // Read the header block only: a HEAD response announces a length but sends no body.
  ASSERT_TRUE(c.Send(BuildRequest("GET", "/v1/items/after")));
  auto head = c.Read(2s);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  // The parser took Content-Length bytes of the next response as the HEAD body; what matters is
  // that the announced length matches the GET body length.
  auto get = Fetch(port_, "GET", "/healthz");
  ASSERT_TRUE(get);
  EXPECT_EQ(head->Header("content-length"), std::to_string(get->body.size()));
}

TEST_F(ServerTest, SupportsExpectContinue) {
  TestConnection c(port_);
  std::string body = R"({"name":"later"})";
  ASSERT_TRUE(
      c.Send("POST /v1/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
             "Content-Length: " +
             std::to_string(body.size()) + "\r\n\r\n"));
  // The interim 100 arrives before we send the body (Read skips it only once it is followed by
  // the final response, so check the raw bytes here).
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(c.Send(body));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(boost::json::parse(r->body).at("name").as_string(), "later");
}

TEST_F(ServerTest, ClosesSlowClientsThatNeverFinishTheirHeaders) {
  TestConnection c(port_);
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  auto start = std::chrono::steady_clock::now();
  // Trickle a byte now and then: the header deadline is total, not per read.
  bool closed = false;
  for (int i = 0; i < 20 && !closed; ++i) {
    c.Send("X");
    closed = c.WaitClosed(50ms);
  }
  if (!closed) closed = c.WaitClosed(2s);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(ServerTest, ClosesSlowBodies) {
  TestConnection c(port_);
  ASSERT_TRUE(c.Send("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"));
  EXPECT_TRUE(c.WaitClosed(2s));
}

TEST_F(ServerTest, ClosesIdleKeepAliveConnections) {
  TestConnection c(port_);
  ASSERT_TRUE(c.Send(BuildRequest("GET", "/healthz")));
  ASSERT_TRUE(c.Read());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.WaitClosed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
}

TEST_F(ServerTest, ClosesConnectionsThatSendNothing) {
  TestConnection c(port_);
  EXPECT_TRUE(c.WaitClosed(2s));
}

TEST_F(ServerTest, RefusesConnectionsOverTheLimitWith503) {
  std::vector<std::unique_ptr<TestConnection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<TestConnection>(port_));
    ASSERT_TRUE(held.back()->Send(BuildRequest("GET", "/healthz")));
    ASSERT_TRUE(held.back()->Read()) << i;
  }
  EXPECT_EQ(server_->active_connections(), 8u);
  TestConnection extra(port_);
  auto r = extra.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(ErrorOf(*r).at("code").as_string(), "unavailable");
  // Freeing a slot lets the next client in.
  held.pop_back();
  for (int i = 0; i < 50 && server_->active_connections() >= 8; ++i)
    std::this_thread::sleep_for(10ms);
  auto ok = Fetch(port_, "GET", "/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, ServesPrometheusMetrics) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Fetch(port_, "GET", "/healthz"));
  ASSERT_TRUE(Fetch(port_, "GET", "/v1/nothing"));
  ASSERT_TRUE(Fetch(port_, "GET", "/healthz", "", std::string(3000, 'x') + ": y\r\n"));
  auto r = Fetch(port_, "GET", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = r->body;
  EXPECT_NE(
      text.find(R"(arbiter_http_requests_total{method="GET",route="/healthz",status="200"} 3)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(arbiter_http_requests_total{method="GET",route="unmatched",status="404"} 1)"),
      std::string::npos);
  EXPECT_NE(text.find(R"(arbiter_http_rejected_total{reason="headers_too_large"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE arbiter_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(
      text.find(
          R"(arbiter_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 3)"),
      std::string::npos);
  // At least this connection; earlier ones may still be closing on the server side.
  EXPECT_TRUE(std::regex_search(text, std::regex("\narbiter_http_connections_active [1-9]")));
  const std::regex sample(R"re(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (-?[0-9.eE+-]+|\+Inf|NaN)$)re");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
  }
}

TEST_F(ServerTest, ReadinessTurnsUnavailableWhenDrainingOrACheckFails) {
  auto ready = Fetch(port_, "GET", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  std::atomic<bool> store_ok{true};
  health_.AddReadinessCheck(
      "store", [&] { return store_ok ? Status::Ok() : Status::Unavailable("database locked"); });
  store_ok = false;
  auto failing = Fetch(port_, "GET", "/readyz");
  ASSERT_TRUE(failing);
  EXPECT_EQ(failing->status, 503);
  EXPECT_EQ(ErrorOf(*failing).at("message").as_string(), "not ready: store: database locked");
  store_ok = true;
  health_.SetDraining();
  auto draining = Fetch(port_, "GET", "/readyz");
  ASSERT_TRUE(draining);
  EXPECT_EQ(draining->status, 503);
}

TEST_F(ServerTest, ShutdownFinishesInFlightRequestsAndClosesIdleOnes) {
  TestConnection idle(port_);
  ASSERT_TRUE(idle.Send(BuildRequest("GET", "/healthz")));
  ASSERT_TRUE(idle.Read());
  TestConnection busy(port_);
  ASSERT_TRUE(busy.Send(BuildRequest("GET", "/v1/slow")));
  ASSERT_TRUE(gate_.WaitEntered(2s));

  auto stopped = std::async(std::launch::async, [this] { server_->Shutdown(); });
  EXPECT_TRUE(idle.WaitClosed(1s));
  // New connections are no longer accepted.
  std::this_thread::sleep_for(50ms);
  TestConnection late(port_);
  EXPECT_FALSE(late.connected() && late.Send(BuildRequest("GET", "/healthz")) && late.Read(300ms));

  gate_.Open();
  auto r = busy.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_EQ(stopped.wait_for(3s), std::future_status::ready);
  EXPECT_EQ(server_->active_connections(), 0u);
}

TEST_F(ServerTest, ShutdownClosesStuckRequestsAfterTheGracePeriod) {
  TestConnection busy(port_);
  ASSERT_TRUE(busy.Send(BuildRequest("GET", "/v1/slow")));
  ASSERT_TRUE(gate_.WaitEntered(2s));
  auto start = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [this] { server_->Shutdown(); });
  // The handler stays blocked past the 2 s grace; release it afterwards so the thread can join.
  std::this_thread::sleep_for(2200ms);
  gate_.Open();
  EXPECT_EQ(stopped.wait_for(5s), std::future_status::ready);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(ServerTest, ResumesParkedResponsesCompletedTogetherOnTheirOwnConnections) {
  // Six connections over both I/O threads park a response each; one thread then completes all of
  // them at once, out of order and one with an error, as a committer finishing a batch does.
  constexpr int kConnections = 6;
  std::vector<std::unique_ptr<TestConnection>> conns;
  for (int i = 0; i < kConnections; ++i) {
    conns.push_back(std::make_unique<TestConnection>(port_));
    ASSERT_TRUE(conns.back()->Send(BuildRequest("GET", "/v1/parked/c" + std::to_string(i))));
  }
  auto parked = WaitParked(kConnections);
  ASSERT_EQ(parked.size(), static_cast<size_t>(kConnections));
  // Nothing leaves before its wait completes.
  EXPECT_FALSE(conns[0]->Read(100ms));
  std::thread committer([&] {
    for (auto it = parked.rbegin(); it != parked.rend(); ++it) {
      it->second(it->first == "c3" ? Status::Unavailable("evidence: disk full") : Status::Ok());
    }
  });
  committer.join();
  for (int i = 0; i < kConnections; ++i) {
    auto r = conns[static_cast<size_t>(i)]->Read();
    ASSERT_TRUE(r) << i;
    if (i == 3) {
      EXPECT_EQ(r->status, 503);
      EXPECT_EQ(ErrorOf(*r).at("code").as_string(), "unavailable");
      continue;
    }
    EXPECT_EQ(r->status, 200) << i;
    EXPECT_EQ(boost::json::parse(r->body).at("id").as_string(), "c" + std::to_string(i));
    EXPECT_EQ(boost::json::parse(r->body).at("finished"), true) << i;
  }
  // The connections stay usable: pipelined parked requests are answered in order.
  ASSERT_TRUE(
      conns[1]->Send(BuildRequest("GET", "/v1/parked/p1") + BuildRequest("GET", "/v1/parked/p2")));
  for (std::string id : {"p1", "p2"}) {
    auto next = WaitParked(1);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0].first, id);
    next[0].second(Status::Ok());
    auto r = conns[1]->Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(boost::json::parse(r->body).at("id").as_string(), id);
  }
}

TEST_F(ServerTest, AnswersOtherConnectionsWhileResponsesAreParked) {
  // A parked response (a write waiting for its evidence, or for its receipt under
  // ?wait=integrated) holds no I/O thread: with both threads' connections parked, new connections
  // on either thread are still answered.
  std::vector<std::unique_ptr<TestConnection>> parked_conns;
  for (int i = 0; i < 2; ++i) {
    parked_conns.push_back(std::make_unique<TestConnection>(port_));
    ASSERT_TRUE(parked_conns.back()->Send(BuildRequest("GET", "/v1/parked/w" + std::to_string(i))));
  }
  auto parked = WaitParked(2);
  ASSERT_EQ(parked.size(), 2u);
  for (int i = 0; i < 4; ++i) {
    auto r = Fetch(port_, "GET", "/v1/items/x" + std::to_string(i));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_FALSE(parked_conns[0]->Read(50ms));
  for (auto& [id, done] : parked) done(Status::Ok());
  for (auto& c : parked_conns) {
    auto r = c->Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

TEST_F(ServerTest, WritesResponsesLargerThanTheSocketBuffer) {
  // The first non-blocking send takes only part of the body; the rest goes asynchronously.
  TestConnection c(port_);
  ASSERT_TRUE(c.Send(BuildRequest("GET", "/v1/big") + BuildRequest("GET", "/healthz")));
  auto r = c.Read(10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(r->body.size(), kBigBody);
  bool intact = true;
  for (size_t i = 0; i < r->body.size() && intact; ++i) {
    intact = r->body[i] == static_cast<char>('a' + i % 26);
  }
  EXPECT_TRUE(intact);
  auto health = c.Read();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(ListenAddressTest, ParsesAndRejects) {
  auto a = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(ParseListenAddress("[::1]:0")->host, "::1");
  EXPECT_EQ(ParseListenAddress("localhost:1")->host, "127.0.0.1");
  for (std::string bad : {"", "8080", ":8080", "127.0.0.1:", "127.0.0.1:99999", "::1:80",
                          "example.org:80", "127.0.0.1:8x"}) {
    auto r = ParseListenAddress(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().message().rfind("listen: ", 0), 0u) << r.error().message();
  }
}

TEST(HttpServerStartTest, ReportsAnAddressInUse) {
  Router router;
  MetricsRegistry m1, m2;
  auto logger = Logger::Null();
  auto d1 = Dispatcher::Create(&router, nullptr, &m1, logger.get(), {});
  auto d2 = Dispatcher::Create(&router, nullptr, &m2, logger.get(), {});
  ASSERT_TRUE(d1.has_value() && d2.has_value());
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  auto first = HttpServer::Start(options, d1->get());
  ASSERT_TRUE(first.has_value());
  options.listen = (*first)->address();
  auto second = HttpServer::Start(options, d2->get());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace arbiter::server
