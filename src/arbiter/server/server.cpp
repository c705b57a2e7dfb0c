// The only translation unit with Beast/Asio in the server library. One io_context per I/O
// thread: each connection lives on one thread for its whole life (no strands, no locking in the
// scheduler), reads and parses with Beast's parser straight from its buffer (one read per request
// when the request arrives in one segment), writes each response with one gathered non-blocking
// send, and keeps its deadline in a field that a per-thread sweeper checks (no timer per
// operation). Responses parked until their writes are durable are resumed in batches: a committer
// completing many requests posts once per I/O thread.
#include "arbiter/server/server.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "arbiter/common/thread_name.h"

// g++ 12 with the sanitizers at -O1 (the CI's ASan build) inlines a connection's coroutine into
// its caller and then reports asio's frame allocation (aligned_alloc, released by the frame's own
// operator delete through aligned_delete) as a mismatched new/delete: a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace arbiter::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
constexpr Clock::time_point kNoDeadline = Clock::time_point::max();

struct IoThread;

// A coroutine suspended until its response's writes are durable. The completion (from any thread)
// stores the status and queues the object on its I/O thread, which resumes it.
struct Parked {
  virtual ~Parked() = default;
  // Resumes the coroutine with `status`; deletes this.
  virtual void Resume() = 0;
  IoThread* thread = nullptr;
  Status status;
};

template <typename Handler>
struct ParkedHandler final : Parked {
  explicit ParkedHandler(Handler h) : handler(std::move(h)) {}
  void Resume() override {
    Handler h = std::move(handler);
    Status s = std::move(status);
    delete this;
    std::move(h)(std::move(s));
  }
  Handler handler;
};

struct Connection;

// One I/O thread: its io_context, its connections (touched only on this thread) and the parked
// responses ready to resume (guarded by mu).
struct IoThread {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  asio::steady_timer sweeper{ioc};
  std::vector<Connection*> connections;  // this thread only

  std::mutex mu;
  std::vector<Parked*> ready;     // guarded by mu
  bool drain_posted = false;      // guarded by mu
  std::vector<Parked*> resuming;  // this thread only: the batch being resumed

  ~IoThread() {
    // Only after the thread has stopped: what is still queued never resumes.
    for (Parked* p : ready) delete p;
  }

  // From any thread. The first completion after a drain posts one drain; later ones join it.
  void Complete(Parked* p) {
    bool post = false;
    {
      std::lock_guard lock(mu);
      ready.push_back(p);
      if (!drain_posted) post = drain_posted = true;
    }
    if (post) asio::post(ioc, [this] { Drain(); });
  }

  // On this thread: resumes every parked response queued so far, oldest first. Each runs until its
  // next read suspends (its response written), so a batch leaves in completion order.
  void Drain() {
    {
      std::lock_guard lock(mu);
      resuming.swap(ready);
      drain_posted = false;
    }
    for (Parked* p : resuming) p->Resume();
    resuming.clear();
  }
};

struct Connection {
  Connection(tcp::socket s, IoThread* t) : socket(std::move(s)), thread(t) {}
  tcp::socket socket;
  IoThread* thread;
  // Touched only on the connection's thread: true while waiting for the first byte of a request.
  bool idle = true;
  // When the pending read or write must have finished; the sweeper cancels it after that.
  Clock::time_point deadline = kNoDeadline;
  bool timed_out = false;
  size_t slot = 0;  // index in thread->connections
  std::uint64_t id = 0;
  std::string remote;
  std::string head;  // the response header block being written; reused across requests
};

// Calls `defer` with a completion and suspends the coroutine until the completion runs (on any
// thread); resumes on the connection's thread with the completion's status. The completion
// captures one pointer, so std::function stores it without allocating.
asio::awaitable<Status> AwaitDeferred(
    IoThread* thread, const std::function<void(std::function<void(Status)>)>& defer) {
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(Status)>(
      [thread, &defer](auto handler) {
        Parked* parked = new ParkedHandler<decltype(handler)>(std::move(handler));
        parked->thread = thread;
        defer([parked](Status s) {
          parked->status = std::move(s);
          parked->thread->Complete(parked);
        });
      },
      asio::use_awaitable);
}

