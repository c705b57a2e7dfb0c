// arbiter_http_load: a closed-loop HTTP/1.1 load generator for loopback benchmarks (in the manner
// of wrk): C keep-alive connections driven by epoll from T threads, each connection sending the
// next request as soon as the previous response is complete. Reports throughput and latency
// percentiles. Responses must be Content-Length framed (Arbiter and the Beast baseline are).
//
//   arbiter_http_load --target 127.0.0.1:8080 --path /healthz --connections 64 --duration 10
//   arbiter_http_load --target 127.0.0.1:8080 --method POST --path /v1/echo --body '{"a":1}'
//   arbiter_http_load ... --path /v1/cases --body '{"id":"L-{seq}",...}'
//
// Each `{seq}` in the body becomes a number unique to the request (16 digits: a per-run prefix,
// the thread and a counter), so that every request creates a new case; the length stays fixed.
//
//   arbiter_http_load ... --path /v1/cases --bodies cases.jsonl
//
// --bodies FILE sends a mix instead of one body: each non-empty line of FILE is a body (with its
// own `{seq}`s), and each thread's requests take the lines in turn, so that a benchmark sees
// different texts, customers and routes rather than one case repeated.
//
//   arbiter_http_load ... --timeline timeline.csv
//
// --timeline FILE also writes the measured period in 100 ms slices, one CSV line each
// (`t_ms,requests,max_ms,over_10ms`: when the slice starts, the responses completed in it, the
// slowest of them and how many took more than 10 ms), so that a tail can be matched with what the
// server was doing at that moment (a checkpoint, a log restart) instead of only counted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string method = "GET";
  std::string path = "/healthz";
  std::string body;
  std::string bodies_file;  // one body per non-empty line; overrides `body`
  std::string header;       // one extra header line, e.g. "Authorization: Bearer x"
  int connections = 64;
  int threads = 1;
  double duration_s = 10;
  double warmup_s = 1;
  std::string label;
  std::string timeline_file;  // 100 ms slices of the measured period, as CSV
};

constexpr auto kSlice = std::chrono::milliseconds(100);
constexpr std::uint32_t kSlowUs = 10'000;

// The responses completed in one slice of the timeline.
struct Slice {
  std::uint32_t requests = 0;
  std::uint32_t max_us = 0;
  std::uint32_t over_10ms = 0;
};

struct Conn {
  int fd = -1;
  size_t sent = 0;
  bool want_out = true;  // registered for EPOLLOUT (until the request is fully written)
  std::string in;
  std::string request;  // the request in flight (its own `{seq}`)
  Clock::time_point started;
};

struct ThreadResult {
  std::vector<std::uint32_t> latencies_us;
  std::vector<Slice> timeline;  // by slice since the measurement began
  std::uint64_t ok = 0;
  std::uint64_t non_2xx = 0;
  std::uint64_t errors = 0;
};

int Connect(const Options& o) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
  ::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Returns the length of one complete response at the start of `in` (0 if incomplete), and its
// status.
size_t CompleteResponse(const std::string& in, int& status) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  status = std::atoi(in.c_str() + 9);
  size_t length = 0;
  // Header names are case-insensitive; servers here send "Content-Length".
  for (const char* name : {"Content-Length:", "content-length:"}) {
    size_t at = in.find(name);
    if (at != std::string::npos && at < end) {
      length = std::strtoull(in.c_str() + at + std::strlen(name), nullptr, 10);
      break;
    }
  }
  size_t total = end + 4 + length;
  return in.size() >= total ? total : 0;
}

// Level-triggered EPOLLOUT fires continuously on an idle socket; ask for it only while a request is
// partly written.
void UpdateInterest(int ep, Conn& c, std::uint64_t id, size_t request_size) {
  bool want = c.sent < request_size;
  if (want == c.want_out) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.u64 = id;
  ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_out = want;
}

constexpr std::string_view kSeq = "{seq}";
constexpr size_t kSeqDigits = 16;

// The request with every `{seq}` replaced by kSeqDigits zeros, and where they are.
struct RequestTemplate {
  std::string text;
  std::vector<size_t> seq_at;
};

