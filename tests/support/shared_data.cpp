#include "support/shared_data.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace arbiter::testing {
namespace {

// The environment variable `name` when set and non-empty, else the value CMake compiled in.
std::string Setting(const char* name, const char* compiled_default) {
  const char* env = std::getenv(name);
  return (env != nullptr && *env != '\0') ? std::string(env) : std::string(compiled_default);
}

}  // namespace

std::optional<std::filesystem::path> SharedDir() {
  const std::string dir = Setting("ARBITER_SHARED_DIR", ARBITER_DEFAULT_SHARED_DIR);
  std::error_code ec;
  if (dir.empty() || !std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return std::filesystem::path(dir);
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

std::filesystem::path BuildDir() { return Setting("ARBITER_BUILD_DIR", ARBITER_DEFAULT_BUILD_DIR); }

std::filesystem::path SourceDir() {
  return Setting("ARBITER_SOURCE_DIR", ARBITER_DEFAULT_SOURCE_DIR);
}

}  // namespace arbiter::testing
