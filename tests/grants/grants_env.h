// A whole identity + grants stack on in-memory SQLite and a FakeClock, with helpers to attest
// agent instances.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/grants/grants.h"
#include "arbiter/grants/intent_token.h"
#include "arbiter/grants/sqlite_grant_store.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/registry.h"
#include "arbiter/identity/sqlite_identity_store.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::grants::testing {

struct Stack {
  FakeClock clock;
  SecureRandom random;
  std::unique_ptr<identity::IdentityStore> identity_store;
  std::unique_ptr<GrantStore> grant_store;
  std::unique_ptr<identity::KeyRing> keys;
  std::unique_ptr<identity::WorkloadRegistry> registry;
  std::unique_ptr<GrantService> grants;
  std::unique_ptr<IntentTokenService> intents;

  // Builds everything; fails the current test on error.
  void Init(const std::string& issuer = "spiffe://example.org") {
    auto idb = store::SqliteDb::OpenInMemory();
    ASSERT_TRUE(idb);
    auto is = identity::CreateSqliteIdentityStore(std::move(*idb));
    ASSERT_TRUE(is) << is.error().ToString();
    identity_store = std::move(*is);
    auto gdb = store::SqliteDb::OpenInMemory();
    ASSERT_TRUE(gdb);
    auto gs = CreateSqliteGrantStore(std::move(*gdb));
    ASSERT_TRUE(gs) << gs.error().ToString();
    grant_store = std::move(*gs);
    auto k = identity::KeyRing::Create(*identity_store, clock);
    ASSERT_TRUE(k);
    keys = std::move(*k);
    identity::RegistryOptions ro;
    ro.trust_domain = "example.org";
    auto r = identity::WorkloadRegistry::Create(*identity_store, *keys, clock, random, ro);
    ASSERT_TRUE(r);
    registry = std::move(*r);
    grants = std::move(*GrantService::Create(*grant_store, clock, random));
    IntentTokenOptions io;
    io.issuer = issuer;
    auto i = IntentTokenService::Create(*grant_store, *grants, *keys, clock, random, io);
    ASSERT_TRUE(i);
    intents = std::move(*i);
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
};

}  // namespace arbiter::grants::testing
