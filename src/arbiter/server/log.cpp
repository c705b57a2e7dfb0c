#include "arbiter/server/log.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "arbiter/common/json.h"

namespace arbiter::server {
namespace {

std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace

struct Logger::Impl {
  std::shared_ptr<spdlog::logger> logger;
  bool null = false;
};

Logger::Logger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Logger::~Logger() {
  if (impl_ && impl_->logger) impl_->logger->flush();
}

std::unique_ptr<Logger> Logger::ToStderr() {
  auto impl = std::make_unique<Impl>();
  impl->logger = std::make_shared<spdlog::logger>(
      "arbiter", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  impl->logger->set_pattern("%v");
  impl->logger->flush_on(spdlog::level::info);
  return std::unique_ptr<Logger>(new Logger(std::move(impl)));
}

Result<std::unique_ptr<Logger>> Logger::ToFile(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->logger = std::make_shared<spdlog::logger>(
        "arbiter", std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false));
  } catch (const std::exception& e) {
    return Status::Unavailable("log file `" + path + "`: " + e.what());
  }
  impl->logger->set_pattern("%v");
  impl->logger->flush_on(spdlog::level::warn);
  return std::unique_ptr<Logger>(new Logger(std::move(impl)));
}

std::unique_ptr<Logger> Logger::Null() {
  auto impl = std::make_unique<Impl>();
  impl->null = true;
  return std::unique_ptr<Logger>(new Logger(std::move(impl)));
}

bool Logger::enabled() const { return !impl_->null; }

void Logger::Access(const AccessLogEntry& e) {
  if (impl_->null) return;
  boost::json::object o;
  o["ts"] = NowRfc3339();
  o["type"] = "access";
  o["request_id"] = e.request_id;
  o["remote"] = e.remote;
  o["method"] = e.method;
  o["path"] = e.path;
  o["route"] = e.route;
  o["status"] = e.status;
  o["bytes_in"] = e.bytes_in;
  o["bytes_out"] = e.bytes_out;
  o["duration_ms"] = e.duration_ms;
  if (!e.principal.empty()) o["principal"] = e.principal;
  if (!e.error_code.empty()) o["error"] = e.error_code;
  impl_->logger->info(ToJson(o));
}

void Logger::Event(LogLevel level, std::string_view message,
                   const std::vector<std::pair<std::string, std::string>>& fields) {
  if (impl_->null) return;
  boost::json::object o;
  o["ts"] = NowRfc3339();
  o["type"] = "event";
  o["level"] = LevelName(level);
  o["msg"] = message;
  for (const auto& [k, v] : fields) o[k] = v;
  auto spd_level = level == LogLevel::kError  ? spdlog::level::err
                   : level == LogLevel::kWarn ? spdlog::level::warn
                                              : spdlog::level::info;
  impl_->logger->log(spd_level, ToJson(o));
}

void Logger::Flush() {
  if (impl_->logger) impl_->logger->flush();
}

}  // namespace arbiter::server
