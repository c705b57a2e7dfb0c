#include "arbiter/cli/input.h"

#include <filesystem>
#include <fstream>
#include <iostream>

namespace arbiter::cli {
namespace {

Result<std::string> ReadBounded(std::istream& in, const std::string& name, size_t max_bytes) {
  std::string data;
  char buf[1 << 16];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      return Status::ResourceExhausted("`" + name + "` is larger than " +
                                       std::to_string(max_bytes) + " bytes");
    }
  }
  if (in.bad()) return Status::NotFound("cannot read `" + name + "`");
  return data;
}

}  // namespace

Result<std::string> ReadInput(const std::string& path, size_t max_bytes) {
  if (path == "-") return ReadBounded(std::cin, "standard input", max_bytes);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument("`" + path + "` is a directory, not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read `" + path + "`");
  return ReadBounded(in, path, max_bytes);
}

}  // namespace arbiter::cli
