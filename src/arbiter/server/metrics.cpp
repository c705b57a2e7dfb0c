#include "arbiter/server/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <type_traits>

namespace arbiter::server {
namespace {

constexpr std::array<double, 16> kLatencyBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                    0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                    1,      2.5,     5,      10};
constexpr char kLabelSeparator = '\x1f';

bool IsMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsLabelName(std::string_view s) {
  return IsMetricName(s) && s.find(':') == std::string_view::npos;
}

void AppendEscaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

void AppendNumber(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    out += buf;
  } else {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    out.append(buf, ec == std::errc() ? end : buf);
  }
}

void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out.push_back(',');
    first = false;
    out += names[i];
    out += "=\"";
    AppendEscaped(out, values[i], true);
    out.push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out.push_back(',');
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out.push_back('"');
  }
  out.push_back('}');
}

template <typename T>
constexpr std::string_view TypeName() {
  if constexpr (std::is_same_v<T, Counter>) return "counter";
  if constexpr (std::is_same_v<T, Gauge>) return "gauge";
  return "histogram";
}

}  // namespace

void Gauge::Add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()),
      buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t Histogram::CumulativeCount(size_t i) const {
  std::uint64_t total = 0;
  for (size_t j = 0; j <= i && j <= bounds_.size(); ++j) {
    total += buckets_[j].load(std::memory_order_relaxed);
  }
  return total;
}

std::span<const double> DefaultLatencyBuckets() { return kLatencyBuckets; }

template <typename T>
T& MetricFamily<T>::WithLabels(std::span<const std::string_view> values) {
  std::string key;
  for (size_t i = 0; i < label_names_.size(); ++i) {
    if (i > 0) key.push_back(kLabelSeparator);
    if (i < values.size()) key.append(values[i]);
  }
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(key);
    if (it != children_.end()) return *it->second.second;
  }
  std::unique_lock lock(mu_);
  auto it = children_.find(key);
  if (it != children_.end()) return *it->second.second;
  std::vector<std::string> copy;
  for (size_t i = 0; i < label_names_.size(); ++i) {
    copy.emplace_back(i < values.size() ? values[i] : std::string_view());
  }
  std::unique_ptr<T> metric;
  if constexpr (std::is_same_v<T, Histogram>) {
    metric = std::make_unique<Histogram>(bounds_);
  } else {
    metric = std::make_unique<T>();
  }
  T& ref = *metric;
  children_.emplace(std::move(key), std::make_pair(std::move(copy), std::move(metric)));
  return ref;
}

