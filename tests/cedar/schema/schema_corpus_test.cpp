// Schema translation over the conformance corpus (unpacked by the cedar_corpus_unpack fixture):
//  - every corpus schema round-trips human → JSON → human and JSON → human → JSON to the same
//    resolved schema, the second translations are fixed points, and the corpus policies validate
//    the same against the JSON schema as against the human one;
//  - against @cedar-policy/cedar-wasm (CEDAR_WASM_NPM_DIR, installed by the cedar_wasm fixture):
//    its schemaToJson output loads with our JSON parser to the same resolved schema as ours, it
//    reads our JSON and its schemaToText of it loads to the same schema, and its validation of
//    the corpus policies gives the same errors with our JSON schema as with the human schema.
// ctest checks a sample (the strides are below); CEDAR_SCHEMA_STRIDE=1 checks every corpus schema
// in every way (the full run, docs/CEDAR.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/cedar/schema_json.h"
#include "arbiter/cedar/validator.h"
#include "arbiter/common/json.h"
#include "schema/schema_dump.h"

namespace arbiter::cedar {
namespace {

namespace fs = std::filesystem;
using schema_testing::DumpSchema;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Dump(const Result<Schema>& s) {
  return s ? DumpSchema(*s) : "error: " + s.error().message();
}

// The corpus folder and its schema base names (sorted), or skip.
std::vector<std::string> CorpusBases(fs::path* dir) {
  const char* root = std::getenv("CEDAR_CORPUS_DIR");
  if (!root || !fs::is_directory(fs::path(root) / "corpus-tests")) return {};
  *dir = fs::path(root) / "corpus-tests";
  std::vector<std::string> bases;
  for (const auto& e : fs::directory_iterator(*dir)) {
    if (e.path().extension() == ".cedarschema") bases.push_back(e.path().stem().string());
  }
  std::sort(bases.begin(), bases.end());
  return bases;
}

std::string Errors(const ValidationResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.ToString() + "\n";
  return out;
}

TEST(CedarSchemaCorpus, RoundTripsAndValidatesTheSame) {
  fs::path dir;
  auto bases = CorpusBases(&dir);
  if (bases.empty()) GTEST_SKIP() << "corpus not unpacked (CEDAR_CORPUS_DIR)";
  auto start = std::chrono::steady_clock::now();
  // Round trips: every schema (every 4th under AddressSanitizer, which is ~4x slower). Fixed
  // points and validation: every 4th. CEDAR_SCHEMA_STRIDE=1: everything.
#if defined(__SANITIZE_ADDRESS__)
  int round_trip_stride = 4;
#else
  int round_trip_stride = 1;
#endif
  int validate_stride = 4;
  if (const char* s = std::getenv("CEDAR_SCHEMA_STRIDE")) {
    validate_stride = round_trip_stride = std::max(1, std::atoi(s));
  }
  // CEDAR_SCHEMA_SHARD / CEDAR_SCHEMA_SHARDS split the work between ctest tests.
  int shard = 0, shards = 1;
  if (const char* s = std::getenv("CEDAR_SCHEMA_SHARDS")) shards = std::max(1, std::atoi(s));
  if (const char* s = std::getenv("CEDAR_SCHEMA_SHARD")) shard = std::atoi(s);
  int checked = 0, failures = 0, validated = 0, index = -1, expected = 0;
  for (const std::string& b : bases) {
    if (++index % round_trip_stride != 0) continue;
    if ((index / round_trip_stride) % shards != shard) continue;
    std::string human = Slurp(dir / (b + ".cedarschema"));
    auto schema = ParseCedarSchema(human, b);
    ASSERT_TRUE(schema.has_value()) << b << ": " << schema.error().message();
    std::string want = DumpSchema(*schema);
    auto json = CedarSchemaToJson(human, b);
    ASSERT_TRUE(json.has_value()) << b << ": " << json.error().message();
    auto from_json = ParseJsonSchema(*json, b + ".json");
    auto back = JsonSchemaToCedar(*json, b + ".json");
    if (!back) {
      if (++failures <= 5) ADD_FAILURE() << b << ": " << back.error().message();
      continue;
    }
    bool ok = Dump(from_json) == want && Dump(ParseCedarSchema(*back, b)) == want;
    if (ok && checked % validate_stride == 0) {
      // The second translations are fixed points.
      auto json2 = CedarSchemaToJson(*back, b);
      ok = json2 && *json2 == *json && *JsonSchemaToCedar(*json2) == *back;
    }
    if (ok && checked % validate_stride == 0) {
      ++validated;
      PolicySetOptions popts;
      popts.file_order_ids = true;
      auto policies = ParsePolicySet(Slurp(dir / (b + ".cedar")), b, popts);
      if (policies) {
        ok = Errors(ValidatePolicies(*policies, *schema)) ==
             Errors(ValidatePolicies(*policies, *from_json));
      }
    }
    if (!ok && ++failures <= 5) ADD_FAILURE() << b << ": round trip differs\n" << *json;
    ++checked;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d corpus schemas round-tripped, %d differ; %d validated the same (%.1f s)\n",
              checked, failures, validated, secs);
  EXPECT_EQ(failures, 0);
  for (int i = 0; i < static_cast<int>(bases.size()); i += round_trip_stride) {
    expected += (i / round_trip_stride) % shards == shard;
  }
  EXPECT_EQ(bases.size(), 6379u);
  EXPECT_EQ(checked, expected);
}

TEST(CedarSchemaCorpus, AgreesWithCedarWasm) {
  fs::path dir;
  auto bases = CorpusBases(&dir);
  if (bases.empty()) GTEST_SKIP() << "corpus not unpacked (CEDAR_CORPUS_DIR)";
  const char* npm = std::getenv("CEDAR_WASM_NPM_DIR");
  const char* script = std::getenv("CEDAR_WASM_SCHEMA_JS");
  const char* node = std::getenv("ARBITER_NODE");
  ASSERT_TRUE(npm && script && node) << "CEDAR_WASM_NPM_DIR, CEDAR_WASM_SCHEMA_JS, ARBITER_NODE";
  ASSERT_TRUE(fs::exists(fs::path(npm) / "node_modules/@cedar-policy/cedar-wasm"))
      << "cedar-wasm is not installed in " << npm << " (the cedar_wasm fixture installs it)";
  size_t stride = 16;
  if (const char* s = std::getenv("CEDAR_SCHEMA_STRIDE")) stride = std::max(1, std::atoi(s));

  // Our JSON for each sampled schema, next to copies of the schema and policies.
  fs::path work = fs::temp_directory_path() / ("arbiter-schema-wasm-" + std::to_string(getpid()));
  fs::create_directories(work);
  std::vector<std::string> sampled;
  for (size_t i = 0; i < bases.size(); i += stride) {
    const std::string& b = bases[i];
    std::string human = Slurp(dir / (b + ".cedarschema"));
    auto json = CedarSchemaToJson(human, b);
    ASSERT_TRUE(json.has_value()) << b << ": " << json.error().message();
    std::ofstream(work / (b + ".cedarschema")) << human;
    std::ofstream(work / (b + ".ours.json")) << *json;
    std::ofstream(work / (b + ".cedar")) << Slurp(dir / (b + ".cedar"));
    sampled.push_back(b);
  }
  // One node process per 500 schemas: cedar-wasm's memory grows over a long run until it traps.
  constexpr size_t kBatch = 500;
  for (size_t first = 0; first < sampled.size(); first += kBatch) {
    fs::path list = work / ("list" + std::to_string(first) + ".txt");
    {
      std::ofstream l(list);
      for (size_t i = first; i < std::min(sampled.size(), first + kBatch); ++i) {
        l << sampled[i] << "\n";
      }
    }
    std::string cmd = std::string(node) + " " + script + " --npm-dir " + npm + " --dir " +
                      work.string() + " --list " + list.string() + " >> " +
                      (work / "out.jsonl").string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

  int lines = 0, json_same = 0, text_same = 0, validation_same = 0, failures = 0;
  std::istringstream out(Slurp(work / "out.jsonl"));
  for (std::string line; std::getline(out, line);) {
    auto doc = ParseJson(line);
    ASSERT_TRUE(doc.has_value()) << line;
    const auto& o = doc->as_object();
    std::string b(o.at("base").as_string());
    ++lines;
    std::string want = Dump(ParseCedarSchema(Slurp(dir / (b + ".cedarschema")), b));
    auto report = [&](const std::string& what) {
      if (++failures <= 5) ADD_FAILURE() << b << ": " << what << "\n" << line;
    };
    // 1. cedar-wasm's human → JSON, read by our JSON parser.
    if (const auto* j = o.if_contains("wasmJson")) {
      if (Dump(ParseJsonSchema(ToJson(*j), b + ".wasm.json")) == want) {
        ++json_same;
      } else {
        report("cedar-wasm's JSON loads differently");
      }
    } else {
      report("cedar-wasm rejects the schema");
    }
    // 2. Our human → JSON, read by cedar-wasm and written back as text.
    if (const auto* t = o.if_contains("textFromOurs")) {
      if (Dump(ParseCedarSchema(std::string(t->as_string()), b + ".wasm.cedarschema")) == want) {
        ++text_same;
      } else {
        report("cedar-wasm's text of our JSON loads differently");
      }
    } else {
      report("cedar-wasm rejects our JSON");
    }
    // 3. cedar-wasm validates the policies the same against our JSON and the human schema.
    if (o.contains("validHuman")) {
      if (ToJson(o.at("validHuman")) == ToJson(o.at("validJson"))) {
        ++validation_same;
      } else {
        report("cedar-wasm validates differently with our JSON");
      }
    }
  }
  std::printf(
      "cedar-wasm: %d schemas; its JSON loads the same: %d; our JSON reads back the same: %d; "
      "validation the same: %d\n",
      lines, json_same, text_same, validation_same);
  EXPECT_EQ(lines, static_cast<int>(sampled.size()));
  EXPECT_EQ(failures, 0);
  fs::remove_all(work);
}

}  // namespace
}  // namespace arbiter::cedar
