// People: bootstrap admin, roles, API tokens stored only as hashes.
#include "arbiter/identity/users.h"

#include <gtest/gtest.h>

#include "identity/test_env.h"

namespace arbiter::identity {
namespace {

class UsersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::NewMemoryIdentityStore();
    users_ = std::move(*UserDirectory::Create(*store_, clock_, random_));
  }
  FakeClock clock_;
  SecureRandom random_;
  std::unique_ptr<IdentityStore> store_;
  std::unique_ptr<UserDirectory> users_;
};

TEST_F(UsersTest, BootstrapAdminIsCreatedOnceAndShownOnce) {
  auto first = users_->EnsureBootstrapAdmin();
  ASSERT_TRUE(first) << first.error().ToString();
  ASSERT_TRUE(first->has_value());
  auto who = users_->Authenticate((*first)->token);
  ASSERT_TRUE(who) << who.error().ToString();
  EXPECT_EQ(who->name, "admin");
  EXPECT_TRUE(who->HasRole(kRoleAdmin));
  auto second = users_->EnsureBootstrapAdmin();
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->has_value());
  // The secret is stored nowhere: only its hash.
  auto tokens = store_->ListApiTokens("admin");
  ASSERT_TRUE(tokens);
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].token_hash, HexEncode(Sha256((*first)->token)));
  EXPECT_EQ((*first)->token.find((*tokens)[0].token_hash), std::string::npos);
}

TEST_F(UsersTest, TokensAuthenticateUntilRevokedOrExpired) {
  ASSERT_TRUE(users_->CreateUser("sam", {"supervisor", "approver", "supervisor"}));
  auto user = users_->GetUser("sam");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->roles, (std::vector<std::string>{"approver", "supervisor"}));
  auto t = users_->IssueApiToken("sam", "laptop", 3600);
  ASSERT_TRUE(t);
  auto who = users_->Authenticate(t->token);
  ASSERT_TRUE(who);
  EXPECT_TRUE(who->HasRole("approver"));
  EXPECT_FALSE(who->HasRole("admin"));
  // Tampered tokens fail.
  std::string tampered = t->token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(users_->Authenticate(tampered).error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(users_->Authenticate("").error().code(), StatusCode::kUnauthenticated);
  clock_.AdvanceSeconds(3600);
  EXPECT_EQ(users_->Authenticate(t->token).error().code(), StatusCode::kUnauthenticated);
  auto t2 = users_->IssueApiToken("sam", "ci");
  ASSERT_TRUE(t2);
  ASSERT_TRUE(users_->Authenticate(t2->token));
  ASSERT_TRUE(users_->RevokeApiToken(t2->id).ok());
  auto revoked = users_->Authenticate(t2->token);
  ASSERT_FALSE(revoked);
  EXPECT_NE(revoked.error().message().find("revoked"), std::string::npos);
  EXPECT_EQ(users_->RevokeApiToken(t2->id).code(), StatusCode::kNotFound);
}

TEST_F(UsersTest, RolesDisableAndValidation) {
  ASSERT_TRUE(users_->CreateUser("ann", {"agent"}));
  auto t = users_->IssueApiToken("ann", "x");
  ASSERT_TRUE(users_->SetRoles("ann", {"approver"}).ok());
  EXPECT_TRUE(users_->Authenticate(t->token)->HasRole("approver"));
  ASSERT_TRUE(users_->DisableUser("ann").ok());
  EXPECT_EQ(users_->Authenticate(t->token).error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(users_->IssueApiToken("ann", "y").error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(users_->CreateUser("ann", {"agent"}).error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(users_->CreateUser("b c", {"agent"}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(users_->CreateUser("bob", {}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(users_->CreateUser("bob", {"Admin"}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(users_->IssueApiToken("nobody", "x").error().code(), StatusCode::kNotFound);
  auto list = users_->ListUsers();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u);
}

TEST_F(UsersTest, AuthenticationIsCachedAndRevocationIsSeenAtOnce) {
  ASSERT_TRUE(users_->CreateUser("ann", {"agent"}));
  auto t = users_->IssueApiToken("ann", "x");
  ASSERT_TRUE(t);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(users_->Authenticate(t->token));
  EXPECT_EQ(users_->cache_misses(), 1u);
  EXPECT_EQ(users_->cache_hits(), 2u);
  // Through the directory, a revocation drops the cache: refused on the very next request.
  ASSERT_TRUE(users_->RevokeApiToken(t->id).ok());
  EXPECT_EQ(users_->Authenticate(t->token).error().code(), StatusCode::kUnauthenticated);
  // A failure is never cached: a wrong token always goes to the store.
  EXPECT_EQ(users_->Authenticate(t->token).error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(users_->cache_hits(), 2u);
}

TEST_F(UsersTest, ARevocationByAnotherWriterIsSeenWithinTheTtl) {
  ASSERT_TRUE(users_->CreateUser("ann", {"agent"}));
  auto t = users_->IssueApiToken("ann", "x");
  ASSERT_TRUE(users_->Authenticate(t->token));
  // Another process revokes in the shared database, bypassing this directory.
  ASSERT_TRUE(store_->RevokeApiToken(t->id, clock_.NowSeconds()).ok());
  clock_.AdvanceSeconds(UserDirectoryOptions{}.cache_ttl_seconds - 1);
  EXPECT_TRUE(users_->Authenticate(t->token));  // still within the documented staleness bound
  clock_.AdvanceSeconds(1);
  auto refused = users_->Authenticate(t->token);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("revoked"), std::string::npos);
}

TEST_F(UsersTest, ACachedTokenStillExpiresOnTheSecond) {
  ASSERT_TRUE(users_->CreateUser("ann", {"agent"}));
  auto t = users_->IssueApiToken("ann", "x", 3);
  ASSERT_TRUE(users_->Authenticate(t->token));
  clock_.AdvanceSeconds(2);
  ASSERT_TRUE(users_->Authenticate(t->token));  // from the cache
  clock_.AdvanceSeconds(1);
  EXPECT_EQ(users_->Authenticate(t->token).error().code(), StatusCode::kUnauthenticated);
}

TEST_F(UsersTest, ACacheTtlOfZeroReadsTheStoreEveryTime) {
  UserDirectoryOptions options;
  options.cache_ttl_seconds = 0;
  auto users = std::move(*UserDirectory::Create(*store_, clock_, random_, options));
  ASSERT_TRUE(users->CreateUser("ann", {"agent"}));
  auto t = users->IssueApiToken("ann", "x");
  ASSERT_TRUE(users->Authenticate(t->token));
  ASSERT_TRUE(store_->RevokeApiToken(t->id, clock_.NowSeconds()).ok());
  EXPECT_EQ(users->Authenticate(t->token).error().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(users->cache_hits(), 0u);
  options.cache_ttl_seconds = -1;
  EXPECT_EQ(UserDirectory::Create(*store_, clock_, random_, options).error().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arbiter::identity
