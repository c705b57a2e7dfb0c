// The assembled service (App) and the `arbiter serve` command, over real HTTP.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include "arbiter/server/app.h"
#include "arbiter/server/config.h"
#include "support/shared_data.h"
#include "test_client.h"

extern char** environ;

namespace arbiter::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Fetch;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "arbiter_server_test_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

ServeConfig TestConfig(const std::string& data) {
  ServeConfig c;
  c.server.listen = "127.0.0.1:0";
  c.server.threads = 2;
  c.data_dir = data;
  c.access_log = "off";
  return c;
}

std::uint16_t PortOf(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

TEST(AppTest, CreatesThePrivateAdminCredentialOnceAndKeepsIt) {
  TempDir dir;
  std::string data = dir.path() + "/data";
  std::string token;
  {
    auto app = App::Start(TestConfig(data));
    ASSERT_TRUE(app.has_value()) << app.error().ToString();
    EXPECT_EQ((*app)->data_dir(), data);
    EXPECT_EQ((*app)->admin_token_path(), data + "/admin.token");
    struct stat st {};
    ASSERT_EQ(::stat((*app)->admin_token_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    token = ReadFile((*app)->admin_token_path());
    EXPECT_GE(token.size(), 40u);
    auto r = Fetch(PortOf((*app)->address()), "GET", "/healthz");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  auto again = App::Start(TestConfig(data));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ReadFile((*again)->admin_token_path()), token);
}

TEST(AppTest, ServesHealthReadinessAndMetrics) {
  TempDir dir;
  auto app = App::Start(TestConfig(dir.path()));
  ASSERT_TRUE(app.has_value());
  std::uint16_t port = PortOf((*app)->address());
  EXPECT_EQ(Fetch(port, "GET", "/readyz")->status, 200);
  auto metrics = Fetch(port, "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("# TYPE arbiter_http_requests_total counter"), std::string::npos);
  auto routes = (*app)->ServedRoutes();
  EXPECT_NE(std::find(routes.begin(), routes.end(), "GET /healthz"), routes.end());
}

TEST(AppTest, FailsClearlyWhenTheDataDirectoryIsAFile) {
  TempDir dir;
  std::string file = dir.path() + "/not-a-dir";
  std::ofstream(file) << "x";
  auto app = App::Start(TestConfig(file));
  ASSERT_FALSE(app.has_value());
  EXPECT_NE(app.error().message().find("not-a-dir"), std::string::npos) << app.error().message();
}

TEST(ServeConfigTest, ParsesEveryKey) {
  auto c = ParseServeConfig(R"(
listen = "127.0.0.1:9000"
data = "d"
pack = "/abs/pack"
threads = 3
access_log = "off"
evidence_ack = "written"
evidence_sync_interval_ms = 50
auth_cache_ttl_ms = 0
single_use = "store"
single_use_slots = 4096
single_use_sync = true
intent_records = "sync"
[limits]
max_body_bytes = 2048
max_header_bytes = 4096
max_json_depth = 10
max_connections = 5
header_timeout_ms = 1
body_timeout_ms = 2
idle_timeout_ms = 3
write_timeout_ms = 4
shutdown_grace_ms = 5
)",
                            "a.toml", "/etc/arbiter");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->server.listen, "127.0.0.1:9000");
  EXPECT_EQ(c->data_dir, "/etc/arbiter/d");
  EXPECT_EQ(c->pack_dir, "/abs/pack");
  EXPECT_EQ(c->server.threads, 3);
  EXPECT_EQ(c->access_log, "off");
  EXPECT_EQ(c->evidence_ack, EvidenceAck::kWritten);
  EXPECT_EQ(c->evidence_sync_interval, 50ms);
  EXPECT_EQ(c->auth_cache_ttl, 0ms);
  EXPECT_EQ(c->single_use.backend, grants::SingleUseBackend::kStore);
  EXPECT_EQ(c->single_use.slots, 4096u);
  EXPECT_TRUE(c->single_use.sync_each_use);
  EXPECT_FALSE(c->defer_intent_records);
  EXPECT_TRUE(ParseServeConfig("", "a.toml")->defer_intent_records);
  EXPECT_EQ(ParseServeConfig("", "a.toml")->single_use.backend,
            grants::SingleUseBackend::kMappedFile);
  EXPECT_EQ(ParseServeConfig("", "a.toml")->evidence_ack, EvidenceAck::kFsync);
  EXPECT_EQ(c->server.limits.max_body_bytes, 2048u);
  EXPECT_EQ(c->server.limits.max_header_bytes, 4096u);
  EXPECT_EQ(c->max_json_depth, 10u);
  EXPECT_EQ(c->server.limits.max_connections, 5u);
  EXPECT_EQ(c->server.limits.header_timeout, 1ms);
  EXPECT_EQ(c->server.limits.body_timeout, 2ms);
  EXPECT_EQ(c->server.limits.idle_timeout, 3ms);
  EXPECT_EQ(c->server.limits.write_timeout, 4ms);
  EXPECT_EQ(c->server.shutdown_grace, 5ms);
}

TEST(ServeConfigTest, ReportsErrorsWithLocations) {
  struct Case {
    std::string text;
    std::string error;
  };
  std::vector<Case> cases = {
      {"lisen = \"x\"\n", "a.toml:1:1: unknown key `lisen`"},
      {"evidence_ack = \"async\"\n",
       "a.toml:1:16: `evidence_ack` must be `fsync` or `written`, not `async`"},
      {"evidence_sync_interval_ms = 0\n",
       "a.toml:1:29: `evidence_sync_interval_ms` must be between 1 and 10000"},
      {"threads = \"two\"\n", "a.toml:1:11: `threads` expected an integer"},
      {"single_use = \"redis\"\n",
       "a.toml:1:14: `single_use` must be `mmap` or `store`, not `redis`"},
      {"single_use_sync = 1\n", "a.toml:1:19: `single_use_sync` expected true or false"},
      {"intent_records = \"later\"\n",
       "a.toml:1:18: `intent_records` must be `deferred` or `sync`, not `later`"},
      {"[limits]\nmax_connections = 0\n",
       "a.toml:2:19: `max_connections` must be between 1 and 1000000"},
      {"[limits]\nbogus = 1\n", "a.toml:2:1: unknown key `limits.bogus`"},
      {"listen = \"nowhere\"\n", "listen: `nowhere` is not `host:port`"},
      {"listen = \n", "a.toml:1:"},
  };
  for (const auto& c : cases) {
    auto r = ParseServeConfig(c.text, "a.toml");
    ASSERT_FALSE(r.has_value()) << c.text;
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().message().rfind(c.error, 0), 0u) << r.error().message();
  }
}

// `arbiter serve` as users run it: prints where it listens, serves, stops on SIGTERM with exit 0.
class ServeCommandTest : public ::testing::Test {
 protected:
  std::string Binary() {
    return (arbiter::testing::BuildDir() / "src/arbiter/cli/arbiter").string();
  }

  // Starts `arbiter serve ...`; returns the pid and fills `stdout_fd`.
  pid_t Spawn(std::vector<std::string> args, int& stdout_fd) {
    int pipe_fds[2];
    EXPECT_EQ(::pipe(pipe_fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    std::vector<char*> argv;
    std::string bin = Binary();
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    EXPECT_EQ(rc, 0) << "cannot run " << bin;
    stdout_fd = pipe_fds[0];
    return pid;
  }

  static std::string ReadLine(int fd, std::chrono::milliseconds timeout) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c;
      if (::read(fd, &c, 1) != 1) break;
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  static int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
};

TEST_F(ServeCommandTest, PrintsItsAddressServesAndStopsOnSigterm) {
  TempDir dir;
  int out = -1;
  pid_t pid = Spawn({"serve", "--listen", "127.0.0.1:0", "--data", dir.path() + "/d",
                     "--access-log", "off", "--json"},
                    out);
  ASSERT_GT(pid, 0);
  std::string line = ReadLine(out, 20s);
  ASSERT_FALSE(line.empty()) << "no startup line from arbiter serve";
  auto summary = boost::json::parse(line).as_object();
  std::string address(summary.at("listen").as_string());
  EXPECT_EQ(summary.at("data").as_string(), dir.path() + "/d");
  EXPECT_EQ(summary.at("admin_token_file").as_string(), dir.path() + "/d/admin.token");
  auto r = Fetch(PortOf(address), "GET", "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid, 10s), 0);
  ::close(out);
}

// `--evidence-ack written`: a case acknowledged before the server is killed with SIGKILL is there
// after a restart, with its evidence in the ledger (the write-ahead log survives the process).
TEST_F(ServeCommandTest, WrittenAcknowledgementSurvivesKillNine) {
  TempDir dir;
  const std::string data = dir.path() + "/d";
  const std::string pack = (arbiter::testing::SourceDir() / "examples/support").string();
  auto start = [&](int& out) {
    pid_t pid = Spawn({"serve", "--listen", "127.0.0.1:0", "--data", data, "--pack", pack,
                       "--access-log", "off", "--evidence-ack", "written", "--json"},
                      out);
    std::string line = ReadLine(out, 20s);
    EXPECT_FALSE(line.empty()) << "no startup line from arbiter serve";
    auto summary = boost::json::parse(line.empty() ? "{}" : line).as_object();
    EXPECT_EQ(summary.contains("evidence_ack") ? std::string(summary.at("evidence_ack").as_string())
                                               : std::string(),
              "written");
    std::string address =
        summary.contains("listen") ? std::string(summary.at("listen").as_string()) : ":0";
    return std::make_pair(pid, PortOf(address));
  };
  int out = -1;
  auto [pid, port] = start(out);
  ASSERT_GT(pid, 0);
  const std::string auth = "Authorization: Bearer " + ReadFile(data + "/admin.token") + "\r\n";
  std::vector<std::uint64_t> indices;
  for (int i = 0; i < 20; ++i) {
    std::string body = R"({"id":"K-)" + std::to_string(i) +
                       R"(","source":"native","subject":"Where is my order?","body":"late",)"
                       R"("customer":{"id":"c1","tier":"standard"},"language":"en",)"
                       R"("priority":"low","severity":4,"category":"shipping","channel":"web",)"
                       R"("ai":{"confidence":0.89}})";
    auto r = Fetch(port, "POST", "/v1/cases", body, auth);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
    indices.push_back(boost::json::parse(r->body).at("evidence_index").to_number<std::uint64_t>());
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);  // at once: no drain, no final checkpoint
  EXPECT_EQ(WaitExit(pid, 10s), 128 + SIGKILL);
  ::close(out);

  auto [pid2, port2] = start(out);
  ASSERT_GT(pid2, 0);
  for (int i = 0; i < 20; ++i) {
    auto c = Fetch(port2, "GET", "/v1/cases/K-" + std::to_string(i), {}, auth);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status, 200) << "K-" << i << ": " << c->body;
    auto e = Fetch(port2, "GET", "/v1/ledger/entries/" + std::to_string(indices[i]));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 200) << "evidence " << indices[i] << ": " << e->body;
  }
  ASSERT_EQ(::kill(pid2, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid2, 10s), 0);
  ::close(out);
}

