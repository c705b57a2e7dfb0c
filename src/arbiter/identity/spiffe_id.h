// SPIFFE IDs and trust domains, parsed and validated exactly as the SPIFFE ID specification
// (SPIFFE-ID.md) and its reference implementation go-spiffe (strict charset) do.
//
//   ARBITER_TRY(SpiffeId id, SpiffeId::Parse("spiffe://example.org/agent/triage/i-1"));
//   id.trust_domain().name();  // "example.org"
//   id.path();                 // "/agent/triage/i-1"
//   id.Segments();             // {"agent", "triage", "i-1"}
//
// Rules (the error messages are go-spiffe's, so that both report the same problem):
// - scheme `spiffe://` in lowercase (go-spiffe rejects `SPIFFE://`; so do we);
// - trust domain: 1-255 bytes of [a-z0-9._-];
// - path: empty, or `/`-separated segments of [a-zA-Z0-9._-], no empty, `.` or `..` segment, no
//   trailing slash; no query, fragment, userinfo or port (their characters are not allowed);
// - the whole ID at most 2048 bytes (the spec's limit; go-spiffe does not enforce it).
// Errors are kInvalidArgument with a one-line message naming the input in backticks.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::identity {

inline constexpr size_t kMaxSpiffeIdBytes = 2048;
inline constexpr size_t kMaxTrustDomainBytes = 255;

class TrustDomain {
 public:
  // Accepts a bare trust domain name ("example.org") or, if it contains ":/", a SPIFFE ID whose
  // trust domain is taken.
  static Result<TrustDomain> Parse(std::string_view id_or_name);

  const std::string& name() const { return name_; }
  // "spiffe://<name>"
  std::string IdString() const { return "spiffe://" + name_; }

  friend bool operator==(const TrustDomain&, const TrustDomain&) = default;

 private:
  friend class SpiffeId;
  explicit TrustDomain(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

class SpiffeId {
 public:
  static Result<SpiffeId> Parse(std::string_view id);
  // Builds `spiffe://<td>/<seg1>/<seg2>...` after validating each segment.
  static Result<SpiffeId> FromSegments(const TrustDomain& td,
                                       std::span<const std::string_view> segments);

  const TrustDomain& trust_domain() const { return trust_domain_; }
  const std::string& path() const { return path_; }  // "" or "/a/b"
  std::string ToString() const { return trust_domain_.IdString() + path_; }
  std::vector<std::string_view> Segments() const;
  bool MemberOf(const TrustDomain& td) const { return trust_domain_ == td; }

  friend bool operator==(const SpiffeId&, const SpiffeId&) = default;

 private:
  SpiffeId(TrustDomain td, std::string path)
      : trust_domain_(std::move(td)), path_(std::move(path)) {}
  TrustDomain trust_domain_;
  std::string path_;
};

// The error messages, shared with the tests (they are go-spiffe's).
namespace spiffe_errors {
inline constexpr std::string_view kEmpty = "cannot be empty";
inline constexpr std::string_view kScheme = "scheme is missing or invalid";
inline constexpr std::string_view kMissingTrustDomain = "trust domain is missing";
inline constexpr std::string_view kBadTrustDomainChar =
    "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and "
    "underscores";
inline constexpr std::string_view kBadPathChar =
    "path segment characters are limited to letters, numbers, dots, dashes, and underscores";
inline constexpr std::string_view kDotSegment = "path cannot contain dot segments";
inline constexpr std::string_view kEmptySegment = "path cannot contain empty segments";
inline constexpr std::string_view kTrailingSlash = "path cannot have a trailing slash";
inline constexpr std::string_view kNoLeadingSlash = "path must have a leading slash";
inline constexpr std::string_view kTooLong = "spiffe id is longer than 2048 bytes";
inline constexpr std::string_view kTrustDomainTooLong = "trust domain is longer than 255 bytes";
}  // namespace spiffe_errors

// A path ("" or "/a/b") as SPIFFE allows it.
Status ValidateSpiffePath(std::string_view path);
// One path segment (no slashes).
Status ValidateSpiffePathSegment(std::string_view segment);

}  // namespace arbiter::identity
