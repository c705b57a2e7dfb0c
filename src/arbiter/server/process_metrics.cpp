#include "arbiter/server/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace arbiter::server {
namespace {

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<std::uint64_t> ParseU64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The fields of /proc/self/stat after the command name (which is in parentheses and may itself
// hold spaces and parentheses): field 3 (state) is element 0.
std::vector<std::string_view> StatFields(std::string_view stat) {
  std::vector<std::string_view> fields;
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return fields;
  stat.remove_prefix(close + 1);
  while (!stat.empty()) {
    const size_t start = stat.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    stat.remove_prefix(start);
    const size_t end = std::min(stat.find_first_of(" \n"), stat.size());
    fields.push_back(stat.substr(0, end));
    stat.remove_prefix(end);
  }
  return fields;
}

// Seconds since the epoch at which the machine booted (/proc/stat `btime`).
std::optional<std::uint64_t> BootTime() {
  std::istringstream in(ReadSmallFile("/proc/stat"));
  std::string key;
  std::uint64_t value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

void SetIfKnown(GaugeFamily* family, std::optional<double> value) {
  if (value) family->WithLabels({}).Set(*value);
}

std::optional<double> AsDouble(std::optional<std::uint64_t> v) {
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats out;
  const std::string stat = ReadSmallFile("/proc/self/stat");
  const std::vector<std::string_view> f = StatFields(stat);
  // proc(5): num_threads is field 20, starttime 22 (clock ticks after boot), vsize 23 (bytes),
  // rss 24 (pages); element i holds field i + 3.
  if (f.size() > 21) {
    const long page = ::sysconf(_SC_PAGESIZE);
    const long ticks = ::sysconf(_SC_CLK_TCK);
    out.threads = ParseU64(f[17]);
    out.virtual_memory_bytes = ParseU64(f[20]);
    if (auto pages = ParseU64(f[21]); pages && page > 0) {
      out.resident_memory_bytes = *pages * static_cast<std::uint64_t>(page);
    }
    auto boot = BootTime();
    if (auto start = ParseU64(f[19]); start && boot && ticks > 0) {
      out.start_time_seconds =
          static_cast<double>(*boot) + static_cast<double>(*start) / static_cast<double>(ticks);
    }
  }
  std::error_code ec;
  std::uint64_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  if (!ec) out.open_fds = fds > 0 ? fds - 1 : 0;  // less the one the iteration itself holds open
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    out.max_fds = limit.rlim_cur;
  }
  return out;
}

Status AddProcessMetrics(MetricsRegistry& registry) {
  ARBITER_TRY(GaugeFamily * resident,
              registry.AddGauge("process_resident_memory_bytes", "Resident memory size in bytes."));
  ARBITER_TRY(GaugeFamily * virtual_memory,
              registry.AddGauge("process_virtual_memory_bytes", "Virtual memory size in bytes."));
  ARBITER_TRY(GaugeFamily * open_fds,
              registry.AddGauge("process_open_fds", "Number of open file descriptors."));
  ARBITER_TRY(GaugeFamily * max_fds,
              registry.AddGauge("process_max_fds", "Maximum number of open file descriptors."));
  ARBITER_TRY(GaugeFamily * threads, registry.AddGauge("process_threads", "Number of OS threads."));
  ARBITER_TRY(GaugeFamily * start,
              registry.AddGauge("process_start_time_seconds",
                                "Start time of the process since the Unix epoch in seconds."));
  registry.AddCollector([=] {
    const ProcessStats s = ReadProcessStats();
    SetIfKnown(resident, AsDouble(s.resident_memory_bytes));
    SetIfKnown(virtual_memory, AsDouble(s.virtual_memory_bytes));
    SetIfKnown(open_fds, AsDouble(s.open_fds));
    SetIfKnown(max_fds, AsDouble(s.max_fds));
    SetIfKnown(threads, AsDouble(s.threads));
    SetIfKnown(start, s.start_time_seconds);
  });
  return Status::Ok();
}

}  // namespace arbiter::server
