// Every policy file of the generated conformance corpus (unpacked into the build folder by the
// cedar_corpus_unpack fixture) round-trips through the surface syntax: cedar → JSON → cedar gives
// the same ASTs, the formatter's output re-parses to the same ASTs (at the default width, and for
// every 4th file also at a narrow one that breaks most conditions), formatting twice changes
// nothing, and json-to-cedar prints what the formatter prints.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "arbiter/cedar/format.h"
#include "arbiter/cedar/policy_json.h"
#include "arbiter/cedar/policy_set.h"
#include "arbiter/common/json.h"
#include "support/shared_data.h"
#include "surface_util.h"

namespace arbiter::cedar {
namespace {

using testing::PolicySetDiff;

std::string RoundTrip(const std::string& text, const std::string& name, bool narrow) {
  auto set = ParsePolicySet(text, name);
  if (!set.has_value()) return "";  // not a parse test: the corpus's policies all parse
  auto est = PolicySetToJson(*set);
  if (!est.has_value()) return name + ": emit: " + est.error().message();
  auto back = ParsePolicySetJson(ToJson(*est), name);
  if (!back.has_value()) return name + ": json parse: " + back.error().message();
  std::string d = PolicySetDiff(*set, *back);
  if (!d.empty()) return name + ": cedar->json->cedar: " + d;
  for (size_t width : {size_t{80}, size_t{30}}) {
    if (width == 30 && !narrow) continue;
    FormatOptions o;
    o.width = width;
    std::string once = FormatPolicySet(*set, o);
    auto reparsed = ParsePolicySet(once, name);
    if (!reparsed.has_value())
      return name + ": formatted text does not parse: " + reparsed.error().message();
    d = PolicySetDiff(*set, *reparsed, /*ignore_ids=*/true);
    if (!d.empty()) return name + ": format changed the policies: " + d;
    if (FormatPolicySet(*reparsed, o) != once) return name + ": format is not idempotent";
    // With comments kept (what `arbiter cedar format` prints): idempotent, same policies.
    std::string kept = FormatPolicySource(text, *set, o);
    auto kept_set = ParsePolicySet(kept, name);
    if (!kept_set.has_value()) return name + ": comment-keeping format does not parse";
    d = PolicySetDiff(*set, *kept_set, /*ignore_ids=*/true);
    if (!d.empty()) return name + ": comment-keeping format changed the policies: " + d;
    if (FormatPolicySource(kept, *kept_set, o) != kept) {
      return name + ": comment-keeping format is not idempotent";
    }
    for (const Policy& p : set->policies()) {
      if (FormatPolicy(*back->Find(p.id()), o) != FormatPolicy(p, o)) {
        return name + ": json-to-cedar differs from format for `" + p.id() + "`";
      }
    }
  }
  return "";
}

TEST(CedarSurfaceCorpus, EveryPolicyRoundTrips) {
  ARBITER_REQUIRE_SHARED(archive, "conformance/cedar/corpus-tests.tar.gz");
  const char* dir = std::getenv("CEDAR_CORPUS_DIR");
  ASSERT_NE(dir, nullptr) << "CEDAR_CORPUS_DIR is not set (run through ctest)";
  std::filesystem::path root = std::filesystem::path(dir) / "corpus-tests";
  ASSERT_TRUE(std::filesystem::exists(root)) << "corpus not unpacked into " << root;
  size_t files = 0, policies = 0, failed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    if (entry.path().extension() != ".cedar") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string name = entry.path().filename().string();
    auto set = ParsePolicySet(ss.str(), name);
    ASSERT_TRUE(set.has_value()) << set.error().message();
    policies += set->size();
    ++files;
    std::string problem = RoundTrip(ss.str(), name, files % 4 == 0);
    if (!problem.empty()) {
      ++failed;
      if (failed <= 20) ADD_FAILURE() << problem;
    }
  }
  std::cout << files << " corpus files, " << policies << " policies, " << failed << " failed\n";
  EXPECT_GT(files, 6000u);
  EXPECT_EQ(failed, 0u);
}

}  // namespace
}  // namespace arbiter::cedar
