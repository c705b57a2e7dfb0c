// Helpers for routing tests: the example pack's location and small in-memory packs.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/routing/bundle.h"
#include "arbiter/routing/signals.h"
#include "arbiter/sources/case.h"

namespace arbiter::routing::testing {

// examples/support in the source tree (ARBITER_SOURCE_DIR, else the current directory's).
std::filesystem::path ExamplePackDir();
PackSources ExamplePackSources();

// The case a JSON text describes; a text that does not parse or convert fails the calling test
// (and gives an empty case).
sources::Case MakeCase(std::string_view json);

// One line of the example pack's tests/cases.jsonl: the case and the signals it gives.
struct SampleCase {
  sources::Case c;
  ComputedSignals signals;
};
// Every sample case, in file order. A line that does not parse fails the calling test.
std::vector<SampleCase> ExampleSampleCases();

// Replaces the first occurrence of `from` in `text` (which must contain it).
std::string Replace(std::string text, std::string_view from, std::string_view to);

// A minimal valid pack: one AI permit, one escalation, one queue pair. Tweak the fields.
PackSources TinyPack();

// A fresh, empty temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes a pack's files here.
  void WritePack(const PackSources& sources) const;

 private:
  std::filesystem::path path_;
};

}  // namespace arbiter::routing::testing
