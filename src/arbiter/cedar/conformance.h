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

#include "arbiter/cedar/validator.h"

namespace arbiter::cedar {

struct ConformanceOutcome {
  bool passed = false;
  // One line per disagreeing request (or one line for a test that could not be loaded).
  std::vector<std::string> mismatches;
  size_t requests = 0;
  // Whether the test expects the policies to validate, and whether they did (when checked).
  bool should_validate = false;
  bool validates = false;
};

struct ConformanceOptions {
  // Check `shouldValidate` with the strict validator: a test passes only when validation agrees.
  bool check_validation = true;
  // The corpus follows Cedar 4.10. Under kCedar4_13 (an unmatched scope is only a warning) 31
  // corpus tests marked `shouldValidate: false` validate, and so fail: the difference is explicit.
  ValidatorVersion validator_version = ValidatorVersion::kCedar4_10;
};

// `root` resolves the relative paths inside the test file (policies, entities, schema); empty means
// the current directory.
ConformanceOutcome RunConformanceFile(const std::string& test_path, const std::string& root,
                                      const ConformanceOptions& options = {});

}  // namespace arbiter::cedar
