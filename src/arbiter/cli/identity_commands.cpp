// `arbiter identity ...`: admin and debugging commands for agent identity and tokens. Thin
// wrappers over arbiter_identity.
//
//   arbiter identity spiffe-parse spiffe://example.org/agent/triage/i-1 [--json]
//   arbiter identity jwt-decode <token> [--json]            (no verification: for debugging)
//   arbiter identity jwt-verify <token> --jwks jwks.json --audience arbiter [--issuer I] [--typ T]
//   arbiter identity jwks --db arbiter.db                   (the JWKS Arbiter publishes)
//   arbiter identity rotate-key --db arbiter.db [--overlap 900]
//   arbiter identity attest-request --key agent.pem --join-token arbjt_...  (agent side: the
//       body of POST /v1/attest; creates agent.pem, mode 0600, when it does not exist)
//   arbiter identity renew-request --key agent.pem --svid <svid>           (POST /v1/attest/renew)
//
// Exit status: 0 success (jwt-verify: the token verifies), 1 bad input or a refused token (one
// line on stderr; jwt-verify prints the refusal reason, e.g. `expired: ...`).
#include <CLI/CLI.hpp>

#include <boost/json/array.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "arbiter/cli/command_registry.h"
#include "arbiter/cli/input.h"
#include "arbiter/common/clock.h"
#include "arbiter/common/json.h"
#include "arbiter/identity/jose.h"
#include "arbiter/identity/jwk.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/registry.h"
#include "arbiter/identity/spiffe_id.h"
#include "arbiter/identity/sqlite_identity_store.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::cli {
namespace {

constexpr size_t kMaxFile = 1u << 20;

int Fail(const Status& s) {
  std::cerr << "arbiter identity: " << s.message() << "\n";
  return 1;
}

int SpiffeParse(const std::string& input, bool json) {
  auto id = identity::SpiffeId::Parse(input);
  if (!id) return Fail(id.error());
  if (json) {
    boost::json::array segments;
    for (auto s : id->Segments()) segments.emplace_back(s);
    boost::json::object o{{"id", id->ToString()},
                          {"trust_domain", id->trust_domain().name()},
                          {"path", id->path()},
                          {"segments", std::move(segments)}};
    std::cout << ToJson(o) << "\n";
  } else {
    std::cout << "trust domain: " << id->trust_domain().name() << "\npath: " << id->path() << "\n";
  }
  return 0;
}

int JwtDecode(const std::string& token, bool json) {
  auto jws = identity::DecodeCompactJws(token);
  if (!jws) return Fail(jws.error());
  if (json) {
    boost::json::object o{{"header", jws->header}, {"claims", jws->payload}, {"verified", false}};
    std::cout << ToJson(o) << "\n";
  } else {
    std::cout << "header: " << ToJson(jws->header) << "\nclaims: " << ToJson(jws->payload)
              << "\n(not verified)\n";
  }
  return 0;
}

struct VerifyOptions {
  std::string token, jwks, audience, issuer, typ;
  std::int64_t leeway = 5;
  bool json = false;
};

int JwtVerify(const VerifyOptions& o) {
  auto text = ReadInput(o.jwks, kMaxFile);
  if (!text) return Fail(text.error());
  auto set = identity::JwkSet::Parse(*text);
  if (!set) return Fail(set.error());
  identity::JwtExpectations e;
  e.typ = o.typ;
  e.issuer = o.issuer;
  e.audience = o.audience;
  e.now_seconds = SystemClock::Get().NowSeconds();
  e.leeway_seconds = o.leeway;
  auto v = identity::VerifyJwt(o.token, *set, e);
  if (!v) return Fail(v.error());
  if (o.json) {
    std::cout << ToJson(
                     boost::json::object{{"valid", true}, {"kid", v->kid}, {"claims", v->claims}})
              << "\n";
  } else {
    std::cout << "valid (kid " << v->kid << ")\nclaims: " << ToJson(v->claims) << "\n";
  }
  return 0;
}

Result<std::unique_ptr<identity::IdentityStore>> OpenStore(const std::string& path) {
  ARBITER_TRY(auto db, store::SqliteDb::Open(path));
  return identity::CreateSqliteIdentityStore(std::move(db));
}

int Jwks(const std::string& db) {
  auto s = OpenStore(db);
  if (!s) return Fail(s.error());
  auto ring = identity::KeyRing::Create(**s, SystemClock::Get());
  if (!ring) return Fail(ring.error());
  std::cout << (*ring)->JwksJson() << "\n";
  return 0;
}

int RotateKey(const std::string& db, std::int64_t overlap) {
  auto s = OpenStore(db);
  if (!s) return Fail(s.error());
  identity::KeyRingOptions opts;
  opts.overlap_seconds = overlap;
  auto ring = identity::KeyRing::Create(**s, SystemClock::Get(), opts);
  if (!ring) return Fail(ring.error());
  const std::string old_kid = (*ring)->ActiveKid();
  if (Status st = (*ring)->Rotate(); !st.ok()) return Fail(st);
  std::cout << "rotated: " << old_kid << " -> " << (*ring)->ActiveKid() << " (old key verifies for "
            << overlap << " s)\n";
  return 0;
}

// The agent's P-256 key from `path`; when the file does not exist, a new key written there with
// mode 0600 (never overwriting a file).
Result<EcdsaP256PrivateKey> LoadOrCreateAgentKey(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    ARBITER_TRY(std::string pem, ReadInput(path, kMaxFile));
    auto key = EcdsaP256PrivateKey::FromPem(pem);
    if (!key) return Status::InvalidArgument("`" + path + "`: " + key.error().message());
    return key;
  }
  ARBITER_TRY(EcdsaP256PrivateKey key, EcdsaP256PrivateKey::Generate());
  const std::string pem = key.ToPem();
  FILE* f = std::fopen(path.c_str(), "wx");  // x: fail rather than replace a file
  if (f == nullptr) {
    return Status::InvalidArgument("cannot create `" + path + "`: " + std::strerror(errno));
  }
  ::chmod(path.c_str(), 0600);
  const bool written = std::fwrite(pem.data(), 1, pem.size(), f) == pem.size();
  if (std::fclose(f) != 0 || !written) {
    return Status::Unavailable("cannot write `" + path + "`");
  }
  return key;
}

