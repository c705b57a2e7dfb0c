// Every case of ../shared/vectors/spiffeid-cases.json (go-spiffe's test expectations restated as
// data) plus the spec-derived cases (size limits, URI parts that SPIFFE IDs exclude).
#include "arbiter/identity/spiffe_id.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "arbiter/common/json.h"
#include "support/shared_data.h"

namespace arbiter::identity {
namespace {

std::string Str(const boost::json::value& v) {
  return std::string(v.as_string().data(), v.as_string().size());
}

// Runs one case; returns an error description or empty.
std::string RunCase(const boost::json::object& c) {
  const std::string api = Str(c.at("api"));
  const bool valid = c.at("valid").as_bool();
  const std::string want_error = valid ? "" : Str(c.at("error"));
  Status status;
  std::string got_td;
  std::string got_path;
  if (api == "FromString" || api == "FromURI") {
    auto id = SpiffeId::Parse(Str(c.at("input")));
    status = id.status();
    if (id) {
      got_td = id->trust_domain().name();
      got_path = id->path();
      if (id->ToString() != Str(c.at("input"))) return "round trip differs: " + id->ToString();
    }
  } else if (api == "TrustDomainFromString") {
    auto td = TrustDomain::Parse(Str(c.at("input")));
    status = td.status();
    if (td) got_td = td->name();
  } else if (api == "FromSegments") {
    auto td = TrustDomain::Parse(Str(c.at("trust_domain")));
    if (!td) return "bad trust domain in case";
    std::vector<std::string> owned;
    for (const auto& s : c.at("segments").as_array()) owned.push_back(Str(s));
    std::vector<std::string_view> segs(owned.begin(), owned.end());
    auto id = SpiffeId::FromSegments(*td, segs);
    status = id.status();
    if (id) {
      got_td = id->trust_domain().name();
      got_path = id->path();
    }
  } else if (api == "ValidatePathSegment") {
    status = ValidateSpiffePathSegment(Str(c.at("segment")));
  } else if (api == "ValidatePath") {
    status = ValidateSpiffePath(Str(c.at("path")));
  } else {
    return "unknown api " + api;
  }
  if (valid) {
    if (!status.ok()) return "expected valid, got " + status.ToString();
    if (c.contains("trust_domain") && api != "FromSegments" &&
        got_td != Str(c.at("trust_domain"))) {
      return "trust domain " + got_td;
    }
    if (api != "ValidatePath" && c.contains("path") && got_path != Str(c.at("path"))) {
      return "path " + got_path;
    }
    return "";
  }
  if (status.ok()) return "expected error `" + want_error + "`, got ok";
  if (status.code() != StatusCode::kInvalidArgument) return "wrong code " + status.ToString();
  if (status.message().find(want_error) == std::string::npos) {
    return "expected error `" + want_error + "`, got " + status.message();
  }
  return "";
}

TEST(SpiffeId, AllSharedVectors) {
  ARBITER_REQUIRE_SHARED(path, "vectors/spiffeid-cases.json");
  auto doc = ParseJson(testing::ReadFile(path));
  ASSERT_TRUE(doc) << doc.error().ToString();
  const auto& cases = doc->at("cases").as_array();
  ASSERT_EQ(static_cast<std::int64_t>(cases.size()), doc->at("count").as_int64());
  int failures = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string problem = RunCase(cases[i].as_object());
    if (!problem.empty()) {
      ++failures;
      ADD_FAILURE() << "case " << i << " " << ToJson(cases[i]) << ": " << problem;
    }
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GE(cases.size(), 800u);
}

TEST(SpiffeId, SpecDerivedCases) {
  // The 10 spec_derived_cases of the shared file, made executable (they carry descriptions, not
  // inputs, for the long ones).
  const std::string td255(255, 'a');
  EXPECT_TRUE(SpiffeId::Parse("spiffe://" + td255).has_value());
  auto too_long_td = SpiffeId::Parse("spiffe://" + std::string(256, 'a'));
  ASSERT_FALSE(too_long_td);
  EXPECT_NE(too_long_td.error().message().find("longer than 255"), std::string::npos);
  EXPECT_FALSE(TrustDomain::Parse(std::string(256, 'a')).has_value());
  const std::string max_id = "spiffe://example.org/" + std::string(2027, 'a');
  ASSERT_EQ(max_id.size(), 2048u);
  EXPECT_TRUE(SpiffeId::Parse(max_id).has_value());
  auto over = SpiffeId::Parse(max_id + "a");
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().message().find("longer than 2048"), std::string::npos);
  EXPECT_FALSE(SpiffeId::Parse("spiffe://example.org?x=1").has_value());
  EXPECT_FALSE(SpiffeId::Parse("spiffe://example.org/p#frag").has_value());
  EXPECT_FALSE(SpiffeId::Parse("spiffe://user@example.org/p").has_value());
  EXPECT_FALSE(SpiffeId::Parse("spiffe://example.org:8080/p").has_value());
  EXPECT_FALSE(SpiffeId::Parse("spiffe://[::1]/p").has_value());
  EXPECT_TRUE(SpiffeId::Parse("spiffe://192.168.1.1/p").has_value());
}

TEST(SpiffeId, SegmentsAndErrorsQuoteInputSafely) {
  auto id = SpiffeId::Parse("spiffe://example.org/agent/triage/i-1");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->Segments(), (std::vector<std::string_view>{"agent", "triage", "i-1"}));
  EXPECT_TRUE(SpiffeId::Parse("spiffe://example.org")->Segments().empty());
  auto bad = SpiffeId::Parse(std::string("spiffe://exa\nmple.org/") + std::string(500, 'x'));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message().find('\n'), std::string::npos);
  EXPECT_LT(bad.error().message().size(), 300u);
}

}  // namespace
}  // namespace arbiter::identity
