#include "arbiter/server/identity_api.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <utility>

#include "arbiter/common/json.h"
#include "arbiter/identity/spiffe_id.h"

namespace arbiter::server {
namespace {

bool LooksLikeJws(std::string_view token) {
  return std::count(token.begin(), token.end(), '.') == 2 && token.rfind("eyJ", 0) == 0;
}

boost::json::array Strings(const std::vector<std::string>& v) {
  boost::json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

boost::json::object WorkloadJson(const identity::WorkloadRecord& w) {
  boost::json::object o;
  o["name"] = w.name;
  o["owner"] = w.owner;
  o["risk_tier"] = w.risk_tier;
  o["intents"] = Strings(w.intents);
  o["max_grant_ttl_seconds"] = w.max_grant_ttl_seconds;
  o["created_by"] = w.created_by;
  o["created_at"] = w.created_at;
  if (w.revoked_at != 0) {
    o["revoked_at"] = w.revoked_at;
    o["revoke_reason"] = w.revoke_reason;
  }
  return o;
}

boost::json::object InstanceJson(const identity::InstanceRecord& i) {
  boost::json::object o;
  o["spiffe_id"] = i.spiffe_id;
  o["workload"] = i.workload;
  o["instance"] = i.instance_id;
  o["created_at"] = i.created_at;
  o["svid_expires_at"] = i.svid_expires_at;
  if (i.revoked_at != 0) {
    o["revoked_at"] = i.revoked_at;
    o["revoke_reason"] = i.revoke_reason;
  }
  return o;
}

boost::json::object JoinTokenJson(const identity::JoinToken& t) {
  boost::json::object o;
  o["workload"] = t.workload;
  o["join_token"] = t.token;
  o["expires_at"] = t.expires_at;
  return o;
}

boost::json::object CredentialJson(const identity::AgentCredential& c) {
  boost::json::object o;
  o["spiffe_id"] = c.id.ToString();
  o["svid"] = c.svid;
  o["expires_at"] = c.expires_at;
  return o;
}

// An optional string member of the body; `where.key` names it in errors.
Result<std::string> OptionalString(const boost::json::object& body, std::string_view key) {
  ARBITER_TRY(auto v, GetOptionalString(body, key, "body"));
  return v ? std::string(*v) : std::string();
}

Result<std::vector<std::string>> StringArray(const boost::json::object& body,
                                             std::string_view key) {
  auto it = body.find(key);
  if (it == body.end() || !it->value().is_array()) {
    return Status::InvalidArgument("body." + std::string(key) + ": expected an array of strings");
  }
  std::vector<std::string> out;
  for (const auto& v : it->value().as_array()) {
    if (!v.is_string()) {
      return Status::InvalidArgument("body." + std::string(key) + ": expected an array of strings");
    }
    out.emplace_back(v.as_string());
  }
  return out;
}

// The reason a refused credential gives, as an API error without a field.
HttpResponse CredentialError(const Status& s) {
  ApiError e = ApiErrorFromStatus(s);
  e.field.clear();
  return ErrorResponse(e);
}

}  // namespace

std::optional<std::string> VerifiedSvidCache::Find(const Sha256Digest& digest) {
  const std::string_view key(reinterpret_cast<const char*>(digest.data()), digest.size());
  const std::int64_t now = clock_.NowSeconds();
  std::lock_guard lock(mu_);
  auto it = by_digest_.find(std::string(key));
  if (it == by_digest_.end()) return std::nullopt;
  if (now >= it->second.expires_at) {
    by_digest_.erase(it);
    return std::nullopt;
  }
  ++hits_;
  return it->second.spiffe_id;
}

std::uint64_t VerifiedSvidCache::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

void VerifiedSvidCache::Insert(const Sha256Digest& digest, std::string spiffe_id,
                               std::int64_t expires_at, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  if (generation != generation_) return;
  if (by_digest_.size() >= max_entries_) {
    const std::int64_t now = clock_.NowSeconds();
    std::erase_if(by_digest_, [now](const auto& kv) { return now >= kv.second.expires_at; });
    if (by_digest_.size() >= max_entries_) by_digest_.clear();
  }
  by_digest_[std::string(reinterpret_cast<const char*>(digest.data()), digest.size())] =
      Entry{std::move(spiffe_id), expires_at};
}

void VerifiedSvidCache::Clear() {
  std::lock_guard lock(mu_);
  ++generation_;
  by_digest_.clear();
}

std::uint64_t VerifiedSvidCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

Result<Principal> IdentityAuthenticator::Authenticate(const HttpRequest& request) const {
  ARBITER_TRY(std::string_view token, BearerToken(request));
  if (LooksLikeJws(token)) {
    VerifiedSvidCache* cache = services_.svids;
    if (cache == nullptr) {
      auto agent = services_.registry->VerifySvid(token);
      if (!agent) return Status::Unauthenticated(agent.error().message());
      return Principal{PrincipalKind::kAgent, agent->id.ToString(), {}};
    }
    const Sha256Digest digest = Sha256(token);
    if (auto id = cache->Find(digest)) return Principal{PrincipalKind::kAgent, std::move(*id), {}};
    const std::uint64_t generation = cache->generation();
    auto agent = services_.registry->VerifySvid(token);
    if (!agent) return Status::Unauthenticated(agent.error().message());
    std::string id = agent->id.ToString();
    cache->Insert(digest, id, agent->svid_expires_at, generation);
    return Principal{PrincipalKind::kAgent, std::move(id), {}};
  }
  auto user = services_.users->Authenticate(token);
  if (!user) return Status::Unauthenticated(user.error().message());
  return Principal{PrincipalKind::kHuman, user->name, user->roles};
}

Status AddIdentityRoutes(Router& router, IdentityServices s) {
  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/.well-known/jwks.json", Access::kPublic, [s](RequestContext&) {
        HttpResponse r;
        r.content_type = "application/json";
        r.body = s.keys->JwksJson();
        // Short: rotated keys must reach verifiers within the
        // overlap.
        r.headers.push_back({"cache-control", "max-age=60"});
        return r;
      }));

  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kPost, "/v1/attest", Access::kPublic, [s](RequestContext& ctx) {
        auto body = ctx.JsonObjectBody();
        if (!body) return ErrorResponse(body.error());
        auto join = GetString(*body, "join_token", "body");
        if (!join) return ErrorResponse(join.error());
        auto proof = GetString(*body, "proof", "body");
        if (!proof) return ErrorResponse(proof.error());
        auto key = body->find("public_key");
        if (key == body->end() || !key->value().is_object()) {
          return ErrorResponse(400, "invalid_argument",
                               "body.public_key: expected the agent's ec p-256 public jwk",
                               "body.public_key");
        }
        auto cred = s.registry->Attest(*join, ToJson(key->value()), *proof);
        if (!cred) return CredentialError(cred.error());
        return JsonResponse(200, CredentialJson(*cred));
      }));

  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kPost, "/v1/attest/renew", Access::kAgent, [s](RequestContext& ctx) {
        auto body = ctx.JsonObjectBody();
        if (!body) return ErrorResponse(body.error());
        auto proof = GetString(*body, "proof", "body");
        if (!proof) return ErrorResponse(proof.error());
        auto svid = BearerToken(ctx.request());
        if (!svid) return CredentialError(svid.error());
        auto cred = s.registry->Renew(*svid, *proof);
        if (!cred) return CredentialError(cred.error());
        return JsonResponse(200, CredentialJson(*cred));
      }));

  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/v1/admin/workloads", Access::kAdmin, [s](RequestContext&) {
        auto list = s.registry->ListWorkloads();
        if (!list) return ErrorResponse(list.error());
        boost::json::array a;
        for (const auto& w : *list) a.push_back(WorkloadJson(w));
        return JsonResponse(200, boost::json::object{{"workloads", std::move(a)}});
      }));

  ARBITER_RETURN_IF_ERROR(router.Add(
      HttpMethod::kPost, "/v1/admin/workloads", Access::kAdmin, [s](RequestContext& ctx) {
        auto body = ctx.JsonObjectBody();
        if (!body) return ErrorResponse(body.error());
        identity::WorkloadSpec spec;
        auto name = GetString(*body, "name", "body");
        if (!name) return ErrorResponse(name.error());
        spec.name = std::string(*name);
        auto owner = GetString(*body, "owner", "body");
        if (!owner) return ErrorResponse(owner.error());
        spec.owner = std::string(*owner);
        auto tier = GetString(*body, "risk_tier", "body");
        if (!tier) return ErrorResponse(tier.error());
        spec.risk_tier = std::string(*tier);
        auto intents = StringArray(*body, "intents");
        if (!intents) return ErrorResponse(intents.error());
        spec.intents = std::move(*intents);
        if (body->contains("max_grant_ttl_seconds")) {
          auto ttl = GetInt64(*body, "max_grant_ttl_seconds", "body");
          if (!ttl) return ErrorResponse(ttl.error());
          spec.max_grant_ttl_seconds = *ttl;
        }
        auto token = s.registry->RegisterWorkload(spec, ctx.principal()->id);
        if (!token) return ErrorResponse(token.error());
        return JsonResponse(201, JoinTokenJson(*token));
      }));

  ARBITER_RETURN_IF_ERROR(router.Add(
      HttpMethod::kDelete, "/v1/admin/workloads/{id}", Access::kAdmin, [s](RequestContext& ctx) {
        std::string reason(ctx.request().QueryParam("reason").value_or("revoked by admin"));
        Status st = s.registry->RevokeWorkload(ctx.PathParam("id"),
                                               reason + " (" + ctx.principal()->id + ")");
        if (s.svids != nullptr) s.svids->Clear();  // its instances' SVIDs: refused from now on
        if (!st.ok()) return ErrorResponse(st);
        HttpResponse r;
        r.status = 204;
        return r;
      }));

  ARBITER_RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/admin/join-tokens", Access::kAdmin,
                                     [s](RequestContext& ctx) {
                                       auto body = ctx.JsonObjectBody();
                                       if (!body) return ErrorResponse(body.error());
                                       auto workload = GetString(*body, "workload", "body");
                                       if (!workload) return ErrorResponse(workload.error());
                                       auto token = s.registry->IssueJoinToken(*workload);
                                       if (!token) return ErrorResponse(token.error());
                                       return JsonResponse(201, JoinTokenJson(*token));
                                     }));

  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/v1/admin/instances", Access::kAdmin, [s](RequestContext& ctx) {
        std::vector<std::string> workloads;
        if (auto only = ctx.request().QueryParam("workload")) {
          workloads.emplace_back(*only);
        } else {
          auto list = s.registry->ListWorkloads();
          if (!list) return ErrorResponse(list.error());
          for (const auto& record : *list) workloads.push_back(record.name);
        }
        boost::json::array a;
        for (const auto& w : workloads) {
          auto instances = s.registry->ListInstances(w);
          if (!instances) return ErrorResponse(instances.error());
          for (const auto& i : *instances) a.push_back(InstanceJson(i));
        }
        return JsonResponse(200, boost::json::object{{"instances", std::move(a)}});
      }));

  ARBITER_RETURN_IF_ERROR(router.Add(
      HttpMethod::kDelete, "/v1/admin/instances/{workload}/{instance}", Access::kAdmin,
      [s](RequestContext& ctx) {
        std::string id = s.registry->trust_domain().IdString() + "/agent/" +
                         std::string(ctx.PathParam("workload")) + "/" +
                         std::string(ctx.PathParam("instance"));
        std::string reason(ctx.request().QueryParam("reason").value_or("revoked by admin"));
        Status st = s.registry->RevokeInstance(id, reason + " (" + ctx.principal()->id + ")");
        if (s.svids != nullptr) s.svids->Clear();  // its SVIDs: refused from now on
        if (!st.ok()) return ErrorResponse(st);
        HttpResponse r;
        r.status = 204;
        return r;
      }));

  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/v1/admin/users", Access::kAdmin, [s](RequestContext&) {
        auto list = s.users->ListUsers();
        if (!list) return ErrorResponse(list.error());
        boost::json::array a;
        for (const auto& u : *list) {
          boost::json::object o;
          o["name"] = u.name;
          o["roles"] = Strings(u.roles);
          o["created_at"] = u.created_at;
          o["disabled"] = u.disabled;
          a.push_back(std::move(o));
        }
        return JsonResponse(200, boost::json::object{{"users", std::move(a)}});
      }));

  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kPost, "/v1/admin/users", Access::kAdmin, [s](RequestContext& ctx) {
        auto body = ctx.JsonObjectBody();
        if (!body) return ErrorResponse(body.error());
        auto name = GetString(*body, "name", "body");
        if (!name) return ErrorResponse(name.error());
        auto roles = StringArray(*body, "roles");
        if (!roles) return ErrorResponse(roles.error());
        auto label = OptionalString(*body, "token_label");
        if (!label) return ErrorResponse(label.error());
        auto user = s.users->CreateUser(*name, std::move(*roles));
        if (!user) return ErrorResponse(user.error());
        auto token = s.users->IssueApiToken(user->name, label->empty() ? "initial" : *label);
        if (!token) return ErrorResponse(token.error());
        boost::json::object o;
        o["name"] = user->name;
        o["roles"] = Strings(user->roles);
        o["token"] = token->token;
        o["token_id"] = token->id;
        return JsonResponse(201, std::move(o));
      }));
  return Status::Ok();
}

}  // namespace arbiter::server
