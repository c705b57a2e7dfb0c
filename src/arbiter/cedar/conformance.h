// Runs test files in the cedar-integration-tests format the way the official harness does:
// policies numbered policy0.. in file order, entities and context parsed with the schema (schema
// actions added), requests validated when `validateRequest` is set, and decision, reason set and
// error-id set compared.
//
//   ConformanceOutcome o = RunConformanceFile("tests/decimal/1.json", "/path/to/cedar-tests");
//   for (const std::string& m : o.mismatches) std::cout << m << "\n";
#pragma once

#include <string>
#include <vector>

namespace arbiter::cedar {

struct ConformanceOutcome {
  bool passed = false;
  // One line per disagreeing request (or one line for a test that could not be loaded).
  std::vector<std::string> mismatches;
  size_t requests = 0;
  // Whether the test expects the policies to validate (not checked yet: the validator is a separate
  // component).
  bool should_validate = false;
};

// `root` resolves the relative paths inside the test file (policies, entities, schema); empty means
// the current directory.
ConformanceOutcome RunConformanceFile(const std::string& test_path, const std::string& root);

}  // namespace arbiter::cedar
