// Status and Result<T>: Arbiter's error values. Start here for error handling in any module.
//
// A Status is either OK or carries a code and a one-line, lowercase message that says what went
// wrong and where (user input in backticks). Result<T> holds either a T or a non-OK Status, with
// std::expected's member names so that code reads the same when the project moves to C++23.
//
//   Result<int> ParsePort(std::string_view s);
//   Status Start() {
//     ARBITER_TRY(int port, ParsePort(text));  // returns ParsePort's error from Start()
//     ARBITER_RETURN_IF_ERROR(Listen(port));
//     return Status::Ok();
//   }
//
// Return the most specific code that applies. Errors caused by user input are never assertions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace arbiter {

enum class StatusCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument,     // malformed or invalid input from a caller
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // creating something that exists
  kFailedPrecondition,  // the system is not in a state that allows the operation (e.g. case closed)
  kPermissionDenied,    // the caller is known but not allowed
  kUnauthenticated,     // the caller's credential is missing or invalid
  kResourceExhausted,   // a size, depth or count limit was exceeded
  kOutOfRange,          // an index or size beyond what exists
  kDataLoss,            // stored data is corrupt or has been tampered with
  kUnavailable,         // a dependency (disk, database) failed; retrying may help
  kInternal,            // a bug: an invariant of Arbiter's own code was broken
};

// The canonical lowercase name of a code, e.g. "invalid_argument".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "code: message", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>" (same code).
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Holds a T or a non-OK Status. Constructing a Result from an OK Status is a programming error and
// yields an kInternal error instead.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "use Status for Result<void>");

 public:
  using value_type = T;

  Result(const T& value) : data_(value) {}        // NOLINT(google-explicit-constructor)
  Result(T&& value) : data_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status)                           // NOLINT(google-explicit-constructor)
      : data_(status.ok() ? Status::Internal("result constructed from an ok status")
                          : std::move(status)) {}
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
           !std::is_same_v<std::remove_cvref_t<U>, Status> &&
           !std::is_same_v<std::remove_cvref_t<U>, Result<T>>) Result(U&& value)
      : data_(T(std::forward<U>(value))) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; only valid when !has_value().
  const Status& error() const& { return std::get<1>(data_); }
  Status&& error() && { return std::get<1>(std::move(data_)); }

  // The Status of this result: OK when it holds a value.
  Status status() const { return has_value() ? Status::Ok() : error(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Status> data_;
};

namespace internal {
inline Status AsStatus(const Status& s) { return s; }
inline Status AsStatus(Status&& s) { return std::move(s); }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
template <typename T>
Status AsStatus(Result<T>&& r) {
  return r.has_value() ? Status::Ok() : std::move(r).error();
}
}  // namespace internal

}  // namespace arbiter

#define ARBITER_CONCAT_INNER_(a, b) a##b
#define ARBITER_CONCAT_(a, b) ARBITER_CONCAT_INNER_(a, b)

// Evaluates `expr` (a Status or Result<T>); returns its error from the enclosing function if it
// failed.
#define ARBITER_RETURN_IF_ERROR(expr) \
  ARBITER_RETURN_IF_ERROR_IMPL_(ARBITER_CONCAT_(arbiter_status_, __COUNTER__), expr)
#define ARBITER_RETURN_IF_ERROR_IMPL_(tmp, expr)                   \
  do {                                                             \
    ::arbiter::Status tmp = ::arbiter::internal::AsStatus((expr)); \
    if (!tmp.ok()) return tmp;                                     \
  } while (false)

// ARBITER_TRY(decl, expr): evaluates `expr` (a Result<T>); on error returns it from the enclosing
// function, otherwise declares `decl` initialised with the moved value:
//   ARBITER_TRY(auto x, Parse(s));
#define ARBITER_TRY(decl, expr) \
  ARBITER_TRY_IMPL_(ARBITER_CONCAT_(arbiter_result_, __COUNTER__), decl, expr)
#define ARBITER_TRY_IMPL_(tmp, decl, expr)             \
  auto tmp = (expr);                                   \
  if (!tmp.has_value()) return std::move(tmp).error(); \
  decl = std::move(tmp).value()