std::string Endpoint(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  std::string host = addr.to_string();
  if (addr.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Why reading a request failed: the status to answer with (0: just close) and the error code.
struct ReadFailure {
  int status = 0;
  std::string_view code;
  std::string message;
};

bool IEquals(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

// The origin-form target "/path?query" split, decoded and validated.
Status FillTarget(std::string_view target, HttpRequest& r) {
  if (target.empty() || target[0] != '/') {
    return Status::InvalidArgument("request target must be a path starting with `/`");
  }
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  std::string_view raw_query =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  ARBITER_TRY(r.path, PercentDecodePath(raw_path));
  ARBITER_TRY(r.query, ParseQuery(raw_query));
  return Status::Ok();
}

// Parses one request straight into an HttpRequest (header names lowercased as they arrive), with
// Beast's HTTP/1.1 grammar, header and body limits, and chunked decoding: no intermediate
// http::request with its allocated fields and no second copy of each header.
class RequestParser final : public http::basic_parser<true> {
 public:
  explicit RequestParser(HttpRequest& out) : out_(out) { out_.headers.reserve(8); }

  unsigned version() const { return version_; }
  // The first Expect header's value, or empty.
  std::string_view expect() const {
    return expect_ == kNone ? std::string_view() : std::string_view(out_.headers[expect_].value);
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  void on_request_impl(http::verb, beast::string_view method, beast::string_view target,
                       int version, error_code&) override {
    out_.method_name.assign(method.data(), method.size());
    out_.target.assign(target.data(), target.size());
    version_ = static_cast<unsigned>(version);
  }
  void on_response_impl(int, beast::string_view, int, error_code&) override {}
  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     error_code&) override {
    if (name == http::field::expect && expect_ == kNone) expect_ = out_.headers.size();
    HttpHeader& h = out_.headers.emplace_back();
    h.name.resize(name_string.size());
    for (size_t i = 0; i < name_string.size(); ++i) {
      h.name[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name_string[i])));
    }
    h.value.assign(value.data(), value.size());
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    // basic_parser has already refused a length over body_limit().
    if (length) out_.body.reserve(static_cast<size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    out_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    out_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  HttpRequest& out_;
  unsigned version_ = 11;
  size_t expect_ = kNone;
};

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("listen: `" + std::string(text) + "` " + std::string(why));
  };
  ListenAddress out;
  std::string_view port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("is not `[ipv6]:port`");
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("is not `host:port`");
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) return bad("needs brackets around an ipv6 host");
  }
  if (out.host.empty()) return bad("has no host (use 127.0.0.1 or 0.0.0.0)");
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return bad("has an invalid port");
  }
  out.port = static_cast<std::uint16_t>(port);
  if (out.host == "localhost") out.host = "127.0.0.1";
  error_code addr_ec;
  (void)asio::ip::make_address(out.host, addr_ec);
  if (addr_ec) return bad("needs an ip address or `localhost` as host");
  return out;
}

struct HttpServer::Impl {
  ServerOptions options;
  Dispatcher* dispatcher = nullptr;
  // io[0] also runs the acceptor; connections go to the threads in turn.
  std::vector<std::unique_ptr<IoThread>> io;
  tcp::acceptor acceptor;
  size_t next_io = 0;  // the accept loop's only
  Clock::duration sweep_period{};
  std::vector<std::thread> threads;
  std::string address;
  std::uint16_t port = 0;

  std::atomic<bool> draining{false};
  std::atomic<size_t> active{0};
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections;  // guarded by mu
  std::uint64_t next_connection = 0;                                         // guarded by mu
  std::once_flag shutdown_once;

  static std::vector<std::unique_ptr<IoThread>> MakeIo(int n) {
    std::vector<std::unique_ptr<IoThread>> v;
    for (int i = 0; i < n; ++i) v.push_back(std::make_unique<IoThread>());
    return v;
  }
  explicit Impl(int n) : io(MakeIo(n)), acceptor(io[0]->ioc) {}

  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> Serve(std::shared_ptr<Connection> conn);
  asio::awaitable<void> ServeRequests(Connection& conn);
  asio::awaitable<error_code> ReadSome(Connection& conn, beast::flat_buffer& buffer,
                                       Clock::time_point deadline);
  asio::awaitable<error_code> ReadMessage(Connection& conn, beast::flat_buffer& buffer,
                                          RequestParser& parser, bool whole,
                                          Clock::time_point deadline);
  asio::awaitable<bool> Send(Connection& conn, std::array<asio::const_buffer, 2> buffers);
  asio::awaitable<bool> Write(Connection& conn, const HttpResponse& response, unsigned version,
                              bool keep_alive, bool head);
  asio::awaitable<void> WriteError(Connection& conn, int status, std::string_view code,
                                   std::string message);
  void Sweep(IoThread& thread);
  void Refuse(tcp::socket& socket, std::string_view reason);
  void CloseConnections(bool only_idle);
  void DoShutdown();
};

