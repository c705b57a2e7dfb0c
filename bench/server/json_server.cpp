// arbiter_bench_server: Arbiter's HTTP stack (HttpServer + Dispatcher + Router + metrics, access
// log to a file or off) with a trivial JSON endpoint, for loopback load tests against the Beast
// baseline. Prints its address on stdout and serves until SIGINT/SIGTERM.
//
//   POST /v1/echo   parses the JSON body (under the server's limits) and answers {"name": ...}
//   GET  /healthz   the real health route
//
//   arbiter_bench_server [--threads N] [--access-log FILE|off]
#include <boost/json/object.hpp>

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "arbiter/common/json.h"
#include "arbiter/server/dispatcher.h"
#include "arbiter/server/health.h"
#include "arbiter/server/server.h"

using namespace arbiter;
using namespace arbiter::server;

int main(int argc, char** argv) {
  int threads = 0;
  std::string access_log = "off";
  for (int i = 1; i + 1 < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads") threads = std::atoi(argv[i + 1]);
    if (a == "--access-log") access_log = argv[i + 1];
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  Router router;
  MetricsRegistry metrics;
  Health health;
  StaticTokenAuthenticator auth;
  if (!AddHealthRoutes(router, &health, &metrics).ok()) return 1;
  Status added =
      router.Add(HttpMethod::kPost, "/v1/echo", Access::kPublic, [](RequestContext& ctx) {
        auto body = ctx.JsonObjectBody();
        if (!body) return ErrorResponse(body.error());
        auto name = GetString(*body, "name", "body");
        if (!name) return ErrorResponse(name.error());
        boost::json::object o;
        o["name"] = *name;
        return JsonResponse(200, o);
      });
  if (!added.ok()) return 1;
  std::unique_ptr<Logger> logger;
  if (access_log == "off") {
    logger = Logger::Null();
  } else {
    auto l = Logger::ToFile(access_log);
    if (!l) {
      std::cerr << l.error().message() << "\n";
      return 1;
    }
    logger = std::move(*l);
  }
  auto dispatcher = Dispatcher::Create(&router, &auth, &metrics, logger.get(), {});
  if (!dispatcher) return 1;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = threads;
  auto server = HttpServer::Start(options, dispatcher->get());
  if (!server) {
    std::cerr << server.error().message() << "\n";
    return 1;
  }
  std::cout << (*server)->address() << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  (*server)->Shutdown();
  return 0;
}
