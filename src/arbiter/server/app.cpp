#include "arbiter/server/app.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/server/auth.h"
#include "arbiter/server/dispatcher.h"
#include "arbiter/server/health.h"
#include "arbiter/server/ledger_api.h"
#include "arbiter/server/log.h"
#include "arbiter/server/metrics.h"
#include "arbiter/server/server.h"

namespace arbiter::server {
namespace {

namespace fs = std::filesystem;

Status EnsureDataDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Unavailable("data: cannot create `" + dir + "`: " + ec.message());
  if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("data: `" + dir + "` is not a directory");
  }
  return Status::Ok();
}

// Reads `<data>/admin.token`, creating it (0600, 32 random bytes, base64url) when absent.
Result<std::string> LoadOrCreateAdminToken(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::ifstream in(path);
    std::string token;
    std::getline(in, token);
    if (token.size() < 32 || token.size() > 256) {
      return Status::DataLoss("admin token file `" + path + "` is malformed; delete it to rotate");
    }
    return token;
  }
  std::string token = Base64UrlEncode(RandomBytes(32));
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::Unavailable("cannot write `" + tmp + "`");
    ::chmod(tmp.c_str(), 0600);
    out << token << "\n";
    if (!out.flush()) return Status::Unavailable("cannot write `" + tmp + "`");
  }
  fs::rename(tmp, path, ec);
  if (ec) return Status::Unavailable("cannot create `" + path + "`: " + ec.message());
  return token;
}

}  // namespace

struct App::Impl {
  ServeConfig config;
  std::string data_dir;
  std::string admin_token_path;
  MetricsRegistry metrics;
  Health health;
  std::unique_ptr<Logger> logger;
  std::unique_ptr<ledger::Ledger> ledger;
  std::shared_ptr<StaticTokenAuthenticator> tokens = std::make_shared<StaticTokenAuthenticator>();
  CompositeAuthenticator authenticator;
  Router router;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<HttpServer> http;
};

App::App(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
App::~App() { Shutdown(); }

Result<std::unique_ptr<App>> App::Start(const ServeConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  ARBITER_RETURN_IF_ERROR(EnsureDataDir(config.data_dir));
  std::error_code ec;
  impl->data_dir = fs::absolute(config.data_dir, ec).lexically_normal().string();
  impl->admin_token_path = (fs::path(impl->data_dir) / "admin.token").string();
  ARBITER_TRY(std::string admin_token, LoadOrCreateAdminToken(impl->admin_token_path));
  impl->tokens->AddToken(admin_token, Principal{PrincipalKind::kHuman, "admin", {"admin"}});
  impl->authenticator.Add(impl->tokens);

  if (config.access_log == "off") {
    impl->logger = Logger::Null();
  } else if (config.access_log == "-" || config.access_log.empty()) {
    impl->logger = Logger::ToStderr();
  } else {
    ARBITER_TRY(impl->logger, Logger::ToFile(config.access_log));
  }

  ledger::LedgerOptions ledger_options;
  ledger_options.data_dir = fs::path(impl->data_dir) / "ledger";
  ledger_options.origin = config.ledger_origin;
  fs::create_directories(ledger_options.data_dir, ec);
  if (ec) {
    return Status::Unavailable("data: cannot create `" + ledger_options.data_dir.string() +
                               "`: " + ec.message());
  }
  auto opened = ledger::Ledger::Open(ledger_options);
  if (!opened) return opened.error().WithContext("ledger");
  impl->ledger = std::move(*opened);

  ARBITER_RETURN_IF_ERROR(AddHealthRoutes(impl->router, &impl->health, &impl->metrics));
  ARBITER_RETURN_IF_ERROR(AddLedgerRoutes(impl->router, impl->ledger.get()));
  ARBITER_RETURN_IF_ERROR(AddLedgerMetrics(impl->metrics, impl->ledger.get()));
  impl->health.AddReadinessCheck("data", [dir = impl->data_dir] {
    std::error_code e;
    return fs::is_directory(dir, e) ? Status::Ok()
                                    : Status::Unavailable("`" + dir + "` is not reachable");
  });

  DispatchOptions dispatch;
  dispatch.json.max_bytes = config.server.limits.max_body_bytes;
  dispatch.json.max_depth = config.max_json_depth;
  ARBITER_TRY(impl->dispatcher, Dispatcher::Create(&impl->router, &impl->authenticator,
                                                   &impl->metrics, impl->logger.get(), dispatch));
  ARBITER_TRY(impl->http, HttpServer::Start(config.server, impl->dispatcher.get()));
  return std::unique_ptr<App>(new App(std::move(impl)));
}

std::string App::address() const { return impl_->http->address(); }
const std::string& App::data_dir() const { return impl_->data_dir; }
const std::string& App::admin_token_path() const { return impl_->admin_token_path; }

const std::string& App::ledger_origin() const { return impl_->ledger->Origin(); }
std::string App::ledger_verifier_key() const { return impl_->ledger->VerifierKey(); }

std::vector<std::string> App::ServedRoutes() const {
  std::vector<std::string> out;
  for (const Route* r : impl_->router.Routes()) {
    out.push_back(std::string(HttpMethodName(r->method)) + " " + r->pattern);
  }
  return out;
}

void App::Shutdown() {
  if (!impl_ || !impl_->http) return;
  impl_->health.SetDraining();
  impl_->http->Shutdown();
  // After the last request: integrates what was acknowledged and stops the integrator.
  if (impl_->ledger) impl_->ledger->Close();
}

}  // namespace arbiter::server