// Group commit of case rows (the default `fsync` acknowledgement): many cases acknowledged by
// concurrent clients, the server killed with SIGKILL at once, and after a restart every
// acknowledged case is there with its evidence.
TEST_F(ServeCommandTest, ConcurrentlyAcknowledgedCasesSurviveKillNine) {
  TempDir dir;
  const std::string data = dir.path() + "/d";
  const std::string pack = (arbiter::testing::SourceDir() / "examples/support").string();
  auto start = [&](int& out) {
    pid_t pid = Spawn({"serve", "--listen", "127.0.0.1:0", "--data", data, "--pack", pack,
                       "--access-log", "off", "--json"},
                      out);
    std::string line = ReadLine(out, 20s);
    EXPECT_FALSE(line.empty()) << "no startup line from arbiter serve";
    auto summary = boost::json::parse(line.empty() ? "{}" : line).as_object();
    std::string address =
        summary.contains("listen") ? std::string(summary.at("listen").as_string()) : ":0";
    return std::make_pair(pid, PortOf(address));
  };
  int out = -1;
  auto [pid, port] = start(out);
  ASSERT_GT(pid, 0);
  const std::string auth = "Authorization: Bearer " + ReadFile(data + "/admin.token") + "\r\n";
  constexpr int kClients = 8;
  constexpr int kPerClient = 15;
  std::vector<std::vector<std::pair<std::string, std::uint64_t>>> acked(kClients);
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t, port = port] {
      for (int i = 0; i < kPerClient; ++i) {
        const std::string id = "KC-" + std::to_string(t) + "-" + std::to_string(i);
        std::string body = R"({"id":")" + id +
                           R"(","source":"native","subject":"Where is my order?","body":"late",)"
                           R"("customer":{"id":"c1","tier":"standard"},"language":"en",)"
                           R"("priority":"low","severity":4,"category":"shipping",)"
                           R"("channel":"web","ai":{"confidence":0.89}})";
        auto r = Fetch(port, "POST", "/v1/cases", body, auth);
        if (!r || r->status != 201) {
          ADD_FAILURE() << id << ": " << (r ? r->body : std::string("no response"));
          return;
        }
        acked[t].emplace_back(
            id, boost::json::parse(r->body).at("evidence_index").to_number<std::uint64_t>());
      }
    });
  }
  for (auto& c : clients) c.join();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);  // at once: no drain, no final commit
  EXPECT_EQ(WaitExit(pid, 10s), 128 + SIGKILL);
  ::close(out);

  auto [pid2, port2] = start(out);
  ASSERT_GT(pid2, 0);
  size_t checked = 0;
  for (const auto& list : acked) {
    for (const auto& [id, index] : list) {
      auto c = Fetch(port2, "GET", "/v1/cases/" + id, {}, auth);
      ASSERT_TRUE(c);
      EXPECT_EQ(c->status, 200) << id << ": " << c->body;
      auto e = Fetch(port2, "GET", "/v1/ledger/entries/" + std::to_string(index));
      ASSERT_TRUE(e);
      EXPECT_EQ(e->status, 200) << "evidence " << index << ": " << e->body;
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<size_t>(kClients * kPerClient));
  ASSERT_EQ(::kill(pid2, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid2, 10s), 0);
  ::close(out);
}

TEST_F(ServeCommandTest, ExitsWithOneOnABadListenAddress) {
  TempDir dir;
  int out = -1;
  pid_t pid = Spawn({"serve", "--listen", "nowhere", "--data", dir.path()}, out);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(WaitExit(pid, 10s), 1);
  ::close(out);
}

}  // namespace
}  // namespace arbiter::server
