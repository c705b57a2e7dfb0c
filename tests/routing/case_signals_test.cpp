#include "arbiter/routing/case_signals.h"

#include <gtest/gtest.h>

#include "arbiter/common/json.h"
#include "arbiter/routing/service.h"
#include "test_packs.h"

namespace arbiter::routing {
namespace {

sources::Case MakeCase(std::string id, std::string body) {
  sources::Case c;
  c.id = std::move(id);
  c.subject = "Order problem";
  c.body = std::move(body);
  c.language = "en";
  c.customer = {"cust-1", "standard"};
  c.category = "refund";
  c.ai.confidence = 0.95;
  return c;
}

constexpr std::string_view kOutage =
    "The checkout page shows error 502 since this morning and none of our customers can pay for "
    "their orders in the web shop, please fix the payment gateway as soon as possible";

TEST(CaseSignals, SensitivityComesFromTheScanner) {
  CaseSignals signals;
  auto s = signals.Compute(MakeCase("c-1", "my card 4111 1111 1111 1111, mail anna@example.com"));
  ASSERT_TRUE(s.has_value());
  ASSERT_TRUE(s->sensitivity.has_value());
  EXPECT_EQ(s->sensitivity->level, "restricted");
  EXPECT_EQ(s->sensitivity->kinds, (std::vector<std::string>{"card", "email"}));
  auto plain = signals.Compute(MakeCase("c-2", "where is my parcel?"));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->sensitivity->level, "public");
  EXPECT_TRUE(plain->sensitivity->kinds.empty());
}

TEST(CaseSignals, DuplicatesAreOpenCasesOnly) {
  CaseSignals signals;
  signals.CaseOpened(MakeCase("c-1", std::string(kOutage)));
  auto dup = signals.Compute(MakeCase("c-2", "Hello team, " + std::string(kOutage) + " Thanks!"));
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ(dup->duplicate->duplicate_of, "c-1");
  EXPECT_GE(dup->duplicate->similarity, 0.5);
  EXPECT_EQ(dup->duplicate->cluster_size, 2);
  // The case itself, re-routed, is not its own duplicate.
  auto self = signals.Compute(MakeCase("c-1", std::string(kOutage)));
  ASSERT_TRUE(self.has_value());
  EXPECT_TRUE(self->duplicate->duplicate_of.empty());

  signals.CaseClosed("c-1");
  auto after = signals.Compute(MakeCase("c-2", "Hello team, " + std::string(kOutage)));
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->duplicate->duplicate_of.empty());
}

TEST(CaseSignals, RestrictedDataFoundByTheScannerKeepsTheCaseFromAi) {
  FakeClock clock;
  InMemoryEvidenceSink sink;
  InMemoryCaseKeyStore keys;
  InMemoryGrantIssuer grants{clock};
  PackStore packs{&sink, clock};
  ASSERT_TRUE(packs.Load(testing::ExamplePackDir(), Actor{"human", "Human::\"erin\""}).has_value());
  CaseSignals signals;
  RoutingService with_scanner({&packs, &sink, &keys, &grants, &signals, &clock});
  RoutingService without_scanner({&packs, &sink, &keys, &grants, nullptr, &clock});
  const Actor source{"source", "native"};

  const sources::Case plain = MakeCase("c-plain", "please refund my last order");
  auto ai = with_scanner.RouteCase(plain, {}, source);
  ASSERT_TRUE(ai.has_value()) << ai.error().ToString();
  EXPECT_EQ(ai->decision->route, Route::kAi);

  const sources::Case card = MakeCase("c-card", "please refund card 4111 1111 1111 1111");
  auto unscanned = without_scanner.RouteCase(card, {}, source);
  ASSERT_TRUE(unscanned.has_value());
  EXPECT_EQ(unscanned->decision->route, Route::kAi);  // nobody told the router about the card
  auto scanned = with_scanner.RouteCase(MakeCase("c-card-2", card.body), {}, source);
  ASSERT_TRUE(scanned.has_value());
  EXPECT_NE(scanned->decision->route, Route::kAi);
}

}  // namespace
}  // namespace arbiter::routing
