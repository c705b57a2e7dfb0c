// Helpers shared by the ledger tests: JSON vector access and temporary directories.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "arbiter/common/bytes.h"
#include "arbiter/common/json.h"
#include "arbiter/ledger/merkle.h"
#include "support/shared_data.h"

namespace arbiter::ledger::testing {

inline boost::json::value LoadJson(const std::filesystem::path& path) {
  auto doc = ParseJson(::arbiter::testing::ReadFile(path));
  EXPECT_TRUE(doc.has_value()) << path;
  return doc ? *doc : boost::json::value();
}

inline std::string Str(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : std::string();
}

// A hash from hex; nullopt when the value is not hex of exactly 32 bytes (a verifier must reject
// such input; vectors use it for garbage).
inline std::optional<Hash> HexHash(const boost::json::value& v) {
  if (!v.is_string()) return std::nullopt;
  auto bytes = HexDecode(std::string(v.as_string()));
  if (!bytes) return std::nullopt;
  auto h = HashFromBytes(*bytes);
  if (!h) return std::nullopt;
  return *h;
}

inline std::optional<std::vector<Hash>> HexPath(const boost::json::value& v) {
  std::vector<Hash> out;
  for (const auto& e : v.as_array()) {
    auto h = HexHash(e);
    if (!h) return std::nullopt;
    out.push_back(*h);
  }
  return out;
}

inline std::vector<Hash> HexPathOrDie(const boost::json::value& v) {
  auto p = HexPath(v);
  EXPECT_TRUE(p.has_value());
  return p.value_or(std::vector<Hash>{});
}

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("arbiter-ledger-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace arbiter::ledger::testing
