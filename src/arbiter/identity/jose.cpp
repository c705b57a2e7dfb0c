#include "arbiter/identity/jose.h"

#include <boost/json/array.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/string.hpp>

#include <string>

#include "arbiter/common/json.h"
#include "arbiter/identity/token_error.h"

namespace arbiter::identity {
namespace {

std::string Backtick(std::string_view s) { return Quoted(s); }

constexpr size_t kMaxJsonDepth = 16;

Result<boost::json::object> DecodeJsonPart(std::string_view b64, std::string_view what,
                                           const boost::json::storage_ptr& storage) {
  auto bytes = Base64UrlDecode(b64);
  if (!bytes) return TokenFailure(TokenError::kMalformed, std::string(what) + " is not base64url");
  const std::string_view text = AsChars(*bytes);
  // Fast path: one parser per thread, whose internal stacks are reused from token to token (the
  // token, and so `text`, is at most kMaxTokenBytes). A failure is parsed again by ParseJson to
  // say where.
  static const boost::json::parse_options kOptions = [] {
    boost::json::parse_options o;
    o.max_depth = kMaxJsonDepth;
    return o;
  }();
  thread_local boost::json::parser parser({}, kOptions);
  parser.reset(storage);
  boost::system::error_code ec;
  const size_t consumed = parser.write_some(text.data(), text.size(), ec);
  const bool parsed = !ec && consumed == text.size();
  boost::json::value fast = parsed ? parser.release() : boost::json::value();
  // Let go of `storage` (it may be the caller's stack arena) before returning.
  parser.reset();
  if (parsed) {
    if (!fast.is_object()) {
      return TokenFailure(TokenError::kMalformed, std::string(what) + " is not a json object");
    }
    return std::move(fast.as_object());
  }
  JsonLimits limits;
  limits.max_bytes = kMaxTokenBytes;
  limits.max_depth = kMaxJsonDepth;
  auto doc = ParseJson(text, limits);
  if (!doc) {
    return TokenFailure(TokenError::kMalformed,
                        std::string(what) + " is not valid json (" + doc.error().message() + ")");
  }
  if (!doc->is_object()) {
    return TokenFailure(TokenError::kMalformed, std::string(what) + " is not a json object");
  }
  return std::move(doc->as_object());
}

std::string LowerAsciiWithoutMediaPrefix(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  constexpr std::string_view kPrefix = "application/";
  if (out.starts_with(kPrefix)) out.erase(0, kPrefix.size());
  return out;
}

}  // namespace

Result<std::string_view> ClaimString(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (v == nullptr) {
    return TokenFailure(TokenError::kMissingClaim, "claim `" + std::string(name) + "` is missing");
  }
  if (!v->is_string()) {
    return TokenFailure(TokenError::kMalformed,
                        "claim `" + std::string(name) + "` must be a string");
  }
  const auto& s = v->get_string();
  return std::string_view(s.data(), s.size());
}

Result<std::int64_t> ClaimInt(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (v == nullptr) {
    return TokenFailure(TokenError::kMissingClaim, "claim `" + std::string(name) + "` is missing");
  }
  if (v->is_int64()) return v->get_int64();
  return TokenFailure(TokenError::kMalformed,
                      "claim `" + std::string(name) + "` must be an integer numericdate");
}

Result<DecodedJws> DecodeCompactJws(std::string_view token, boost::json::storage_ptr storage) {
  if (token.empty()) return TokenFailure(TokenError::kMalformed, "token is empty");
  if (token.size() > kMaxTokenBytes) {
    return TokenFailure(TokenError::kMalformed,
                        "token is longer than " + std::to_string(kMaxTokenBytes) + " bytes");
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return TokenFailure(TokenError::kMalformed,
                        "token is not a compact jws (expected three dot-separated parts)");
  }
  DecodedJws out;
  ARBITER_TRY(out.header, DecodeJsonPart(token.substr(0, dot1), "jws header", storage));
  ARBITER_TRY(out.payload,
              DecodeJsonPart(token.substr(dot1 + 1, dot2 - dot1 - 1), "jws payload", storage));
  auto sig = Base64UrlDecode(token.substr(dot2 + 1));
  if (!sig) return TokenFailure(TokenError::kMalformed, "jws signature is not base64url");
  out.signature = std::move(*sig);
  out.signing_input = token.substr(0, dot2);
  return out;
}

Result<std::string> SignJwt(const EcdsaP256PrivateKey& key, std::string_view kid,
                            std::string_view typ, const boost::json::object& claims) {
  return SignJwtJson(key, kid, typ, ToJson(claims));
}

Result<std::string> SignJwtJson(const EcdsaP256PrivateKey& key, std::string_view kid,
                                std::string_view typ, std::string_view claims_json) {
  // The header as boost::json would serialise {"alg":"ES256","kid":kid,"typ":typ}.
  std::string header = R"({"alg":")";
  header += kEs256;
  header += R"(","kid":)";
  AppendJsonString(kid, header);
  if (!typ.empty()) {
    header += R"(,"typ":)";
    AppendJsonString(typ, header);
  }
  header += '}';
  std::string token = Base64UrlEncode(AsBytes(header));
  token += '.';
  token += Base64UrlEncode(AsBytes(claims_json));
  ARBITER_TRY(Bytes sig, key.Sign(AsBytes(token)));
  token += '.';
  token += Base64UrlEncode(sig);
  return token;
}

