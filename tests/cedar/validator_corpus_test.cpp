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

// Validates every test file under `root` listed in `files` and compares with `shouldValidate`.
Tally RunTests(const std::filesystem::path& root, const std::vector<std::string>& files,
               ValidatorVersion version) {
  Tally t;
  for (const std::string& f : files) {
    auto doc = ParseJson(Slurp(root / f));
    if (!doc || !doc->is_object()) {
      t.mismatches.push_back(f + ": unreadable test file");
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
    ++t.total;
    if (!policies || !schema) {
      t.mismatches.push_back(f + ": does not load");
      continue;
    }
    ValidationOptions vopts;
    vopts.version = version;
    ValidationResult r = ValidatePolicies(*policies, *schema, vopts);
    if (r.ok() == want) {
      ++t.agree;
      continue;
    }
    bool only_scope = !want && r.ok();
    if (only_scope) {
      ValidationOptions strict_opts;
      ValidationResult r10 = ValidatePolicies(*policies, *schema, strict_opts);
      only_scope = !r10.ok();
      for (const auto& e : r10.errors) {
        only_scope &= e.message.find("applicable action") != std::string::npos;
      }
    }
    if (only_scope) ++t.unmatched_scope_only;
    std::string detail = f + ": expected " + (want ? "valid" : "invalid") + ", got";
    if (r.ok()) detail += " valid";
    for (const auto& e : r.errors) detail += " {" + e.ToString() + "}";
    t.mismatches.push_back(detail);
  }
  return t;
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

TEST(CedarValidatorConformance, CorpusAgreesUnder4_10) {
  ARBITER_REQUIRE_SHARED(archive, "conformance/cedar/corpus-tests.tar.gz");
  const char* dir = std::getenv("CEDAR_CORPUS_DIR");
  ASSERT_NE(dir, nullptr) << "CEDAR_CORPUS_DIR is not set (run through ctest)";
  std::filesystem::path root(dir);
  std::vector<std::string> files = CorpusFiles(root);
  ASSERT_EQ(files.size(), 6379u);
  Tally t = RunTests(root, files, ValidatorVersion::kCedar4_10);
  Report(t, "corpus (Cedar 4.10)");
  EXPECT_EQ(t.agree, t.total);
}

TEST(CedarValidatorConformance, Corpus4_13DiffersOnlyOnUnmatchedScopes) {
  ARBITER_REQUIRE_SHARED(archive, "conformance/cedar/corpus-tests.tar.gz");
  const char* dir = std::getenv("CEDAR_CORPUS_DIR");
  ASSERT_NE(dir, nullptr) << "CEDAR_CORPUS_DIR is not set (run through ctest)";
  std::filesystem::path root(dir);
  Tally t = RunTests(root, CorpusFiles(root), ValidatorVersion::kCedar4_13);
  Report(t, "corpus (Cedar 4.13)");
  // Every disagreement is a test whose only 4.10 error is the unmatched scope.
  EXPECT_EQ(t.unmatched_scope_only, t.total - t.agree);
  EXPECT_EQ(t.total - t.agree, 31);  // cedar-wasm 4.13.0 disagrees with the corpus on the same 31
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
  Tally t = RunTests(root, files, ValidatorVersion::kCedar4_10);
  Report(t, "hand-written (Cedar 4.10)");
  EXPECT_EQ(t.total, 22);
  EXPECT_EQ(t.agree, t.total);
}

}  // namespace
}  // namespace arbiter::cedar