int AttestRequest(const std::string& key_path, const std::string& join_token) {
  auto key = LoadOrCreateAgentKey(key_path);
  if (!key) return Fail(key.error());
  auto proof = identity::SignProof(*key, identity::AttestationProofMessage(join_token));
  if (!proof) return Fail(proof.error());
  auto jwk = ParseJson(identity::AgentPublicJwk(*key));
  if (!jwk) return Fail(jwk.error());
  boost::json::object body{
      {"join_token", join_token}, {"public_key", std::move(*jwk)}, {"proof", *proof}};
  std::cout << ToJson(body) << "\n";
  return 0;
}

int RenewRequest(const std::string& key_path, const std::string& svid) {
  std::error_code ec;
  if (!std::filesystem::exists(key_path, ec)) {
    return Fail(Status::NotFound("cannot read `" + key_path + "`"));
  }
  auto key = LoadOrCreateAgentKey(key_path);
  if (!key) return Fail(key.error());
  auto proof = identity::SignProof(*key, identity::RenewalProofMessage(svid));
  if (!proof) return Fail(proof.error());
  std::cout << ToJson(boost::json::object{{"proof", *proof}}) << "\n";
  return 0;
}

void AddIdentityCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("identity", "Agent identity: SPIFFE IDs, JWTs, JWKS, keys");
  group->require_subcommand(1);

  auto* parse = group->add_subcommand("spiffe-parse", "Parse and validate a SPIFFE ID");
  auto input = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  parse->add_option("id", *input, "The SPIFFE ID")->required();
  parse->add_flag("--json", *json, "Machine-readable output");
  parse->callback([&ctx, input, json] { ctx.exit_code = SpiffeParse(*input, *json); });

  auto* decode = group->add_subcommand("jwt-decode", "Show a JWT's header and claims (unverified)");
  auto token = std::make_shared<std::string>();
  auto decode_json = std::make_shared<bool>(false);
  decode->add_option("token", *token, "Compact JWS")->required();
  decode->add_flag("--json", *decode_json, "Machine-readable output");
  decode->callback([&ctx, token, decode_json] { ctx.exit_code = JwtDecode(*token, *decode_json); });

  auto* verify = group->add_subcommand("jwt-verify", "Verify an ES256 JWT against a JWKS file");
  auto vo = std::make_shared<VerifyOptions>();
  verify->add_option("token", vo->token, "Compact JWS")->required();
  verify->add_option("--jwks", vo->jwks, "JWKS file")->required();
  verify->add_option("--audience", vo->audience, "Expected audience")->required();
  verify->add_option("--issuer", vo->issuer, "Expected issuer");
  verify->add_option("--typ", vo->typ, "Expected typ header (e.g. JWT, intent+jwt)");
  verify->add_option("--leeway", vo->leeway, "Clock skew allowed, seconds")->capture_default_str();
  verify->add_flag("--json", vo->json, "Machine-readable output");
  verify->callback([&ctx, vo] { ctx.exit_code = JwtVerify(*vo); });

  auto* jwks = group->add_subcommand("jwks", "Print the JWKS of an Arbiter database");
  auto db = std::make_shared<std::string>();
  jwks->add_option("--db", *db, "SQLite database (creates the first key if none)")->required();
  jwks->callback([&ctx, db] { ctx.exit_code = Jwks(*db); });

  auto* rotate = group->add_subcommand("rotate-key", "Rotate the token signing key");
  auto rdb = std::make_shared<std::string>();
  auto overlap = std::make_shared<std::int64_t>(900);
  rotate->add_option("--db", *rdb, "SQLite database")->required();
  rotate->add_option("--overlap", *overlap, "Seconds the old key keeps verifying")
      ->capture_default_str();
  rotate->callback([&ctx, rdb, overlap] { ctx.exit_code = RotateKey(*rdb, *overlap); });

  auto* attest = group->add_subcommand(
      "attest-request",
      "Agent side: print the JSON body of POST /v1/attest (join token, public JWK, proof of "
      "possession); creates the key file (mode 0600) when it does not exist");
  auto attest_key = std::make_shared<std::string>();
  auto join = std::make_shared<std::string>();
  attest->add_option("--key", *attest_key, "the agent's P-256 private key (PEM)")->required();
  attest->add_option("--join-token", *join, "the join token an admin issued")->required();
  attest->callback([&ctx, attest_key, join] { ctx.exit_code = AttestRequest(*attest_key, *join); });

  auto* renew = group->add_subcommand(
      "renew-request", "Agent side: print the JSON body of POST /v1/attest/renew for an SVID");
  auto renew_key = std::make_shared<std::string>();
  auto svid = std::make_shared<std::string>();
  renew->add_option("--key", *renew_key, "the agent's P-256 private key (PEM)")->required();
  renew->add_option("--svid", *svid, "the current JWT-SVID")->required();
  renew->callback([&ctx, renew_key, svid] { ctx.exit_code = RenewRequest(*renew_key, *svid); });
}

}  // namespace

ARBITER_COMMAND_GROUP(identity, AddIdentityCommands);

}  // namespace arbiter::cli
