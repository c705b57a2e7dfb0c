// Agreement of the strict validator with the reference's `shouldValidate` over the 22 hand-written
// conformance tests and the 6,379-test generated corpus (unpacked into the build folder by the
// cedar_corpus_unpack fixture). The validator follows Cedar 4.10, as the corpus does; the same run
// under 4.13 rules must differ exactly on tests whose scope matches no action.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/cedar/validator.h"
#include "arbiter/common/json.h"
#include "support/shared_data.h"

namespace arbiter::cedar {
namespace {

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Tally {
  int total = 0;
  int agree = 0;
  int unmatched_scope_only = 0;  // disagreements whose only error is the 4.10/4.13 difference
  std::vector<std::string> mismatches;
};

// Validates every test file under `root` listed in `files` under both versions' rules (parsing each
// file once) and compares with `shouldValidate`. Returns {4.10 tally, 4.13 tally}.
std::pair<Tally, Tally> RunTests(const std::filesystem::path& root,
                                 const std::vector<std::string>& files) {
  Tally t10, t13;
  for (const std::string& f : files) {
    auto doc = ParseJson(Slurp(root / f));
    if (!doc || !doc->is_object()) {
      t10.mismatches.push_back(f + ": unreadable test file");
      continue;
    }
    const auto& o = doc->as_object();
    bool want = o.at("shouldValidate").as_bool();
    std::string policies_path(o.at("policies").as_string());
    std::string schema_path(o.at("schema").as_string());
    PolicySetOptions popts;
    popts.file_order_ids = true;
    auto policies = ParsePolicySet(Slurp(root / policies_path), policies_path, popts);
    auto schema = ParseSchema(Slurp(root / schema_path), schema_path);
    ++t10.total;
    ++t13.total;
    if (!policies || !schema) {
      t10.mismatches.push_back(f + ": does not load");
      t13.mismatches.push_back(f + ": does not load");
      continue;
    }
    ValidationResult r10 = ValidatePolicies(*policies, *schema);
    ValidationOptions o13;
    o13.version = ValidatorVersion::kCedar4_13;
    ValidationResult r13 = ValidatePolicies(*policies, *schema, o13);
    bool r10_only_scope = !r10.ok();
    for (const auto& e : r10.errors) {
      r10_only_scope &= e.message.find("applicable action") != std::string::npos;
    }
    for (auto [t, r] : {std::pair<Tally*, const ValidationResult*>{&t10, &r10}, {&t13, &r13}}) {
      if (r->ok() == want) {
        ++t->agree;
        continue;
      }
      if (!want && r->ok() && r10_only_scope) ++t->unmatched_scope_only;
      std::string detail = f + ": expected " + (want ? "valid" : "invalid") + ", got";
      if (r->ok()) detail += " valid";
      for (const auto& e : r->errors) detail += " {" + e.ToString() + "}";
      t->mismatches.push_back(detail);
    }
  }
  return {t10, t13};
}

std::vector<std::string> CorpusFiles(const std::filesystem::path& root) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(root / "corpus-tests")) {
    std::string name = entry.path().filename().string();
    if (name.ends_with(".json") && !name.ends_with(".entities.json")) {
      files.push_back("corpus-tests/" + name);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

void Report(const Tally& t, const char* what) {
  std::cout << what << ": " << t.agree << "/" << t.total << " agree on shouldValidate\n";
  for (size_t i = 0; i < t.mismatches.size() && i < 25; ++i) std::cout << t.mismatches[i] << "\n";
}

TEST(CedarValidatorConformance, CorpusAgreesUnder4_10AndDiffersUnder4_13OnlyOnUnmatchedScopes) {
  ARBITER_REQUIRE_SHARED(archive, "conformance/cedar/corpus-tests.tar.gz");
  const char* dir = std::getenv("CEDAR_CORPUS_DIR");
  ASSERT_NE(dir, nullptr) << "CEDAR_CORPUS_DIR is not set (run through ctest)";
  std::filesystem::path root(dir);
  std::vector<std::string> files = CorpusFiles(root);
  ASSERT_EQ(files.size(), 6379u);
  auto [t10, t13] = RunTests(root, files);
  Report(t10, "corpus (Cedar 4.10)");
  EXPECT_EQ(t10.agree, t10.total);
  Report(t13, "corpus (Cedar 4.13)");
  // Every 4.13 disagreement is a test whose only 4.10 error is the unmatched scope; cedar-wasm
  // 4.13.0 disagrees with the corpus on the same 31 tests.
  EXPECT_EQ(t13.unmatched_scope_only, t13.total - t13.agree);
  EXPECT_EQ(t13.total - t13.agree, 31);
}

TEST(CedarValidatorConformance, HandWrittenAgree) {
  ARBITER_REQUIRE_SHARED(root, "conformance/cedar");
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root / "tests")) {
    if (entry.path().extension() == ".json") {
      files.push_back(std::filesystem::relative(entry.path(), root).string());
    }
  }
  std::sort(files.begin(), files.end());
  Tally t = RunTests(root, files).first;
  Report(t, "hand-written (Cedar 4.10)");
  EXPECT_EQ(t.total, 22);
  EXPECT_EQ(t.agree, t.total);
}

}  // namespace
}  // namespace arbiter::cedar
