// Access to ../shared (conformance suites, vectors, data) for tests. The location comes from one
// setting, the CMake cache variable ARBITER_SHARED_DIR (default `<source>/../shared`), compiled
// into the tests; an environment variable of the same name overrides it at run time. A user's fresh
// clone has no ../shared: tests then skip with a message.
//
//   TEST(Merkle, Vectors) {
//     ARBITER_REQUIRE_SHARED(path, "vectors/merkle-vectors.json");
//     ... read `path` ...
//   }
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>

namespace arbiter::testing {

// The shared directory, or nullopt when the setting is unset or names no directory.
std::optional<std::filesystem::path> SharedDir();

// `relative` under the shared directory, or nullopt when it does not exist.
std::optional<std::filesystem::path> SharedPath(const std::string& relative);

// The whole file as a string (empty on failure; tests check existence first).
std::string ReadFile(const std::filesystem::path& path);

// The build directory (ARBITER_BUILD_DIR, default the CMake binary dir), for tests that unpack or
// install things at test time.
std::filesystem::path BuildDir();

// The source directory (ARBITER_SOURCE_DIR, default the CMake source dir).
std::filesystem::path SourceDir();

}  // namespace arbiter::testing

// Declares `var` as the std::filesystem::path of `relative` under the shared directory, or skips
// the current test with a message saying what is missing and how to provide it.
#define ARBITER_REQUIRE_SHARED(var, relative)                                                     \
  auto var##_opt = ::arbiter::testing::SharedPath(relative);                                      \
  if (!var##_opt) {                                                                               \
    GTEST_SKIP() << "shared test data `" << (relative)                                            \
                 << "` not found; set ARBITER_SHARED_DIR to the shared/ folder to run this test"; \
  }                                                                                               \
  const std::filesystem::path var = *var##_opt
