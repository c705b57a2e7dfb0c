#include "arbiter/identity/spiffe_id.h"

#include <string>

namespace arbiter::identity {
namespace {

constexpr std::string_view kScheme = "spiffe://";

bool IsTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool IsPathSegmentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// Shortens user input quoted in an error so that a 2 KB id does not make a 2 KB message.
std::string Quote(std::string_view s) {
  std::string out = "`";
  constexpr size_t kMax = 80;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) out += "...";
  out += "`";
  return out;
}

Status Invalid(std::string_view what, std::string_view input, std::string_view problem) {
  return Status::InvalidArgument(std::string(what) + " " + Quote(input) + ": " +
                                 std::string(problem));
}

// go-spiffe's validatePath, returning the bare problem text (or empty when valid).
std::string_view PathProblem(std::string_view path) {
  if (path.empty()) return {};
  if (path[0] != '/') return spiffe_errors::kNoLeadingSlash;
  size_t segment_start = 0;
  size_t segment_end = 0;
  for (; segment_end < path.size(); ++segment_end) {
    const char c = path[segment_end];
    if (c == '/') {
      const std::string_view seg = path.substr(segment_start, segment_end - segment_start);
      if (seg == "/") return spiffe_errors::kEmptySegment;
      if (seg == "/." || seg == "/..") return spiffe_errors::kDotSegment;
      segment_start = segment_end;
      continue;
    }
    if (!IsPathSegmentChar(c)) return spiffe_errors::kBadPathChar;
  }
  const std::string_view seg = path.substr(segment_start, segment_end - segment_start);
  if (seg == "/") return spiffe_errors::kTrailingSlash;
  if (seg == "/." || seg == "/..") return spiffe_errors::kDotSegment;
  return {};
}

std::string_view SegmentProblem(std::string_view segment) {
  if (segment.empty()) return spiffe_errors::kEmptySegment;
  if (segment == "." || segment == "..") return spiffe_errors::kDotSegment;
  for (char c : segment) {
    if (!IsPathSegmentChar(c)) return spiffe_errors::kBadPathChar;
  }
  return {};
}

}  // namespace

Status ValidateSpiffePath(std::string_view path) {
  const std::string_view problem = PathProblem(path);
  if (!problem.empty()) return Invalid("spiffe path", path, problem);
  return Status::Ok();
}

Status ValidateSpiffePathSegment(std::string_view segment) {
  const std::string_view problem = SegmentProblem(segment);
  if (!problem.empty()) return Invalid("spiffe path segment", segment, problem);
  return Status::Ok();
}

Result<TrustDomain> TrustDomain::Parse(std::string_view id_or_name) {
  if (id_or_name.empty()) {
    return Invalid("trust domain", id_or_name, spiffe_errors::kMissingTrustDomain);
  }
  if (id_or_name.find(":/") != std::string_view::npos) {
    ARBITER_TRY(SpiffeId id, SpiffeId::Parse(id_or_name));
    return id.trust_domain();
  }
  for (char c : id_or_name) {
    if (!IsTrustDomainChar(c)) {
      return Invalid("trust domain", id_or_name, spiffe_errors::kBadTrustDomainChar);
    }
  }
  if (id_or_name.size() > kMaxTrustDomainBytes) {
    return Invalid("trust domain", id_or_name, spiffe_errors::kTrustDomainTooLong);
  }
  return TrustDomain(std::string(id_or_name));
}

Result<SpiffeId> SpiffeId::Parse(std::string_view id) {
  if (id.empty()) return Invalid("spiffe id", id, spiffe_errors::kEmpty);
  if (id.substr(0, kScheme.size()) != kScheme)
    return Invalid("spiffe id", id, spiffe_errors::kScheme);
  const std::string_view rest = id.substr(kScheme.size());
  size_t i = 0;
  for (; i < rest.size(); ++i) {
    const char c = rest[i];
    if (c == '/') break;
    if (!IsTrustDomainChar(c)) return Invalid("spiffe id", id, spiffe_errors::kBadTrustDomainChar);
  }
  if (i == 0) return Invalid("spiffe id", id, spiffe_errors::kMissingTrustDomain);
  const std::string_view td = rest.substr(0, i);
  const std::string_view path = rest.substr(i);
  const std::string_view problem = PathProblem(path);
  if (!problem.empty()) return Invalid("spiffe id", id, problem);
  // The spec's size limits, checked after the character rules so that go-spiffe's errors win.
  if (td.size() > kMaxTrustDomainBytes) {
    return Invalid("spiffe id", id, spiffe_errors::kTrustDomainTooLong);
  }
  if (id.size() > kMaxSpiffeIdBytes) return Invalid("spiffe id", id, spiffe_errors::kTooLong);
  return SpiffeId(TrustDomain(std::string(td)), std::string(path));
}

Result<SpiffeId> SpiffeId::FromSegments(const TrustDomain& td,
                                        std::span<const std::string_view> segments) {
  std::string path;
  for (std::string_view seg : segments) {
    ARBITER_RETURN_IF_ERROR(ValidateSpiffePathSegment(seg));
    path += '/';
    path += seg;
  }
  if (kScheme.size() + td.name().size() + path.size() > kMaxSpiffeIdBytes) {
    return Invalid("spiffe id", td.IdString() + path, spiffe_errors::kTooLong);
  }
  return SpiffeId(td, std::move(path));
}

std::vector<std::string_view> SpiffeId::Segments() const {
  std::vector<std::string_view> out;
  std::string_view p = path_;
  while (!p.empty()) {
    p.remove_prefix(1);  // '/'
    const size_t next = p.find('/');
    out.push_back(p.substr(0, next));
    if (next == std::string_view::npos) break;
    p.remove_prefix(next);
  }
  return out;
}

}  // namespace arbiter::identity
