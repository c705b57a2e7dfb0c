// A deliberately independent HTTP/1.1 client for the server's end-to-end tests: plain POSIX
// sockets and a hand-written response parser (Content-Length framing, which is all the server
// emits), so that tests can send malformed, slow or oversized requests byte by byte.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace arbiter::server::testing {

struct RawResponse {
  int status = 0;
  std::string version;                         // "HTTP/1.1"
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class TestConnection {
 public:
  // Connects to 127.0.0.1:port; fd() < 0 on failure.
  explicit TestConnection(std::uint16_t port);
  ~TestConnection();
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all bytes; false if the peer closed or reset.
  bool Send(std::string_view bytes);
  // Reads one response, waiting at most `timeout`; nullopt on close, timeout or a malformed
  // response.
  std::optional<RawResponse> Read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the server closes the connection (EOF or reset) within `timeout` without sending
  // anything more than what is already buffered.
  bool WaitClosed(std::chrono::milliseconds timeout);

 private:
  // Reads more bytes into buffer_; false on EOF/error/timeout.
  bool Fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
};

// "METHOD target HTTP/1.1" with Host, the given extra header lines (each "Name: value\r\n") and a
// Content-Length body when `body` is non-empty.
std::string BuildRequest(std::string_view method, std::string_view target,
                         std::string_view body = {}, std::string_view extra_headers = {});

// One request on a fresh connection.
std::optional<RawResponse> Fetch(std::uint16_t port, std::string_view method,
                                 std::string_view target, std::string_view body = {},
                                 std::string_view extra_headers = {});

}  // namespace arbiter::server::testing
