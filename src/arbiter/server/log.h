// Structured JSON logs of the server: one access-log line per request and event lines (start,
// stop, handler failures). spdlog stays in log.cpp.
//
//   ARBITER_TRY(auto log, Logger::ToFile("/var/log/arbiter/access.jsonl"));
//   log->Access({.method = "GET", .path = "/healthz", .status = 200, ...});
//   log->Event(LogLevel::kInfo, "listening", {{"address", "127.0.0.1:8080"}});
//
// Each line is a JSON object with "ts" (RFC 3339, UTC, milliseconds) and "type" ("access" or
// "event"). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::server {

struct AccessLogEntry {
  std::string request_id;
  std::string remote;
  std::string method;
  std::string path;   // without the query string (queries can carry tokens)
  std::string route;  // the matched pattern, or "" when none matched
  int status = 0;
  std::uint64_t bytes_in = 0;   // body bytes received
  std::uint64_t bytes_out = 0;  // body bytes sent
  double duration_ms = 0;
  std::string principal;   // the authenticated caller's id, or ""
  std::string error_code;  // the API error code for 4xx/5xx, or ""
};

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };

class Logger {
 public:
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  static std::unique_ptr<Logger> ToStderr();
  // Appends to `path` (created if absent). kUnavailable when it cannot be opened.
  static Result<std::unique_ptr<Logger>> ToFile(const std::string& path);
  // Discards everything (benchmarks, tests that do not look at logs).
  static std::unique_ptr<Logger> Null();

  void Access(const AccessLogEntry& entry);
  // False for Null(): callers may skip building entries nobody writes.
  bool enabled() const;
  void Event(LogLevel level, std::string_view message,
             const std::vector<std::pair<std::string, std::string>>& fields = {});
  void Flush();

 private:
  struct Impl;
  explicit Logger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace arbiter::server
