// A small Prometheus metrics registry: counters, gauges and histograms with labels, rendered in the
// Prometheus text exposition format (version 0.0.4) for `GET /metrics`.
//
//   MetricsRegistry registry;
//   ARBITER_TRY(auto* requests, registry.AddCounter("arbiter_http_requests_total",
//                                                   "HTTP requests", {"method", "status"}));
//   Counter& ok_gets = requests->WithLabels({"GET", "200"});   // resolve once ...
//   ok_gets.Inc();                                              // ... then one relaxed atomic add
//   std::string text = registry.Render();
//
// Thread-safe throughout. The hot path (Inc/Set/Observe on a resolved child) is lock-free;
// WithLabels takes a shared lock for a lookup (an exclusive one only the first time a label set is
// seen). Keep label values bounded (route patterns, not raw paths; status codes, not messages).
// Children live as long as the registry, so references to them may be cached.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::server {

class Counter {
 public:
  void Inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds` are the buckets' upper bounds, strictly increasing; +Inf is implicit.
  explicit Histogram(std::span<const double> bounds);
  void Observe(double v);
  std::uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  // Cumulative count of observations <= bounds()[i]; i == bounds().size() is +Inf.
  std::uint64_t CumulativeCount(size_t i) const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1, non-cumulative
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Default latency buckets in seconds, 100 µs to 10 s.
std::span<const double> DefaultLatencyBuckets();

// A metric name with its label names; one child metric per distinct tuple of label values.
template <typename T>
class MetricFamily {
 public:
  // The child for these label values (in the order of the family's label names). A call with the
  // wrong number of values is a programming error: missing values are taken as "" and extra ones
  // are ignored.
  T& WithLabels(std::initializer_list<std::string_view> values) {
    return WithLabels(std::span<const std::string_view>(values.begin(), values.size()));
  }
  T& WithLabels(std::span<const std::string_view> values);

  const std::string& name() const { return name_; }

 private:
  friend class MetricsRegistry;
  MetricFamily(std::string name, std::string help, std::vector<std::string> label_names,
               std::vector<double> bounds)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}
  void Render(std::string& out) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;  // histograms only
  mutable std::shared_mutex mu_;
  // Key: label values joined with '\x1f'. Value: the values and the metric.
  std::map<std::string, std::pair<std::vector<std::string>, std::unique_ptr<T>>, std::less<>>
      children_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registration errors (kInvalidArgument): a name or label name outside the Prometheus grammar,
  // a reserved label (`le`, `__*`), non-increasing buckets; kAlreadyExists for a name in use.
  // The returned family lives as long as the registry.
  Result<CounterFamily*> AddCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names = {});
  Result<GaugeFamily*> AddGauge(std::string name, std::string help,
                                std::vector<std::string> label_names = {});
  Result<HistogramFamily*> AddHistogram(std::string name, std::string help,
                                        std::vector<std::string> label_names = {},
                                        std::span<const double> bounds = DefaultLatencyBuckets());

  // A function run at the start of every Render(), to set gauges from live state (ledger size,
  // active grants). It must be thread-safe and fast.
  void AddCollector(std::function<void()> collector);

  // All families in registration order, in the text exposition format.
  std::string Render() const;

 private:
  Status CheckNew(const std::string& name, const std::vector<std::string>& label_names) const;

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  // Render order: (kind, index into the kind's vector).
  std::vector<std::pair<int, size_t>> order_;
  std::vector<std::function<void()>> collectors_;
};

// The content type of Render()'s output.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

}  // namespace arbiter::server
