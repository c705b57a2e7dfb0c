#include "arbiter/routing/evidence.h"

#include <boost/json.hpp>

#include <tuple>

#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"
#include "arbiter/routing/internal/hmac.h"

namespace arbiter::routing {

boost::json::object Actor::ToJson() const {
  boost::json::object o;
  o["kind"] = kind;
  o["id"] = id;
  return o;
}

Result<std::uint64_t> InMemoryEvidenceSink::Append(std::string_view canonical_json) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fail_) return Status::Unavailable("evidence sink: append failed (test)");
  records_.emplace_back(canonical_json);
  return static_cast<std::uint64_t>(records_.size() - 1);
}

std::vector<std::string> InMemoryEvidenceSink::Records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

size_t InMemoryEvidenceSink::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_.size();
}

void InMemoryEvidenceSink::FailAppends(bool fail) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_ = fail;
}

CaseKey::CaseKey(ByteView key) : key_(std::make_shared<internal::HmacSha256Key>(key)) {}

std::string CaseKey::Hash(std::string_view label, std::string_view data) const {
  std::string out;
  out.reserve(64);
  key_->AppendHexMac(label, data, out);
  return out;
}

void CaseKey::AppendHash(std::string_view label, std::string_view data, std::string& out) const {
  key_->AppendHexMac(label, data, out);
}

void CaseKey::AppendHash(std::string_view label, std::span<const std::string_view> parts,
                         std::string& out) const {
  key_->AppendHexMac(label, parts.data(), parts.size(), out);
}

void CaseKey::WriteHash(std::string_view label, std::span<const std::string_view> parts,
                        char* out) const {
  internal::WriteHex(key_->Mac(label, parts.data(), parts.size()), out);
}

Result<CaseKey> InMemoryCaseKeyStore::KeyFor(std::string_view case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(case_id);
  if (it == keys_.end()) {
    it = keys_
             .emplace(std::piecewise_construct, std::forward_as_tuple(case_id),
                      std::forward_as_tuple())
             .first;
    std::uint8_t bytes[internal::kCaseKeyBytes];
    internal::DrawCaseKeyBytes(bytes);
    it->second.emplace(ByteView(bytes));
    internal::WipeKeyBytes(bytes, sizeof(bytes));
  } else if (!it->second) {
    return Status::FailedPrecondition("case `" + it->first + "`: its key was shredded");
  }
  return *it->second;
}

Status InMemoryCaseKeyStore::Shred(std::string_view case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_.insert_or_assign(std::string(case_id), std::nullopt);
  return Status::Ok();
}

boost::json::object NewEvidenceRecord(std::string_view type, const Actor& actor,
                                      std::int64_t at_micros) {
  boost::json::object o;
  o["v"] = 1;
  o["type"] = type;
  o["at"] = at_micros;
  o["actor"] = actor.ToJson();
  return o;
}

Result<std::optional<std::uint64_t>> AppendEvidence(EvidenceSink* sink,
                                                    const boost::json::object& record) {
  if (sink == nullptr) return std::optional<std::uint64_t>();
  ARBITER_TRY(std::uint64_t index, sink->Append(CanonicalJson(record)));
  return std::optional<std::uint64_t>(index);
}

}  // namespace arbiter::routing
