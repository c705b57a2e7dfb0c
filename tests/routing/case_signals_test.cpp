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

// A case routed again (reopened) is opened again: it stays one entry of the index, and its
// cluster does not count it twice.
TEST(CaseSignals, OpeningAnOpenCaseAgainKeepsOneEntry) {
  CaseSignals signals;
  signals.CaseOpened(MakeCase("c-1", std::string(kOutage)));
  signals.CaseOpened(MakeCase("c-2", std::string(kOutage)));
  signals.CaseOpened(MakeCase("c-1", std::string(kOutage)));
  signals.CaseOpened(MakeCase("c-1", "a different text about a refund"));
  EXPECT_EQ(signals.index().size(), 2u);
  auto dup = signals.Compute(MakeCase("c-3", std::string(kOutage)));
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ(dup->duplicate->cluster_size, 3);  // c-1, c-2 and c-3
}

// CaseOpened reuses the fingerprint Compute made on this thread only for the same text: a case
// whose text changed in between is indexed by its new text.
TEST(CaseSignals, CaseOpenedIndexesTheTextItIsGiven) {
  CaseSignals signals;
  constexpr std::string_view kRefund =
      "I returned the blue jacket three weeks ago and the refund has still not arrived on my card";
  ASSERT_TRUE(signals.Compute(MakeCase("c-1", std::string(kOutage))).has_value());
  signals.CaseOpened(MakeCase("c-1", std::string(kRefund)));
  EXPECT_TRUE(
      signals.Compute(MakeCase("c-2", std::string(kOutage)))->duplicate->duplicate_of.empty());
  EXPECT_EQ(signals.Compute(MakeCase("c-2", std::string(kRefund)))->duplicate->duplicate_of, "c-1");

  // The same text made of subject, body and messages (AllText) is the same text.
  sources::Case threaded = MakeCase("c-3", std::string(kOutage));
  threaded.messages.push_back({});
  threaded.messages.back().text = "second message";
  threaded.messages.push_back({});
  ASSERT_TRUE(signals.Compute(threaded).has_value());
  signals.CaseOpened(threaded);
  auto again = signals.index().Query(threaded.AllText());
  EXPECT_EQ(again.duplicate_of, "c-3");
  EXPECT_DOUBLE_EQ(again.similarity, 1.0);
  // Without a Compute first, the case is fingerprinted from its text.
  signals.CaseOpened(MakeCase("c-4", "an outage of the mail server since noon for all users"));
  EXPECT_EQ(
      signals.index().Query("an outage of the mail server since noon for all users").duplicate_of,
      "c-4");
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
