#include "support/shared_data.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace arbiter::testing {

std::optional<std::filesystem::path> SharedDir() {
  const char* env = std::getenv("ARBITER_SHARED_DIR");
  if (env == nullptr || *env == '\0') return std::nullopt;
  std::error_code ec;
  if (!std::filesystem::is_directory(env, ec)) return std::nullopt;
  return std::filesystem::path(env);
}

std::optional<std::filesystem::path> SharedPath(const std::string& relative) {
  auto dir = SharedDir();
  if (!dir) return std::nullopt;
  auto path = *dir / relative;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  return path;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::filesystem::path BuildDir() {
  const char* env = std::getenv("ARBITER_BUILD_DIR");
  return env ? std::filesystem::path(env) : std::filesystem::current_path();
}

std::filesystem::path SourceDir() {
  const char* env = std::getenv("ARBITER_SOURCE_DIR");
  return env ? std::filesystem::path(env) : std::filesystem::current_path();
}

}  // namespace arbiter::testing