// Writes `value` as kSeqDigits decimal digits at each `{seq}` position.
void StampSeq(std::string& request, const std::vector<size_t>& at, std::uint64_t value) {
  char digits[kSeqDigits];
  for (size_t i = kSeqDigits; i-- > 0;) {
    digits[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  for (size_t p : at) std::memcpy(request.data() + p, digits, kSeqDigits);
}

// The request for `body`: its `{seq}`s replaced by zeros and their positions recorded.
RequestTemplate MakeTemplate(const Options& o, std::string body) {
  std::vector<size_t> body_seq;
  for (size_t at = body.find(kSeq); at != std::string::npos; at = body.find(kSeq, at)) {
    body.replace(at, kSeq.size(), std::string(kSeqDigits, '0'));
    body_seq.push_back(at);
    at += kSeqDigits;
  }
  RequestTemplate tmpl;
  tmpl.text = o.method + " " + o.path + " HTTP/1.1\r\nHost: " + o.host + "\r\n";
  if (!o.header.empty()) tmpl.text += o.header + "\r\n";
  if (!body.empty() || o.method == "POST") {
    tmpl.text +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  tmpl.text += "\r\n";
  for (size_t at : body_seq) tmpl.seq_at.push_back(tmpl.text.size() + at);
  tmpl.text += body;
  return tmpl;
}

void RunThread(const Options& o, int n_conns, const std::vector<RequestTemplate>& templates,
               std::uint64_t seq_base, Clock::time_point measure_from, Clock::time_point stop_at,
               ThreadResult& result) {
  std::uint64_t seq = seq_base;
  size_t turn = 0;  // which template the next request takes
  auto next_request = [&](Conn& c) {
    const RequestTemplate& tmpl = templates[turn];
    turn = turn + 1 == templates.size() ? 0 : turn + 1;
    if (c.request.empty() || templates.size() > 1) c.request = tmpl.text;
    if (!tmpl.seq_at.empty()) StampSeq(c.request, tmpl.seq_at, seq++);
  };
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(static_cast<size_t>(n_conns));
  for (size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = Connect(o);
    if (conns[i].fd < 0) {
      ++result.errors;
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    conns[i].started = Clock::now();
    next_request(conns[i]);
  }
  std::vector<epoll_event> events(256);
  char buf[65536];
  while (Clock::now() < stop_at) {
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    for (int k = 0; k < n; ++k) {
      Conn& c = conns[events[k].data.u64];
      if (c.fd < 0) continue;
      if ((events[k].events & EPOLLOUT) && c.sent < c.request.size()) {
        ssize_t w =
            ::send(c.fd, c.request.data() + c.sent, c.request.size() - c.sent, MSG_NOSIGNAL);
        if (w > 0) c.sent += static_cast<size_t>(w);
        UpdateInterest(ep, c, events[k].data.u64, c.request.size());
      }
      if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (;;) {
          ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
          if (r > 0) {
            c.in.append(buf, static_cast<size_t>(r));
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            // The server closed: count it and reconnect.
            ++result.errors;
            ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
            ::close(c.fd);
            c.fd = Connect(o);
            c.sent = 0;
            c.want_out = true;
            c.in.clear();
            c.started = Clock::now();
            if (c.fd >= 0) {
              epoll_event ev{};
              ev.events = EPOLLIN | EPOLLOUT;
              ev.data.u64 = events[k].data.u64;
              ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
            }
          }
          break;
        }
        int status = 0;
        size_t len;
        while (c.fd >= 0 && (len = CompleteResponse(c.in, status)) > 0) {
          auto now = Clock::now();
          if (c.started >= measure_from) {
            auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - c.started);
            const auto latency_us = static_cast<std::uint32_t>(us.count());
            result.latencies_us.push_back(latency_us);
            const auto slice = static_cast<size_t>((now - measure_from) / kSlice);
            if (result.timeline.size() <= slice) result.timeline.resize(slice + 1);
            Slice& at = result.timeline[slice];
            ++at.requests;
            at.max_us = std::max(at.max_us, latency_us);
            if (latency_us > kSlowUs) ++at.over_10ms;
            if (status >= 200 && status < 300) {
              ++result.ok;
            } else {
              ++result.non_2xx;
            }
          }
          c.in.erase(0, len);
          c.sent = 0;
          c.started = now;
          next_request(c);
          ssize_t w = ::send(c.fd, c.request.data(), c.request.size(), MSG_NOSIGNAL);
          if (w > 0) c.sent = static_cast<size_t>(w);
          UpdateInterest(ep, c, events[k].data.u64, c.request.size());
        }
      }
    }
  }
  for (auto& c : conns) {
    if (c.fd >= 0) ::close(c.fd);
  }
  ::close(ep);
}

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--target") {
      std::string t = next();
      size_t colon = t.rfind(':');
      if (colon == std::string::npos) return false;
      o.host = t.substr(0, colon);
      o.port = std::atoi(t.c_str() + colon + 1);
    } else if (a == "--method") {
      o.method = next();
    } else if (a == "--path") {
      o.path = next();
    } else if (a == "--body") {
      o.body = next();
    } else if (a == "--bodies") {
      o.bodies_file = next();
    } else if (a == "--header") {
      o.header = next();
    } else if (a == "--connections") {
      o.connections = std::atoi(next());
    } else if (a == "--threads") {
      o.threads = std::atoi(next());
    } else if (a == "--duration") {
      o.duration_s = std::atof(next());
    } else if (a == "--warmup") {
      o.warmup_s = std::atof(next());
    } else if (a == "--label") {
      o.label = next();
    } else if (a == "--timeline") {
      o.timeline_file = next();
    } else {
      return false;
    }
  }
  return o.connections > 0 && o.threads > 0 && o.duration_s > 0 && o.port > 0;
}

