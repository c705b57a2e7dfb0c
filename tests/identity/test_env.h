// Shared set-up for identity tests: in-memory SQLite stores, a FakeClock, a key ring.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "arbiter/common/bytes.h"
#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"
#include "arbiter/identity/identity_store.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/sqlite_identity_store.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::identity::testing {

inline std::unique_ptr<IdentityStore> NewMemoryIdentityStore() {
  auto db = store::SqliteDb::OpenInMemory();
  EXPECT_TRUE(db) << db.error().ToString();
  auto s = CreateSqliteIdentityStore(std::move(*db));
  EXPECT_TRUE(s) << s.error().ToString();
  return std::move(*s);
}

// A compact JWS from arbitrary header and payload JSON and signature bytes.
inline std::string RawJws(std::string_view header_json, std::string_view payload_json,
                          ByteView signature) {
  return Base64UrlEncode(AsBytes(header_json)) + "." + Base64UrlEncode(AsBytes(payload_json)) +
         "." + Base64UrlEncode(signature);
}

// Replaces one claim of a token and re-signs it with `key` (to craft tokens Arbiter did not mint).
inline std::string Payload(std::string_view token) {
  const size_t a = token.find('.');
  const size_t b = token.find('.', a + 1);
  auto bytes = Base64UrlDecode(token.substr(a + 1, b - a - 1));
  return std::string(AsChars(*bytes));
}

inline std::string Header(std::string_view token) {
  auto bytes = Base64UrlDecode(token.substr(0, token.find('.')));
  return std::string(AsChars(*bytes));
}

}  // namespace arbiter::identity::testing