template <typename T>
void MetricFamily<T>::Render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out.push_back(' ');
  AppendEscaped(out, help_, false);
  out += "\n# TYPE ";
  out += name_;
  out.push_back(' ');
  out += TypeName<T>();
  out.push_back('\n');
  std::shared_lock lock(mu_);
  for (const auto& [key, entry] : children_) {
    const auto& [values, metric] = entry;
    if constexpr (std::is_same_v<T, Histogram>) {
      // Read the buckets first: count and sum may then run slightly ahead, never behind, so the
      // +Inf bucket is written as the count to keep the series consistent.
      std::vector<std::uint64_t> cumulative;
      for (size_t i = 0; i <= bounds_.size(); ++i) cumulative.push_back(metric->CumulativeCount(i));
      std::uint64_t count = std::max(metric->Count(), cumulative.back());
      for (size_t i = 0; i < bounds_.size(); ++i) {
        std::string le;
        AppendNumber(le, bounds_[i]);
        out += name_;
        out += "_bucket";
        AppendLabels(out, label_names_, values, "le", le);
        out.push_back(' ');
        AppendNumber(out, static_cast<double>(cumulative[i]));
        out.push_back('\n');
      }
      out += name_;
      out += "_bucket";
      AppendLabels(out, label_names_, values, "le", "+Inf");
      out.push_back(' ');
      AppendNumber(out, static_cast<double>(count));
      out.push_back('\n');
      out += name_;
      out += "_sum";
      AppendLabels(out, label_names_, values);
      out.push_back(' ');
      AppendNumber(out, metric->Sum());
      out.push_back('\n');
      out += name_;
      out += "_count";
      AppendLabels(out, label_names_, values);
      out.push_back(' ');
      AppendNumber(out, static_cast<double>(count));
      out.push_back('\n');
    } else {
      out += name_;
      AppendLabels(out, label_names_, values);
      out.push_back(' ');
      AppendNumber(out, static_cast<double>(metric->Value()));
      out.push_back('\n');
    }
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

Status MetricsRegistry::CheckNew(const std::string& name,
                                 const std::vector<std::string>& label_names) const {
  if (!IsMetricName(name)) {
    return Status::InvalidArgument("metric name `" + name + "` is not a valid prometheus name");
  }
  for (size_t i = 0; i < label_names.size(); ++i) {
    const std::string& l = label_names[i];
    if (!IsLabelName(l) || l.rfind("__", 0) == 0 || l == "le") {
      return Status::InvalidArgument("metric `" + name + "`: label name `" + l +
                                     "` is invalid or reserved");
    }
    for (size_t j = 0; j < i; ++j) {
      if (label_names[j] == l) {
        return Status::InvalidArgument("metric `" + name + "`: label `" + l + "` repeats");
      }
    }
  }
  auto taken = [&](const auto& families) {
    return std::any_of(families.begin(), families.end(),
                       [&](const auto& f) { return f->name() == name; });
  };
  if (taken(counters_) || taken(gauges_) || taken(histograms_)) {
    return Status::AlreadyExists("metric `" + name + "` is already registered");
  }
  return Status::Ok();
}

Result<CounterFamily*> MetricsRegistry::AddCounter(std::string name, std::string help,
                                                   std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  ARBITER_RETURN_IF_ERROR(CheckNew(name, label_names));
  counters_.push_back(std::unique_ptr<CounterFamily>(
      new CounterFamily(std::move(name), std::move(help), std::move(label_names), {})));
  order_.emplace_back(0, counters_.size() - 1);
  return counters_.back().get();
}

Result<GaugeFamily*> MetricsRegistry::AddGauge(std::string name, std::string help,
                                               std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  ARBITER_RETURN_IF_ERROR(CheckNew(name, label_names));
  gauges_.push_back(std::unique_ptr<GaugeFamily>(
      new GaugeFamily(std::move(name), std::move(help), std::move(label_names), {})));
  order_.emplace_back(1, gauges_.size() - 1);
  return gauges_.back().get();
}

Result<HistogramFamily*> MetricsRegistry::AddHistogram(std::string name, std::string help,
                                                       std::vector<std::string> label_names,
                                                       std::span<const double> bounds) {
  std::lock_guard lock(mu_);
  ARBITER_RETURN_IF_ERROR(CheckNew(name, label_names));
  if (bounds.empty()) {
    return Status::InvalidArgument("histogram `" + name + "` needs at least one bucket");
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      return Status::InvalidArgument("histogram `" + name +
                                     "`: bucket bounds must be finite and strictly increasing");
    }
  }
  histograms_.push_back(std::unique_ptr<HistogramFamily>(
      new HistogramFamily(std::move(name), std::move(help), std::move(label_names),
                          std::vector<double>(bounds.begin(), bounds.end()))));
  order_.emplace_back(2, histograms_.size() - 1);
  return histograms_.back().get();
}

void MetricsRegistry::AddCollector(std::function<void()> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  for (const auto& c : collectors_) c();
  std::string out;
  out.reserve(4096);
  for (const auto& [kind, index] : order_) {
    if (kind == 0) {
      counters_[index]->Render(out);
    } else if (kind == 1) {
      gauges_[index]->Render(out);
    } else {
      histograms_[index]->Render(out);
    }
  }
  return out;
}

}  // namespace arbiter::server