// Merges the threads' slices and writes them as CSV.
bool WriteTimeline(const std::string& path, const std::vector<ThreadResult>& results) {
  std::vector<Slice> merged;
  for (const ThreadResult& r : results) {
    if (merged.size() < r.timeline.size()) merged.resize(r.timeline.size());
    for (size_t i = 0; i < r.timeline.size(); ++i) {
      merged[i].requests += r.timeline[i].requests;
      merged[i].max_us = std::max(merged[i].max_us, r.timeline[i].max_us);
      merged[i].over_10ms += r.timeline[i].over_10ms;
    }
  }
  std::ofstream out(path);
  out << "t_ms,requests,max_ms,over_10ms\n";
  for (size_t i = 0; i < merged.size(); ++i) {
    out << i * static_cast<size_t>(kSlice.count()) << ',' << merged[i].requests << ','
        << merged[i].max_us / 1000.0 << ',' << merged[i].over_10ms << '\n';
  }
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: arbiter_http_load --target HOST:PORT [--method M] [--path P] [--body B]\n"
                 "       [--bodies FILE] [--header 'Name: value'] [--connections N] [--threads T]\n"
                 "       [--duration SECONDS] [--warmup SECONDS] [--label TEXT]\n"
                 "       [--timeline FILE]\n");
    return 1;
  }
  std::vector<std::string> bodies;
  if (o.bodies_file.empty()) {
    bodies.push_back(o.body);
  } else {
    std::ifstream in(o.bodies_file);
    if (!in) {
      std::fprintf(stderr, "arbiter_http_load: cannot read `%s`\n", o.bodies_file.c_str());
      return 1;
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) bodies.push_back(line);
    }
    if (bodies.empty()) {
      std::fprintf(stderr, "arbiter_http_load: `%s` has no body\n", o.bodies_file.c_str());
      return 1;
    }
  }
  std::vector<RequestTemplate> templates;
  for (const std::string& b : bodies) templates.push_back(MakeTemplate(o, b));
  // Unique across runs against one server: seconds since the epoch (mod 10^4) lead the number.
  const std::uint64_t run_prefix =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count() %
                                 10000) *
      1'000'000'000'000ULL;

  auto start = Clock::now();
  auto measure_from = start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(o.warmup_s));
  auto stop_at = measure_from + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.duration_s));
  std::vector<ThreadResult> results(static_cast<size_t>(o.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    int n = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    const std::uint64_t seq_base = run_prefix + static_cast<std::uint64_t>(t) * 10'000'000'000ULL;
    threads.emplace_back(RunThread, std::cref(o), n, std::cref(templates), seq_base, measure_from,
                         stop_at, std::ref(results[static_cast<size_t>(t)]));
  }
  for (auto& t : threads) t.join();

  std::vector<std::uint32_t> all;
  std::uint64_t ok = 0, non_2xx = 0, errors = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    ok += r.ok;
    non_2xx += r.non_2xx;
    errors += r.errors;
  }
  std::sort(all.begin(), all.end());
  if (!o.timeline_file.empty() && !WriteTimeline(o.timeline_file, results)) {
    std::fprintf(stderr, "arbiter_http_load: cannot write `%s`\n", o.timeline_file.c_str());
    return 1;
  }
  auto pct = [&](double p) -> double {
    if (all.empty()) return 0;
    size_t i = std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())));
    return all[i] / 1000.0;
  };
  double rps = static_cast<double>(ok + non_2xx) / o.duration_s;
  std::printf(
      "{\"label\":\"%s\",\"method\":\"%s\",\"path\":\"%s\",\"connections\":%d,\"threads\":%d,"
      "\"duration_s\":%.1f,\"requests\":%llu,\"non_2xx\":%llu,\"errors\":%llu,\"rps\":%.0f,"
      "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
      o.label.c_str(), o.method.c_str(), o.path.c_str(), o.connections, o.threads, o.duration_s,
      static_cast<unsigned long long>(ok + non_2xx), static_cast<unsigned long long>(non_2xx),
      static_cast<unsigned long long>(errors), rps, pct(0.50), pct(0.90), pct(0.99), pct(0.999),
      all.empty() ? 0.0 : all.back() / 1000.0);
  return ok > 0 ? 0 : 1;
}