// Every sweep_period: cancels the pending read or write of each connection of `thread` whose
// deadline has passed (the operation then fails with timed_out set). Timeouts therefore fire up to
// one period late; the period is a tenth of the shortest timeout, at most 100 ms.
void HttpServer::Impl::Sweep(IoThread& thread) {
  thread.sweeper.expires_after(sweep_period);
  thread.sweeper.async_wait([this, &thread](const error_code& ec) {
    if (ec) return;
    const Clock::time_point now = Clock::now();
    for (Connection* c : thread.connections) {
      if (c->deadline <= now) {
        c->deadline = kNoDeadline;
        c->timed_out = true;
        error_code ignored;
        c->socket.cancel(ignored);
      }
    }
    Sweep(thread);
  });
}

void HttpServer::Impl::Refuse(tcp::socket& socket, std::string_view reason) {
  dispatcher->ConnectionRefused(reason);
  static constexpr std::string_view kResponse =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
      "Connection: close\r\nRetry-After: 1\r\nContent-Length: 91\r\n\r\n"
      "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many connections, retry later\","
      "\"field\":null}}";
  static_assert(kResponse.size() - kResponse.find("\r\n\r\n") - 4 == 91);
  error_code ec;
  socket.non_blocking(true, ec);
  // A best-effort write: the response is small enough for the socket's send buffer; a client that
  // does not read it loses nothing it could have used.
  asio::write(socket, asio::buffer(kResponse.data(), kResponse.size()), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

asio::awaitable<void> HttpServer::Impl::AcceptLoop() {
  for (;;) {
    IoThread* thread = io[next_io++ % io.size()].get();
    tcp::socket socket(thread->ioc);
    error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (draining.load() || !acceptor.is_open()) co_return;
      // Out of descriptors or a transient network error: back off instead of spinning.
      dispatcher->logger().Event(LogLevel::kWarn, "accept failed", {{"error", ec.message()}});
      asio::steady_timer timer(io[0]->ioc, std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (draining.load()) {
      Refuse(socket, "draining");
      continue;
    }
    if (active.load() >= options.limits.max_connections) {
      Refuse(socket, "limit");
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    // Writes are tried at once and only wait (asynchronously) for what the kernel did not take.
    socket.non_blocking(true, ec);
    error_code ep_ec;
    tcp::endpoint peer = socket.remote_endpoint(ep_ec);
    auto conn = std::make_shared<Connection>(std::move(socket), thread);
    conn->remote = ep_ec ? "unknown" : Endpoint(peer);
    {
      std::lock_guard lock(mu);
      conn->id = ++next_connection;
      connections.emplace(conn->id, conn);
    }
    active.fetch_add(1);
    dispatcher->ConnectionOpened();
    asio::co_spawn(thread->ioc, Serve(std::move(conn)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::Impl::Serve(std::shared_ptr<Connection> conn) {
  // Now on the connection's thread.
  IoThread& thread = *conn->thread;
  conn->slot = thread.connections.size();
  thread.connections.push_back(conn.get());
  try {
    co_await ServeRequests(*conn);
  } catch (const std::exception& e) {
    dispatcher->logger().Event(LogLevel::kError, "connection failed",
                               {{"remote", conn->remote}, {"what", e.what()}});
  } catch (...) {
    dispatcher->logger().Event(LogLevel::kError, "connection failed", {{"remote", conn->remote}});
  }
  Connection* last = thread.connections.back();
  thread.connections[conn->slot] = last;
  last->slot = conn->slot;
  thread.connections.pop_back();
  error_code ec;
  conn->socket.shutdown(tcp::socket::shutdown_both, ec);
  conn->socket.close(ec);
  dispatcher->ConnectionClosed();
  {
    std::lock_guard lock(mu);
    connections.erase(conn->id);
    active.fetch_sub(1);
  }
  cv.notify_all();
}

// One read into `buffer` that must finish by `deadline`; beast::error::timeout when it did not,
// http::error::buffer_overflow when the buffer is full.
asio::awaitable<error_code> HttpServer::Impl::ReadSome(Connection& conn, beast::flat_buffer& buffer,
                                                       Clock::time_point deadline) {
  const size_t room = buffer.max_size() - buffer.size();
  if (room == 0) co_return http::error::buffer_overflow;
  const size_t want = std::min(room, std::max<size_t>(4096, buffer.capacity() - buffer.size()));
  conn.deadline = deadline;
  conn.timed_out = false;
  error_code ec;
  size_t n = co_await conn.socket.async_read_some(buffer.prepare(want),
                                                  asio::redirect_error(asio::use_awaitable, ec));
  conn.deadline = kNoDeadline;
  buffer.commit(n);
  if (ec && conn.timed_out) co_return beast::error::timeout;
  co_return ec;
}

// Feeds `parser` from `buffer`, reading more only when it needs more, until the header (or, with
// `whole`, the message) is complete or an error: Beast's read grammar and limits, without a
// composed operation (and its completion post) per call.
asio::awaitable<error_code> HttpServer::Impl::ReadMessage(Connection& conn,
                                                          beast::flat_buffer& buffer,
                                                          RequestParser& parser, bool whole,
                                                          Clock::time_point deadline) {
  for (;;) {
    if (whole ? parser.is_done() : parser.is_header_done()) co_return error_code();
    if (buffer.size() != 0) {
      error_code ec;
      const size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (!ec && used != 0) continue;
      if (ec && ec != http::error::need_more) co_return ec;
    }
    error_code ec = co_await ReadSome(conn, buffer, deadline);
    if (ec == asio::error::eof) {
      if (!parser.got_some()) co_return http::error::end_of_stream;
      parser.put_eof(ec);
      if (ec) co_return ec;
      continue;
    }
    if (ec) co_return ec;
  }
}

// Sends both buffers: one non-blocking gathered send, then an asynchronous write (under the write
// deadline) of whatever the kernel did not take.
asio::awaitable<bool> HttpServer::Impl::Send(Connection& conn,
                                             std::array<asio::const_buffer, 2> buffers) {
  const size_t total = buffers[0].size() + buffers[1].size();
  error_code ec;
  size_t sent = conn.socket.write_some(buffers, ec);
  if (!ec && sent == total) co_return true;
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return false;
  if (ec) sent = 0;
  for (auto& b : buffers) {
    const size_t k = std::min(sent, b.size());
    b += k;
    sent -= k;
  }
  conn.deadline = Clock::now() + options.limits.write_timeout;
  conn.timed_out = false;
  ec = {};
  co_await asio::async_write(conn.socket, buffers, asio::redirect_error(asio::use_awaitable, ec));
  conn.deadline = kNoDeadline;
  co_return !ec;
}

asio::awaitable<bool> HttpServer::Impl::Write(Connection& conn, const HttpResponse& response,
                                              unsigned version, bool keep_alive, bool head) {
  // The status line and header block, byte for byte what Beast's serializer wrote for
  // http::response<string_body> with Content-Type, the extra headers, keep_alive() and
  // prepare_payload(): written here into a buffer the connection reuses, then sent with the body
  // in one gathered write (one sendmsg), without copying the body or allocating header fields.
  std::string& h = conn.head;
  h.clear();
  const unsigned status = static_cast<unsigned>(response.status);
  h += "HTTP/";
  h += static_cast<char>('0' + version / 10);
  h += '.';
  h += static_cast<char>('0' + version % 10);
  h += ' ';
  char digits[16];
  auto [digits_end, ec_digits] = std::to_chars(digits, digits + sizeof digits, status);
  h.append(digits, digits_end);
  h += ' ';
  const std::string_view reason = http::obsolete_reason(http::int_to_status(status));
  h.append(reason.data(), reason.size());
  h += "\r\nContent-Type: ";
  h += response.content_type;
  h += "\r\n";
  for (const auto& field : response.headers) {
    h += field.name;
    h += ": ";
    h += field.value;
    h += "\r\n";
  }
  if (version >= 11) {
    if (!keep_alive) h += "Connection: close\r\n";
  } else if (keep_alive) {
    h += "Connection: keep-alive\r\n";
  }
  h += "Content-Length: ";
  auto [length_end, ec_length] =
      std::to_chars(digits, digits + sizeof digits, response.body.size());
  h.append(digits, length_end);
  h += "\r\n\r\n";
  co_return co_await Send(
      conn, {asio::buffer(h), head ? asio::const_buffer() : asio::buffer(response.body)});
}

asio::awaitable<void> HttpServer::Impl::WriteError(Connection& conn, int status,
                                                   std::string_view code, std::string message) {
  dispatcher->RecordRejected(conn.remote, status, code);
  HttpResponse r = ErrorResponse(status, code, message);
  co_await Write(conn, r, 11, false, false);
}

asio::awaitable<void> HttpServer::Impl::ServeRequests(Connection& conn) {
  const ServerLimits& limits = options.limits;
  // Room for a full header block plus read-ahead; the parser enforces the real header limit.
  beast::flat_buffer buffer(limits.max_header_bytes + 64 * 1024);
  bool first = true;
  for (;;) {
    if (buffer.size() == 0) {
      // Between requests: wait for the first byte under the idle (or, on a fresh connection, the
      // header) deadline. Shutdown closes connections parked here.
      conn.idle = true;
      if (draining.load()) co_return;
      error_code ec = co_await ReadSome(
          conn, buffer, Clock::now() + (first ? limits.header_timeout : limits.idle_timeout));
      conn.idle = false;
      if (ec) {
        if (ec == beast::error::timeout && first) {
          dispatcher->RecordRejected(conn.remote, 0, "timeout");
        }
        co_return;
      }
    }
    conn.idle = false;
    first = false;

    HttpRequest request;
    RequestParser parser(request);
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    error_code ec = co_await ReadMessage(conn, buffer, parser, /*whole=*/false,
                                         Clock::now() + limits.header_timeout);
    auto fail = [&](const error_code& e) -> ReadFailure {
      if (e == http::error::header_limit || e == http::error::buffer_overflow) {
        return {431, "headers_too_large",
                "request headers exceed " + std::to_string(limits.max_header_bytes) + " bytes"};
      }
      if (e == http::error::body_limit) {
        return {413, "payload_too_large",
                "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes"};
      }
      if (e == beast::error::timeout) return {0, "timeout", ""};
      if (e == http::error::end_of_stream || e == http::error::partial_message ||
          e == http::error::short_read) {
        return {0, "closed", ""};  // the client went away mid-request
      }
      if (e.category() == http::make_error_code(http::error::bad_method).category()) {
        return {400, "bad_request", "malformed http request: " + e.message()};
      }
      return {0, "closed", ""};
    };
    if (ec) {
      ReadFailure f = fail(ec);
      if (f.status != 0) {
        co_await WriteError(conn, f.status, f.code, std::move(f.message));
      } else if (f.code == "timeout") {
        dispatcher->RecordRejected(conn.remote, 0, f.code);
      }
      co_return;
    }
    if (auto declared = parser.content_length(); declared && *declared > limits.max_body_bytes) {
      co_await WriteError(
          conn, 413, "payload_too_large",
          "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes");
      co_return;
    }
    if (!parser.is_done()) {
      std::string_view expect = parser.expect();
      if (!expect.empty()) {
        if (!IEquals(expect, "100-continue")) {
          co_await WriteError(conn, 400, "bad_request", "unsupported `expect` header");
          co_return;
        }
        // What Beast's serializer writes for response<empty_body>{continue_, version}.
        static constexpr std::string_view kContinue10 = "HTTP/1.0 100 Continue\r\n\r\n";
        static constexpr std::string_view kContinue11 = "HTTP/1.1 100 Continue\r\n\r\n";
        const std::string_view cont = parser.version() >= 11 ? kContinue11 : kContinue10;
        if (!co_await Send(conn, {asio::buffer(cont.data(), cont.size()), asio::const_buffer()})) {
          co_return;
        }
      }
      ec = co_await ReadMessage(conn, buffer, parser, /*whole=*/true,
                                Clock::now() + limits.body_timeout);
      if (ec) {
        ReadFailure f = fail(ec);
        if (f.status != 0) {
          co_await WriteError(conn, f.status, f.code, std::move(f.message));
        } else if (f.code == "timeout") {
          dispatcher->RecordRejected(conn.remote, 0, f.code);
        }
        co_return;
      }
    }

    const unsigned version = parser.version();
    const bool keep_alive = parser.keep_alive();
    request.method = ParseHttpMethod(request.method_name);
    request.remote_address = conn.remote;
    const bool head = request.method == HttpMethod::kHead;
    if (Status s = FillTarget(request.target, request); !s.ok()) {
      dispatcher->RecordRejected(conn.remote, 400, "bad_request");
      HttpResponse r = ErrorResponse(s);
      if (!co_await Write(conn, r, version, keep_alive && !draining.load(), head)) co_return;
      if (!keep_alive) co_return;
      continue;
    }
    HttpResponse response = dispatcher->Dispatch(request);
    if (response.defer) {
      // Parked, not blocking the thread, until the handler's writes are durable.
      Status durable = co_await AwaitDeferred(conn.thread, response.defer);
      if (!durable.ok()) {
        response = ErrorResponse(durable);
      } else if (response.finish) {
        auto finish = std::move(response.finish);
        finish(response);
      }
    }
    const bool keep = keep_alive && !draining.load();
    if (!co_await Write(conn, response, version, keep, head)) co_return;
    if (!keep) co_return;
  }
}

void HttpServer::Impl::CloseConnections(bool only_idle) {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(mu);
    for (auto& [id, weak] : connections) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) {
    asio::post(c->thread->ioc, [c, only_idle] {
      if (only_idle && !c->idle) return;
      error_code ec;
      c->socket.shutdown(tcp::socket::shutdown_both, ec);
      c->socket.close(ec);
    });
  }
}

void HttpServer::Impl::DoShutdown() {
  draining.store(true);
  {
    std::promise<void> closed;
    auto done = closed.get_future();
    asio::post(io[0]->ioc, [this, &closed] {
      error_code ec;
      acceptor.close(ec);
      closed.set_value();
    });
    // The acceptor runs on the first I/O thread; it is alive until the io_contexts stop below.
    done.wait_for(std::chrono::seconds(5));
  }
  CloseConnections(/*only_idle=*/true);
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, options.shutdown_grace, [this] { return active.load() == 0; });
  }
  if (active.load() != 0) {
    dispatcher->logger().Event(LogLevel::kWarn, "closing connections after shutdown grace",
                               {{"connections", std::to_string(active.load())}});
    CloseConnections(/*only_idle=*/false);
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(2), [this] { return active.load() == 0; });
  }
  for (auto& t : io) t->ioc.stop();
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
  dispatcher->logger().Event(LogLevel::kInfo, "stopped", {{"address", address}});
  dispatcher->logger().Flush();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                      Dispatcher* dispatcher) {
  ARBITER_TRY(ListenAddress listen, ParseListenAddress(options.listen));
  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto impl = std::make_unique<Impl>(threads);
  impl->options = options;
  impl->dispatcher = dispatcher;
  error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(listen.host, ec), listen.port);
  if (ec) return Status::InvalidArgument("listen: `" + options.listen + "`: " + ec.message());
  auto fail = [&](std::string_view what) {
    return Status::Unavailable("listen on `" + options.listen + "`: " + std::string(what) + ": " +
                               ec.message());
  };
  impl->acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set reuse_address");
  impl->acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  tcp::endpoint bound = impl->acceptor.local_endpoint(ec);
  if (ec) return fail("local endpoint");
  impl->address = Endpoint(bound);
  impl->port = bound.port();

  const ServerLimits& l = options.limits;
  const auto shortest =
      std::min({l.header_timeout, l.body_timeout, l.idle_timeout, l.write_timeout});
  impl->sweep_period = std::clamp<Clock::duration>(shortest / 10, std::chrono::milliseconds(1),
                                                   std::chrono::milliseconds(100));

  Impl* raw = impl.get();
  asio::co_spawn(impl->io[0]->ioc, raw->AcceptLoop(), asio::detached);
  for (int i = 0; i < threads; ++i) {
    IoThread* thread = impl->io[static_cast<size_t>(i)].get();
    raw->Sweep(*thread);
    impl->threads.emplace_back([raw, thread, i] {
      NameThisThread("arbiter-io-" + std::to_string(i));
      for (;;) {
        try {
          thread->ioc.run();
          return;
        } catch (const std::exception& e) {
          // Every coroutine catches its own exceptions; this is a last line of defence.
          raw->dispatcher->logger().Event(LogLevel::kError, "io thread caught",
                                          {{"what", e.what()}});
        }
      }
    });
  }
  dispatcher->logger().Event(LogLevel::kInfo, "listening", {{"address", impl->address}});
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::string HttpServer::address() const { return impl_->address; }
std::uint16_t HttpServer::port() const { return impl_->port; }
size_t HttpServer::active_connections() const { return impl_->active.load(); }

void HttpServer::Shutdown() {
  std::call_once(impl_->shutdown_once, [this] { impl_->DoShutdown(); });
}

}  // namespace arbiter::server