Status CheckJoseHeader(const boost::json::object& header, std::string_view typ) {
  const auto* alg = header.if_contains("alg");
  if (alg == nullptr || !alg->is_string()) {
    return TokenFailure(TokenError::kMalformed, "jws header has no `alg` string");
  }
  const std::string_view alg_name(alg->get_string().data(), alg->get_string().size());
  if (alg_name != kEs256) {
    return TokenFailure(TokenError::kUnsupportedAlgorithm,
                        "alg " + Backtick(alg_name) + " is not accepted; only ES256 is");
  }
  if (header.contains("crit")) {
    return TokenFailure(TokenError::kMalformed, "jws header `crit` is not supported");
  }
  const auto* kid = header.if_contains("kid");
  if (kid == nullptr || !kid->is_string()) {
    return TokenFailure(TokenError::kUnknownKey, "jws header has no `kid` string");
  }
  if (!typ.empty()) {
    const auto* t = header.if_contains("typ");
    if (t == nullptr || !t->is_string()) {
      return TokenFailure(TokenError::kWrongType,
                          "jws header has no `typ`; expected " + Backtick(typ));
    }
    const std::string_view got(t->get_string().data(), t->get_string().size());
    if (LowerAsciiWithoutMediaPrefix(got) != LowerAsciiWithoutMediaPrefix(typ)) {
      return TokenFailure(TokenError::kWrongType,
                          "typ " + Backtick(got) + " is not " + Backtick(typ));
    }
  }
  return Status::Ok();
}

Status CheckJwtClaims(const boost::json::object& claims, const JwtExpectations& expect) {
  if (!expect.issuer.empty()) {
    ARBITER_TRY(std::string_view iss, ClaimString(claims, "iss"));
    if (iss != expect.issuer) {
      return TokenFailure(TokenError::kWrongIssuer,
                          "issuer " + Backtick(iss) + " is not " + Backtick(expect.issuer));
    }
  }
  {
    const auto* aud = claims.if_contains("aud");
    if (aud == nullptr) return TokenFailure(TokenError::kMissingClaim, "claim `aud` is missing");
    bool found = false;
    std::string shown;
    if (aud->is_string()) {
      found = aud->get_string() == expect.audience;
      shown = std::string(aud->get_string().data(), aud->get_string().size());
    } else if (aud->is_array() && !aud->get_array().empty()) {
      for (const auto& a : aud->get_array()) {
        if (!a.is_string()) {
          return TokenFailure(TokenError::kMalformed, "claim `aud` must hold strings");
        }
        if (a.get_string() == expect.audience) found = true;
        if (!shown.empty()) shown += ",";
        shown += std::string_view(a.get_string().data(), a.get_string().size());
      }
    } else {
      return TokenFailure(TokenError::kMalformed,
                          "claim `aud` must be a string or a non-empty array of strings");
    }
    if (!found) {
      return TokenFailure(
          TokenError::kWrongAudience,
          "audience " + Backtick(shown) + " does not include " + Backtick(expect.audience));
    }
  }
  ARBITER_TRY(std::int64_t exp, ClaimInt(claims, "exp"));
  if (expect.now_seconds >= exp + expect.leeway_seconds) {
    return TokenFailure(TokenError::kExpired, "token expired at " + std::to_string(exp) + ", now " +
                                                  std::to_string(expect.now_seconds));
  }
  if (claims.contains("nbf")) {
    ARBITER_TRY(std::int64_t nbf, ClaimInt(claims, "nbf"));
    if (expect.now_seconds + expect.leeway_seconds < nbf) {
      return TokenFailure(TokenError::kNotYetValid, "token not valid before " +
                                                        std::to_string(nbf) + ", now " +
                                                        std::to_string(expect.now_seconds));
    }
  }
  if (claims.contains("iat")) {
    ARBITER_TRY(std::int64_t iat, ClaimInt(claims, "iat"));
    if (expect.now_seconds + expect.leeway_seconds < iat) {
      return TokenFailure(TokenError::kNotYetValid, "token issued in the future at " +
                                                        std::to_string(iat) + ", now " +
                                                        std::to_string(expect.now_seconds));
    }
    if (expect.max_lifetime_seconds > 0 && exp - iat > expect.max_lifetime_seconds) {
      return TokenFailure(TokenError::kLifetimeTooLong,
                          "token lifetime " + std::to_string(exp - iat) + " s exceeds " +
                              std::to_string(expect.max_lifetime_seconds) + " s");
    }
  } else if (expect.max_lifetime_seconds > 0) {
    return TokenFailure(TokenError::kMissingClaim, "claim `iat` is missing");
  }
  if (expect.require_jti) {
    ARBITER_TRY(std::string_view jti, ClaimString(claims, "jti"));
    if (jti.empty()) return TokenFailure(TokenError::kMalformed, "claim `jti` is empty");
  }
  return Status::Ok();
}

Result<VerifiedJwt> VerifyJwt(std::string_view token, const JwsKeyResolver& keys,
                              const JwtExpectations& expect) {
  ARBITER_TRY(DecodedJws jws, DecodeCompactJws(token));
  ARBITER_RETURN_IF_ERROR(CheckJoseHeader(jws.header, expect.typ));
  const auto& kid_str = jws.header.at("kid").get_string();
  const std::string_view kid(kid_str.data(), kid_str.size());
  ARBITER_TRY(EcdsaP256PublicKey key, keys.ResolveKey(kid));
  if (jws.signature.size() != kEs256SignatureSize) {
    return TokenFailure(TokenError::kBadSignature, "es256 signature must be 64 bytes, got " +
                                                       std::to_string(jws.signature.size()));
  }
  if (!key.Verify(AsBytes(jws.signing_input), jws.signature).ok()) {
    return TokenFailure(TokenError::kBadSignature,
                        "signature does not verify under key " + Backtick(kid));
  }
  ARBITER_RETURN_IF_ERROR(CheckJwtClaims(jws.payload, expect));
  VerifiedJwt out;
  out.kid = std::string(kid);
  out.header = std::move(jws.header);
  out.claims = std::move(jws.payload);
  return out;
}

}  // namespace arbiter::identity
