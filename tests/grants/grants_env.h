// A whole identity + grants stack on in-memory SQLite and a FakeClock, with helpers to attest
// agent instances.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/grants/grants.h"
#include "arbiter/grants/intent_token.h"
#include "arbiter/grants/single_use_registry.h"
#include "arbiter/grants/sqlite_grant_store.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/registry.h"
#include "arbiter/identity/sqlite_identity_store.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::grants::testing {

// Test-name suffix for suites parametrised by the single-use backend ("store" or "mmap").
inline std::string BackendName(const ::testing::TestParamInfo<const char*>& info) {
  return info.param;
}

struct Stack {
  FakeClock clock;
  SecureRandom random;
  std::unique_ptr<identity::IdentityStore> identity_store;
  std::unique_ptr<GrantStore> grant_store;
  std::unique_ptr<identity::KeyRing> keys;
  std::unique_ptr<identity::WorkloadRegistry> registry;
  // Set single_use_file before Init to record uses in a mapped single-use file there instead of
  // the grant store.
  std::filesystem::path single_use_file;
  std::unique_ptr<SingleUseRegistry> single_use;
  bool defer_records = true;  // IntentTokenOptions::defer_records (with single_use_file only)
  std::unique_ptr<GrantService> grants;
  std::unique_ptr<IntentTokenService> intents;

  std::filesystem::path grant_db_path;  // empty: in-memory grant store

  // Builds everything; fails the current test on error. With `grant_db`, the grant store is a
  // SQLite file there (WAL, synchronous=NORMAL, as deployed).
  void Init(const std::string& issuer = "spiffe://example.org",
            const std::filesystem::path& grant_db = {}) {
    grant_db_path = grant_db;
    auto idb = store::SqliteDb::OpenInMemory();
    ASSERT_TRUE(idb);
    auto is = identity::CreateSqliteIdentityStore(std::move(*idb));
    ASSERT_TRUE(is) << is.error().ToString();
    identity_store = std::move(*is);
    OpenGrantStore();
    auto k = identity::KeyRing::Create(*identity_store, clock);
    ASSERT_TRUE(k);
    keys = std::move(*k);
    identity::RegistryOptions ro;
    ro.trust_domain = "example.org";
    auto r = identity::WorkloadRegistry::Create(*identity_store, *keys, clock, random, ro);
    ASSERT_TRUE(r);
    registry = std::move(*r);
    issuer_ = issuer;
    StartGrantServices();
  }

  // As after a restart: drops the grant services and store and opens them again on the same
  // file (grant_db_path must be set).
  void RestartGrants() {
    intents.reset();
    grants.reset();
    grant_store.reset();
    single_use.reset();
    OpenGrantStore();
    StartGrantServices();
  }

  // Registers `workload` (once) and attests a new instance; returns its verified identity and
  // writes its SVID to *svid when given.
  identity::AgentIdentity NewAgent(const std::string& workload = "refund-bot",
                                   std::string* svid = nullptr) {
    identity::WorkloadSpec spec;
    spec.name = workload;
    spec.owner = "payments-team";
    spec.risk_tier = "high";
    spec.intents = {"refund.issue", "case.comment"};
    spec.max_grant_ttl_seconds = 1800;
    auto jt = registry->RegisterWorkload(spec, "alice");
    if (!jt) jt = registry->IssueJoinToken(workload);
    EXPECT_TRUE(jt) << jt.error().ToString();
    auto key = EcdsaP256PrivateKey::Generate();
    auto proof = identity::SignProof(*key, identity::AttestationProofMessage(jt->token));
    auto cred = registry->Attest(jt->token, identity::AgentPublicJwk(*key), *proof);
    EXPECT_TRUE(cred) << cred.error().ToString();
    if (svid != nullptr) *svid = cred->svid;
    auto agent = registry->VerifySvid(cred->svid);
    EXPECT_TRUE(agent) << agent.error().ToString();
    return *agent;
  }

  static store::SqliteOptions FileOptions() {
    store::SqliteOptions o;
    o.durability = store::Durability::kNormal;
    return o;
  }

  void OpenGrantStore() {
    auto gdb = grant_db_path.empty() ? store::SqliteDb::OpenInMemory()
                                     : store::SqliteDb::Open(grant_db_path, FileOptions());
    ASSERT_TRUE(gdb) << gdb.error().ToString();
    auto gs = CreateSqliteGrantStore(std::move(*gdb));
    ASSERT_TRUE(gs) << gs.error().ToString();
    grant_store = std::move(*gs);
  }

  void StartGrantServices() {
    IntentTokenOptions io;
    io.issuer = issuer_;
    if (!single_use_file.empty()) {
      if (single_use == nullptr) {
        MappedSingleUseOptions o;
        o.path = single_use_file;
        o.slots = kMinSingleUseSlots * 4;
        auto r = OpenMappedSingleUseRegistry(o);
        ASSERT_TRUE(r) << r.error().ToString();
        single_use = std::move(*r);
      }
      io.single_use = single_use.get();
      io.defer_records = defer_records;
    }
    grants = std::move(*GrantService::Create(*grant_store, clock, random,
                                             single_use ? single_use->grant_changes() : nullptr));
    auto i = IntentTokenService::Create(*grant_store, *grants, *keys, clock, random, io);
    ASSERT_TRUE(i);
    intents = std::move(*i);
  }

  // A claimed grant for `case_id` held by `agent`.
  CaseGrant GrantFor(const std::string& case_id, const identity::AgentIdentity& agent,
                     std::int64_t ttl = 900) {
    GrantSpec spec;
    spec.case_id = case_id;
    spec.ttl_seconds = ttl;
    spec.max_ttl_seconds = 4 * 3600;
    auto g = grants->CreateForCase(spec);
    EXPECT_TRUE(g) << g.error().ToString();
    auto claimed = grants->Claim(g->id, agent);
    EXPECT_TRUE(claimed) << claimed.error().ToString();
    return *claimed;
  }

 private:
  std::string issuer_;
};

}  // namespace arbiter::grants::testing
