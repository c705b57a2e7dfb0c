// One shard of the generated Cedar conformance corpus (../shared/conformance/cedar/
// corpus-tests.tar.gz, unpacked into the build folder by the cedar_corpus_unpack fixture). The
// shard is chosen by CEDAR_CORPUS_SHARD of CEDAR_CORPUS_SHARDS; every test of the shard must agree
// with the reference on decision, reason set and error set.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "arbiter/cedar/conformance.h"
#include "support/shared_data.h"

namespace arbiter::cedar {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

TEST(CedarCorpus, Shard) {
  ARBITER_REQUIRE_SHARED(archive, "conformance/cedar/corpus-tests.tar.gz");
  const char* dir = std::getenv("CEDAR_CORPUS_DIR");
  ASSERT_NE(dir, nullptr) << "CEDAR_CORPUS_DIR is not set (run through ctest)";
  std::filesystem::path root(dir);
  ASSERT_TRUE(std::filesystem::exists(root / "corpus-tests"))
      << "corpus not unpacked into " << root << " (the cedar_corpus_unpack fixture runs first)";
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(root / "corpus-tests")) {
    std::string name = entry.path().filename().string();
    if (name.size() > 5 && name.ends_with(".json") && !name.ends_with(".entities.json")) {
      files.push_back("corpus-tests/" + name);
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 6379u) << "unexpected corpus size";
  int shard = EnvInt("CEDAR_CORPUS_SHARD", 0);
  int shards = std::max(1, EnvInt("CEDAR_CORPUS_SHARDS", 1));
  size_t passed = 0, failed = 0, requests = 0;
  // Test files name their inputs relative to the corpus root.
  std::filesystem::current_path(root);
  for (size_t i = static_cast<size_t>(shard); i < files.size(); i += static_cast<size_t>(shards)) {
    ConformanceOutcome o = RunConformanceFile(files[i], root.string());
    requests += o.requests;
    if (o.passed) {
      ++passed;
    } else {
      ++failed;
      for (const std::string& m : o.mismatches) ADD_FAILURE() << m;
    }
  }
  std::cout << "shard " << shard << "/" << shards << ": " << passed << " passed, " << failed
            << " failed, " << requests << " requests\n";
  EXPECT_EQ(failed, 0u);
  EXPECT_GT(passed, 0u);
}

}  // namespace
}  // namespace arbiter::cedar
