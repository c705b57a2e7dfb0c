// The HTTP/1.1 transport: listens on a TCP address, parses requests with Boost.Beast (kept out of
// this header), enforces the transport limits and hands each request to a Dispatcher.
//
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";                 // port 0: the kernel picks a free port
//   ARBITER_TRY(auto server, HttpServer::Start(options, dispatcher.get()));
//   std::cout << server->address();                 // "127.0.0.1:41234"
//   ...
//   server->Shutdown();                             // graceful: drains, then stops
//
// Limits and what the client sees when it crosses one:
//   - headers over max_header_bytes → 431, connection closed;
//   - a body over max_body_bytes (declared or actual) → 413, connection closed;
//   - malformed HTTP → 400, connection closed;
//   - more than max_connections open → 503 and close, before reading anything;
//   - no complete header within header_timeout, no complete body within body_timeout, no new
//     request on a keep-alive connection within idle_timeout, or a response not taken within
//     write_timeout → the connection is closed (checked every tenth of the shortest timeout, at
//     most every 100 ms, so up to that much late).
// Keep-alive follows the request (HTTP/1.1 default on, `Connection: close` honoured, HTTP/1.0
// needs `Connection: keep-alive`). Pipelined requests are answered in order.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "arbiter/common/status.h"
#include "arbiter/server/dispatcher.h"

namespace arbiter::server {

struct ServerLimits {
  size_t max_body_bytes = 1u << 20;     // 1 MiB
  size_t max_header_bytes = 16u << 10;  // request line + headers, 16 KiB
  size_t max_connections = 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
};

struct ServerOptions {
  // "host:port" with an IPv4 or bracketed IPv6 literal, or "localhost:port". Port 0 picks one.
  std::string listen = "127.0.0.1:8080";
  // I/O and handler threads, each with its own event loop; a connection stays on one thread.
  // 0 means one per core.
  int threads = 0;
  ServerLimits limits;
  // How long Shutdown() waits for in-flight requests before closing their connections.
  std::chrono::milliseconds shutdown_grace{5'000};
};

// Parses a listen address; kInvalidArgument naming `listen` when malformed.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
Result<ListenAddress> ParseListenAddress(std::string_view text);

class HttpServer {
 public:
  // Binds, listens and starts the threads. `dispatcher` must outlive the server. kUnavailable when
  // the address cannot be bound, kInvalidArgument for a malformed address.
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options,
                                                   Dispatcher* dispatcher);
  ~HttpServer();  // Shutdown()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound address, e.g. "127.0.0.1:41234" (with the real port when 0 was asked).
  std::string address() const;
  std::uint16_t port() const;

  // Graceful stop: stops accepting, closes idle keep-alive connections, lets in-flight requests
  // finish (their responses carry `Connection: close`) for up to shutdown_grace, then closes
  // whatever is left and joins the threads. Idempotent; thread-safe; must not be called from a
  // handler.
  void Shutdown();

  // Open connections right now.
  size_t active_connections() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace arbiter::server
