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
#include "arbiter/store/sqlite.h"
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

// Rewrites a ledger database's entry runs as one row per entry (a valid layout: runs may have any
// length), so that tamper tests can delete, swap or edit single entries with plain SQL on
// `ledger_entries(first, count, data)`, where data is then `uint16 length || entry`.
inline void ExplodeEntryRuns(store::SqliteDb& db) {
  std::vector<std::pair<std::int64_t, Bytes>> entries;
  {
    auto stmt = db.Prepare("SELECT first, count, data FROM ledger_entries ORDER BY first");
    ASSERT_TRUE(stmt.has_value());
    while (*stmt->Step()) {
      const std::int64_t first = stmt->ColumnInt64(0);
      const Bytes data = stmt->ColumnBlob(2);
      size_t pos = 0;
      for (std::int64_t i = 0; i < stmt->ColumnInt64(1); ++i) {
        const size_t len = (size_t{data[pos]} << 8) | data[pos + 1];
        entries.emplace_back(first + i,
                             Bytes(data.begin() + static_cast<std::ptrdiff_t>(pos),
                                   data.begin() + static_cast<std::ptrdiff_t>(pos + 2 + len)));
        pos += 2 + len;
      }
    }
  }
  ASSERT_TRUE(db.Begin().ok());  // one transaction: one fsync, not one per row
  ASSERT_TRUE(db.Exec("DELETE FROM ledger_entries").ok());
  auto insert = db.Prepare("INSERT INTO ledger_entries VALUES (?1, 1, ?2)");
  ASSERT_TRUE(insert.has_value());
  for (const auto& [index, run] : entries) {
    insert->Bind(1, index).Bind(2, ByteView(run));
    ASSERT_TRUE(insert->Run().ok());
  }
  ASSERT_TRUE(db.Commit().ok());
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
