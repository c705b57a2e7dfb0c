// The process's own gauges for `GET /metrics`, under the names the official Prometheus clients
// export (so existing dashboards and alerts work): resident and virtual memory, open and maximum
// file descriptors, threads and start time. Read from /proc/self at each scrape (Linux only; a
// value that cannot be read is left out of the scrape rather than reported as 0).
//
//   ARBITER_RETURN_IF_ERROR(AddProcessMetrics(registry));
#pragma once

#include <cstdint>
#include <optional>

#include "arbiter/common/status.h"
#include "arbiter/server/metrics.h"

namespace arbiter::server {

struct ProcessStats {
  std::optional<std::uint64_t> resident_memory_bytes;
  std::optional<std::uint64_t> virtual_memory_bytes;
  std::optional<std::uint64_t> open_fds;
  std::optional<std::uint64_t> max_fds;  // the soft RLIMIT_NOFILE
  std::optional<std::uint64_t> threads;
  std::optional<double> start_time_seconds;  // since the Unix epoch
};

// This process's figures now.
ProcessStats ReadProcessStats();

// Registers process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
// process_max_fds, process_threads and process_start_time_seconds, refreshed by a collector.
Status AddProcessMetrics(MetricsRegistry& registry);

}  // namespace arbiter::server
