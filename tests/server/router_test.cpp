#include "arbiter/server/router.h"

#include <gtest/gtest.h>

namespace arbiter::server {
namespace {

Handler Named(std::string name) {
  return [name](RequestContext&) {
    HttpResponse r;
    r.body = name;
    return r;
  };
}

TEST(RouterTest, MatchesLiteralsAndParameters) {
  Router router;
  ASSERT_TRUE(router.Add(HttpMethod::kGet, "/v1/cases/{id}", Access::kHuman, Named("get")).ok());
  ASSERT_TRUE(
      router.Add(HttpMethod::kPost, "/v1/cases/{id}/claim", Access::kAgent, Named("claim")).ok());
  RouteMatch m = router.Match(HttpMethod::kPost, "/v1/cases/c-42/claim");
  ASSERT_EQ(m.outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(m.route->pattern, "/v1/cases/{id}/claim");
  EXPECT_EQ(m.route->access, Access::kAgent);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "c-42");
}

TEST(RouterTest, MostSpecificPatternWinsWhateverTheOrder) {
  Router router;
  ASSERT_TRUE(router.Add(HttpMethod::kGet, "/v1/cases/{id}", Access::kPublic, Named("id")).ok());
  ASSERT_TRUE(
      router.Add(HttpMethod::kGet, "/v1/cases/search", Access::kPublic, Named("search")).ok());
  ASSERT_TRUE(router.Add(HttpMethod::kGet, "/v1/{rest...}", Access::kPublic, Named("rest")).ok());
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v1/cases/search").route->pattern, "/v1/cases/search");
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v1/cases/x").route->pattern, "/v1/cases/{id}");
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v1/cases/x/y").route->pattern, "/v1/{rest...}");
}

TEST(RouterTest, RestParameterTakesTheRemainingSegments) {
  Router router;
  ASSERT_TRUE(router
                  .Add(HttpMethod::kGet, "/v1/ledger/tile/{level}/{index...}", Access::kPublic,
                       Named("tile"))
                  .ok());
  RouteMatch m = router.Match(HttpMethod::kGet, "/v1/ledger/tile/0/x001/x234/067.p/8");
  ASSERT_EQ(m.outcome, RouteMatch::Outcome::kFound);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0].second, "0");
  EXPECT_EQ(m.params[1].second, "x001/x234/067.p/8");
  // The rest parameter needs at least one non-empty segment.
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v1/ledger/tile/0").outcome,
            RouteMatch::Outcome::kNotFound);
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v1/ledger/tile/0/x001//2").outcome,
            RouteMatch::Outcome::kNotFound);
}

TEST(RouterTest, DistinguishesNotFoundFromMethodNotAllowed) {
  Router router;
  ASSERT_TRUE(router.Add(HttpMethod::kGet, "/v1/things", Access::kPublic, Named("a")).ok());
  ASSERT_TRUE(router.Add(HttpMethod::kPost, "/v1/things", Access::kPublic, Named("b")).ok());
  RouteMatch m = router.Match(HttpMethod::kDelete, "/v1/things");
  EXPECT_EQ(m.outcome, RouteMatch::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<HttpMethod>{HttpMethod::kGet, HttpMethod::kPost}));
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v1/thing").outcome, RouteMatch::Outcome::kNotFound);
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/v1/things/").outcome, RouteMatch::Outcome::kNotFound);
  EXPECT_EQ(router.Match(HttpMethod::kGet, "v1/things").outcome, RouteMatch::Outcome::kNotFound);
}

TEST(RouterTest, HeadFallsBackToGet) {
  Router router;
  ASSERT_TRUE(router.Add(HttpMethod::kGet, "/healthz", Access::kPublic, Named("h")).ok());
  RouteMatch m = router.Match(HttpMethod::kHead, "/healthz");
  ASSERT_EQ(m.outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(m.route->method, HttpMethod::kGet);
}

TEST(RouterTest, RootPattern) {
  Router router;
  ASSERT_TRUE(router.Add(HttpMethod::kGet, "/", Access::kPublic, Named("root")).ok());
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/").outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(router.Match(HttpMethod::kGet, "/x").outcome, RouteMatch::Outcome::kNotFound);
}

TEST(RouterTest, RejectsMalformedPatterns) {
  Router router;
  for (std::string_view bad : {"", "v1/x", "/v1//x", "/v1/{", "/v1/{}", "/v1/{a}/{a}",
                               "/v1/{rest...}/x", "/v1/a{b}", "/v1/{a-b}"}) {
    Status s = router.Add(HttpMethod::kGet, bad, Access::kPublic, Named("x"));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(RouterTest, RejectsDuplicateShapes) {
  Router router;
  ASSERT_TRUE(router.Add(HttpMethod::kGet, "/v1/cases/{id}", Access::kPublic, Named("a")).ok());
  Status s = router.Add(HttpMethod::kGet, "/v1/cases/{case_id}", Access::kPublic, Named("b"));
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(router.Add(HttpMethod::kPost, "/v1/cases/{id}", Access::kPublic, Named("c")).ok());
  EXPECT_EQ(router.Routes().size(), 2u);
}

}  // namespace
}  // namespace arbiter::server
