#include "arbiter/server/router.h"

#include <algorithm>

namespace arbiter::server {
namespace {

enum class SegmentKind : std::uint8_t { kLiteral = 0, kParam = 1, kRest = 2 };

struct Segment {
  SegmentKind kind = SegmentKind::kLiteral;
  std::string text;  // the literal, or the parameter name
};

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsParamNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

struct Router::Compiled {
  Route route;
  std::vector<Segment> segments;
  bool has_rest = false;  // ends in `{name...}`
};

std::string_view RequestContext::PathParam(std::string_view name) const {
  for (const auto& [k, v] : path_params_) {
    if (k == name) return v;
  }
  return {};
}

Result<boost::json::value> RequestContext::JsonBody() const {
  if (request_.body.empty()) return Status::InvalidArgument("body: expected a JSON document");
  auto parsed = ParseJson(request_.body, json_limits_);
  if (!parsed) return parsed.error().WithContext("body");
  return parsed;
}

Result<boost::json::object> RequestContext::JsonObjectBody(std::string_view where) const {
  ARBITER_TRY(boost::json::value v, JsonBody());
  if (!v.is_object()) {
    return Status::InvalidArgument(std::string(where) + ": expected an object, got " +
                                   std::string(JsonKindName(v)));
  }
  return std::move(v.as_object());
}

Router::Router() = default;
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

Status Router::Add(HttpMethod method, std::string_view pattern, Access access, Handler handler) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("route `" + std::string(pattern) + "`: " + std::string(why));
  };
  if (pattern.empty() || pattern[0] != '/') return bad("must start with `/`");
  if (!handler) return bad("has no handler");
  auto compiled = std::make_unique<Compiled>();
  std::vector<std::string_view> parts = SplitPath(pattern);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p.empty()) {
      if (parts.size() == 1) break;  // the root pattern "/"
      return bad("has an empty segment");
    }
    Segment seg;
    if (p.front() == '{') {
      if (p.back() != '}') return bad("has an unclosed `{`");
      std::string_view name = p.substr(1, p.size() - 2);
      seg.kind = SegmentKind::kParam;
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        seg.kind = SegmentKind::kRest;
        name.remove_suffix(3);
        if (i + 1 != parts.size()) return bad("`{name...}` must be the last segment");
      }
      if (name.empty()) return bad("has an empty parameter name");
      if (!std::all_of(name.begin(), name.end(), IsParamNameChar)) {
        return bad("parameter names are letters, digits and `_`");
      }
      for (const auto& s : compiled->segments) {
        if (s.kind != SegmentKind::kLiteral && s.text == name) return bad("repeats a parameter");
      }
      seg.text = std::string(name);
    } else {
      if (p.find_first_of("{}") != std::string_view::npos) return bad("has a stray `{` or `}`");
      seg.text = std::string(p);
    }
    compiled->segments.push_back(std::move(seg));
  }
  for (const auto& other : routes_) {
    if (other->route.method != method || other->segments.size() != compiled->segments.size()) {
      continue;
    }
    bool same = true;
    for (size_t i = 0; i < other->segments.size() && same; ++i) {
      const Segment& a = other->segments[i];
      const Segment& b = compiled->segments[i];
      same = a.kind == b.kind && (a.kind != SegmentKind::kLiteral || a.text == b.text);
    }
    if (same) {
      return Status::AlreadyExists("route " + std::string(HttpMethodName(method)) + " `" +
                                   std::string(pattern) + "` is already registered as `" +
                                   other->route.pattern + "`");
    }
  }
  for (const Segment& seg : compiled->segments) {
    compiled->has_rest = compiled->has_rest || seg.kind == SegmentKind::kRest;
  }
  compiled->route.method = method;
  compiled->route.pattern = std::string(pattern);
  compiled->route.access = access;
  compiled->route.handler = std::move(handler);
  compiled->route.index = routes_.size();
  routes_.push_back(std::move(compiled));
  return Status::Ok();
}

RouteMatch Router::Match(HttpMethod method, std::string_view path) const {
  RouteMatch result;
  if (path.empty() || path[0] != '/') return result;
  std::vector<std::string_view> parts = SplitPath(path);
  if (parts.size() == 1 && parts[0].empty()) parts.clear();  // "/"

  // Does the path have this pattern's shape? Cheap checks first: most patterns differ in their
  // segment count or their first literal, so the full comparison runs for a handful.
  auto matches = [&parts](const Compiled& c) {
    const auto& segs = c.segments;
    if (c.has_rest ? parts.size() < segs.size() : parts.size() != segs.size()) return false;
    for (size_t i = 0; i < segs.size(); ++i) {
      const Segment& s = segs[i];
      if (s.kind == SegmentKind::kRest) {
        for (size_t j = i; j < parts.size(); ++j) {
          if (parts[j].empty()) return false;
        }
        return true;
      }
      if (parts[i].empty()) return false;
      if (s.kind == SegmentKind::kLiteral && s.text != parts[i]) return false;
    }
    return true;
  };
  // `rank` compares lexicographically: lower is more specific. Only computed for matches.
  auto rank_of = [](const Compiled& c) {
    std::vector<std::uint8_t> rank;
    rank.reserve(c.segments.size());
    for (const Segment& s : c.segments) rank.push_back(static_cast<std::uint8_t>(s.kind));
    return rank;
  };

  const Compiled* best = nullptr;
  std::vector<std::uint8_t> best_rank;
  const Compiled* best_get = nullptr;  // for HEAD
  std::vector<std::uint8_t> best_get_rank;

  for (const auto& c : routes_) {
    if (!matches(*c)) continue;
    if (c->route.method == method) {
      std::vector<std::uint8_t> rank = rank_of(*c);
      if (best == nullptr || rank < best_rank) {
        best = c.get();
        best_rank = std::move(rank);
      }
    } else if (method == HttpMethod::kHead && c->route.method == HttpMethod::kGet) {
      std::vector<std::uint8_t> rank = rank_of(*c);
      if (best_get == nullptr || rank < best_get_rank) {
        best_get = c.get();
        best_get_rank = std::move(rank);
      }
    } else {
      if (std::find(result.allowed.begin(), result.allowed.end(), c->route.method) ==
          result.allowed.end()) {
        result.allowed.push_back(c->route.method);
      }
    }
  }
  if (best == nullptr) best = best_get;
  if (best == nullptr) {
    if (!result.allowed.empty()) {
      result.outcome = RouteMatch::Outcome::kMethodNotAllowed;
      std::sort(result.allowed.begin(), result.allowed.end());
    }
    return result;
  }
  result.outcome = RouteMatch::Outcome::kFound;
  result.route = &best->route;
  result.allowed.clear();
  for (size_t i = 0; i < best->segments.size(); ++i) {
    const Segment& s = best->segments[i];
    if (s.kind == SegmentKind::kParam) {
      result.params.emplace_back(s.text, std::string(parts[i]));
    } else if (s.kind == SegmentKind::kRest) {
      std::string rest;
      for (size_t j = i; j < parts.size(); ++j) {
        if (j > i) rest.push_back('/');
        rest.append(parts[j]);
      }
      result.params.emplace_back(s.text, std::move(rest));
    }
  }
  return result;
}

std::vector<const Route*> Router::Routes() const {
  std::vector<const Route*> out;
  out.reserve(routes_.size());
  for (const auto& c : routes_) out.push_back(&c->route);
  return out;
}

}  // namespace arbiter::server
