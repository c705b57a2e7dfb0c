// The 22 hand-written tests of the official Cedar integration suite
// (../shared/conformance/cedar/tests), run the way the official harness runs them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "arbiter/cedar/conformance.h"
#include "support/shared_data.h"

namespace arbiter::cedar {
namespace {

TEST(CedarConformance, HandWrittenTests) {
  ARBITER_REQUIRE_SHARED(root, "conformance/cedar");
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root / "tests")) {
    if (entry.path().extension() == ".json") {
      files.push_back(std::filesystem::relative(entry.path(), root).string());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 22u);
  size_t requests = 0;
  for (const std::string& f : files) {
    ConformanceOutcome o = RunConformanceFile((root / f).string(), root.string());
    requests += o.requests;
    EXPECT_TRUE(o.passed) << f;
    for (const std::string& m : o.mismatches) ADD_FAILURE() << m;
  }
  EXPECT_GT(requests, 22u);
}

TEST(CedarConformance, MismatchIsReported) {
  // A test whose expectation is wrong must fail, naming the request.
  std::filesystem::path dir = testing::BuildDir() / "cedar-conformance-selftest";
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
  };
  write("p.cedar", "permit(principal, action, resource);");
  write("s.cedarschema", "entity U; action a appliesTo { principal: U, resource: U };");
  write("e.json", "[]");
  write("t.json", R"({"policies":"p.cedar","entities":"e.json","schema":"s.cedarschema",
    "shouldValidate":true,"requests":[{"description":"wrong","principal":{"type":"U","id":"x"},
    "action":{"type":"Action","id":"a"},"resource":{"type":"U","id":"y"},"context":{},
    "validateRequest":true,"decision":"deny","reason":[],"errors":[]}]})");
  ConformanceOutcome o = RunConformanceFile((dir / "t.json").string(), dir.string());
  EXPECT_FALSE(o.passed);
  ASSERT_EQ(o.mismatches.size(), 1u);
  EXPECT_NE(o.mismatches[0].find("`wrong`"), std::string::npos) << o.mismatches[0];
}

}  // namespace
}  // namespace arbiter::cedar
