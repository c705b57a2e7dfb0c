// `arbiter ledger ...` end to end: the executable's output and exit codes on a real data
// directory, on a tampered one, and on checkpoints of another log (the shared cosignature vector).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "arbiter/ledger/ledger.h"
#include "arbiter/store/sqlite.h"
#include "ledger/test_util.h"

extern char** environ;

namespace arbiter::ledger {
namespace {

using testing::TempDir;

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::filesystem::path& p, std::string_view text) {
  std::ofstream(p, std::ios::binary) << text;
}

class LedgerCliTest : public ::testing::Test {
 protected:
  CliResult Run(std::vector<std::string> args, const std::string& stdin_text = "") {
    const auto in = dir_.path() / "stdin";
    const auto out = dir_.path() / "stdout";
    const auto err = dir_.path() / "stderr";
    WriteFile(in, stdin_text);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    args.insert(args.begin(), {ARBITER_CLI, "ledger"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    CliResult r;
    if (posix_spawn(&pid, ARBITER_CLI, &actions, nullptr, argv.data(), environ) != 0) {
      ADD_FAILURE() << "cannot run " << ARBITER_CLI;
      return r;
    }
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(out);
    r.err = Slurp(err);
    return r;
  }

  std::string Data() const { return (dir_.path() / "ledger").string(); }
  std::string File(const std::string& name) const { return (dir_.path() / name).string(); }

  TempDir dir_;
};

TEST_F(LedgerCliTest, AppendCheckpointProveVerifyConsistency) {
  auto r = Run({"append", "--data", Data(), "--origin", "cli.test/log", "--wait", "-"},
               "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Run({"checkpoint", "--data", Data()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("cli.test/log\n3\n", 0), 0u) << r.out;
  WriteFile(File("old.note"), r.out);

  std::string many;
  for (int i = 0; i < 500; ++i) many += "{\"b\":" + std::to_string(i) + "}\n";
  ASSERT_EQ(
      Run({"append", "--data", Data(), "--origin", "cli.test/log", "--wait", "-"}, many).exit_code,
      0);
  r = Run({"checkpoint", "--data", Data()});
  WriteFile(File("new.note"), r.out);

  r = Run({"verify", "--data", Data()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("ok: 503 entries, 2 checkpoints", 0), 0u) << r.out;

  r = Run({"prove", "--data", Data(), "--index", "1", "--size", "3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = ParseJson(r.out);
  ASSERT_TRUE(doc.has_value()) << r.out;
  const auto& o = doc->as_object();
  EXPECT_EQ(o.at("tree_size").to_number<int>(), 3);
  std::vector<Hash> proof;
  for (const auto& h : o.at("proof").as_array()) {
    proof.push_back(*HashFromBytes(*Base64Decode(std::string(h.as_string()))));
  }
  const Hash root = *HashFromBytes(*Base64Decode(std::string(o.at("root").as_string())));
  EXPECT_TRUE(VerifyInclusion(LeafHash(AsBytes("{\"a\":2}")), 1, 3, proof, root).ok());

  r = Run({"consistency", "--data", Data(), "--old", File("old.note"), "--new", File("new.note")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("consistent: size 503 extends size 3"), std::string::npos) << r.out;

  const std::string vkey = *ReadVerifierKey(Data());
  r = Run({"verify-checkpoint", "--key", vkey, File("new.note")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("origin cli.test/log\nsize 503\nroot ", 0), 0u) << r.out;

  // Bad input: exit 1 with one lowercase line on stderr.
  r = Run({"prove", "--data", Data(), "--index", "503"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(Run({"verify", "--data", File("nothing-here")}).exit_code, 1);
  EXPECT_EQ(Run({"verify-checkpoint", "--key", "not a key", File("new.note")}).exit_code, 1);

  // A checkpoint of another log, or a forged one, does not verify: exit 2.
  auto other = *NoteSigner::Generate("cli.test/log");
  WriteFile(File("forged.note"), *other.Sign(*NoteText(Slurp(File("new.note")))));
  r = Run({"verify-checkpoint", "--key", vkey, File("forged.note")});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = Run(
      {"consistency", "--data", Data(), "--old", File("old.note"), "--new", File("forged.note")});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(LedgerCliTest, VerifyReportsTamperingByIndexWithExitTwo) {
  std::string lines;
  for (int i = 0; i < 40; ++i) lines += "{\"c\":" + std::to_string(i) + "}\n";
  ASSERT_EQ(
      Run({"append", "--data", Data(), "--origin", "cli.test/log", "--wait", "-"}, lines).exit_code,
      0);
  {
    auto db = std::move(*store::SqliteDb::Open(std::filesystem::path(Data()) / kLedgerDbFile));
    ASSERT_TRUE(db->Exec("DELETE FROM ledger_entries WHERE idx = 17").ok());
    ASSERT_TRUE(db->Exec("UPDATE ledger_entries SET data = X'7b7d' WHERE idx = 30").ok());
  }
  auto r = Run({"verify", "--data", Data()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("problem: entry 17 is missing"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("problem: entry 30 does not match the signed tree"), std::string::npos)
      << r.out;
  r = Run({"verify", "--data", Data(), "--json"});
  EXPECT_EQ(r.exit_code, 2);
  auto doc = ParseJson(r.out);
  ASSERT_TRUE(doc.has_value()) << r.out;
  EXPECT_FALSE(doc->as_object().at("ok").as_bool());
  EXPECT_EQ(doc->as_object().at("problems").as_array().at(0).at("kind").as_string(),
            "entry_missing");
}

TEST_F(LedgerCliTest, VerifiesAnotherLogsCosignedCheckpoint) {
  ARBITER_REQUIRE_SHARED(path, "vectors/signed-note-vectors.json");
  const auto doc = testing::LoadJson(path);
  const auto& cosig = doc.at("checkpoints").at("derived_cosignature_v1_ed25519");
  WriteFile(File("other.note"), testing::Str(cosig.at("note_with_cosignature")));
  auto r = Run({"verify-checkpoint", "--key", testing::Str(cosig.at("vkey_type_0x04")), "--json",
                File("other.note")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = ParseJson(r.out);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->as_object().at("origin").as_string(), "example.com/behind-the-sofa");
  EXPECT_EQ(out->as_object().at("size").to_number<std::uint64_t>(), 20852163u);
  EXPECT_EQ(out->as_object().at("verified_by").as_array().at(0).as_string(), "Wit1");
  // The log's own key line is unknown and ignored; with only an unrelated key nothing verifies.
  auto unrelated = *NoteSigner::Generate("example.com/behind-the-sofa");
  r = Run({"verify-checkpoint", "--key", unrelated.VerifierKey(), File("other.note")});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace arbiter::ledger
