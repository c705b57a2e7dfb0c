#include "arbiter/server/metrics.h"
#include "arbiter/server/process_metrics.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <ctime>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace arbiter::server {
namespace {

TEST(MetricsTest, RendersCountersGaugesAndHistogramsInTextFormat) {
  MetricsRegistry registry;
  auto requests = registry.AddCounter("app_requests_total", "Requests.", {"method", "code"});
  ASSERT_TRUE(requests.has_value());
  (*requests)->WithLabels({"GET", "200"}).Inc();
  (*requests)->WithLabels({"GET", "200"}).Inc(2);
  (*requests)->WithLabels({"POST", "400"}).Inc();
  auto size = registry.AddGauge("app_size", "Size.");
  ASSERT_TRUE(size.has_value());
  (*size)->WithLabels({}).Set(2.5);
  const double bounds[] = {0.1, 1};
  auto latency = registry.AddHistogram("app_latency_seconds", "Latency.", {"route"}, bounds);
  ASSERT_TRUE(latency.has_value());
  Histogram& h = (*latency)->WithLabels({"/x"});
  h.Observe(0.05);
  h.Observe(0.1);  // on the bound: counts in le="0.1"
  h.Observe(0.5);
  h.Observe(7);

  EXPECT_EQ(registry.Render(),
            "# HELP app_requests_total Requests.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "app_requests_total{method=\"POST\",code=\"400\"} 1\n"
            "# HELP app_size Size.\n"
            "# TYPE app_size gauge\n"
            "app_size 2.5\n"
            "# HELP app_latency_seconds Latency.\n"
            "# TYPE app_latency_seconds histogram\n"
            "app_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
            "app_latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
            "app_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
            "app_latency_seconds_sum{route=\"/x\"} 7.65\n"
            "app_latency_seconds_count{route=\"/x\"} 4\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  auto c = registry.AddCounter("x_total", "Line one\nback\\slash", {"v"});
  ASSERT_TRUE(c.has_value());
  (*c)->WithLabels({"a\"b\\c\nd"}).Inc();
  EXPECT_EQ(registry.Render(),
            "# HELP x_total Line one\\nback\\\\slash\n"
            "# TYPE x_total counter\n"
            "x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, RejectsBadNamesAndDuplicates) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.AddCounter("9bad", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("a-b", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("ok", "", {"le"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("ok", "", {"__x"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddCounter("ok", "", {"a", "a"}).status().code(),
            StatusCode::kInvalidArgument);
  const double bad_bounds[] = {1, 1};
  EXPECT_EQ(registry.AddHistogram("h", "", {}, bad_bounds).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(registry.AddCounter("ok", "").has_value());
  EXPECT_EQ(registry.AddGauge("ok", "").status().code(), StatusCode::kAlreadyExists);
}

TEST(MetricsTest, CollectorsRunBeforeRendering) {
  MetricsRegistry registry;
  auto g = registry.AddGauge("ledger_size", "Entries.");
  ASSERT_TRUE(g.has_value());
  int calls = 0;
  Gauge& gauge = (*g)->WithLabels({});
  registry.AddCollector([&] { gauge.Set(++calls * 10); });
  EXPECT_NE(registry.Render().find("ledger_size 10\n"), std::string::npos);
  EXPECT_NE(registry.Render().find("ledger_size 20\n"), std::string::npos);
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry registry;
  auto c = registry.AddCounter("hits_total", "", {"t"});
  auto h = registry.AddHistogram("lat", "", {});
  ASSERT_TRUE(c.has_value() && h.has_value());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        (*c)->WithLabels({t % 2 == 0 ? "even" : "odd"}).Inc();
        (*h)->WithLabels({}).Observe(0.001);
      }
    });
  }
  std::string mid = registry.Render();  // rendering while writers run must be safe
  for (auto& t : threads) t.join();
  EXPECT_EQ((*c)->WithLabels({"even"}).Value(), 2u * kPerThread);
  EXPECT_EQ((*c)->WithLabels({"odd"}).Value(), 2u * kPerThread);
  EXPECT_EQ((*h)->WithLabels({}).Count(), static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_FALSE(mid.empty());
}

// Every line of a rendering is a comment of the two known kinds or a valid sample line.
TEST(MetricsTest, EveryLineParsesAsExpositionFormat) {
  MetricsRegistry registry;
  auto c = registry.AddCounter("a_total", "A.", {"x", "y"});
  auto h = registry.AddHistogram("b_seconds", "B.", {"r"});
  ASSERT_TRUE(c.has_value() && h.has_value());
  (*c)->WithLabels({"1", "two words"}).Inc();
  (*h)->WithLabels({"/v1/{id}"}).Observe(0.003);
  const std::regex sample(
      R"re(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*")*\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$)re");
  const std::regex comment(R"re(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$)re");
  std::istringstream in(registry.Render());
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_TRUE(std::regex_match(line, sample) || std::regex_match(line, comment)) << line;
  }
  EXPECT_GT(lines, 20);
}

TEST(ProcessMetricsTest, ReadsThisProcessFiguresAndFollowsThem) {
  const ProcessStats before = ReadProcessStats();
  ASSERT_TRUE(before.resident_memory_bytes && before.virtual_memory_bytes && before.open_fds &&
              before.max_fds && before.threads && before.start_time_seconds);
  EXPECT_GT(*before.resident_memory_bytes, 1u << 20);
  EXPECT_GE(*before.virtual_memory_bytes, *before.resident_memory_bytes);
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(*before.max_fds, limit.rlim_cur);
  const double now = static_cast<double>(::time(nullptr));
  EXPECT_LE(*before.start_time_seconds, now + 1);
  EXPECT_GT(*before.start_time_seconds, now - 24 * 3600);

  // One more descriptor and one more thread show at the next reading.
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread extra([&] {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
  });
  const ProcessStats during = ReadProcessStats();
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  extra.join();
  ::close(fd);
  EXPECT_EQ(*during.open_fds, *before.open_fds + 1);
  EXPECT_EQ(*during.threads, *before.threads + 1);
}

TEST(ProcessMetricsTest, RendersUnderThePrometheusClientNames) {
  MetricsRegistry registry;
  ASSERT_TRUE(AddProcessMetrics(registry).ok());
  const std::string text = registry.Render();
  for (const char* name :
       {"process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
        "process_max_fds", "process_threads", "process_start_time_seconds"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " gauge\n"), std::string::npos) << name;
    const std::regex sample("(^|\n)" + std::string(name) + " [0-9.e+]+\n");
    EXPECT_TRUE(std::regex_search(text, sample)) << name << " has no value in:\n" << text;
  }
  EXPECT_EQ(AddProcessMetrics(registry).code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace arbiter::server
