#include "arbiter/routing/case_signals.h"

#include <algorithm>

namespace arbiter::routing {
namespace {

// The fingerprint of the last text Compute saw on this thread, for CaseOpened of the same case.
// A fingerprint depends only on the text and max_text_bytes, both part of the key, so a stale
// entry (another index, another case) is never used for a different text.
struct FingerprintMemo {
  std::string text;
  size_t max_text_bytes = 0;
  signals::DuplicateIndex::Fingerprint fingerprint;
  bool valid = false;
};
thread_local FingerprintMemo memo;

// The memo's texts are kept up to this size (larger ones are fingerprinted twice).
constexpr size_t kMaxMemoText = 16 * 1024;

// Whether c.AllText() == text, without building it.
bool AllTextEquals(const sources::Case& c, std::string_view text) {
  size_t at = 0;
  bool empty = true;
  const auto part = [&](std::string_view p) {
    if (!empty) {
      if (at >= text.size() || text[at] != '\n') return false;
      ++at;
    }
    if (text.substr(at, p.size()) != p) return false;
    at += p.size();
    empty = empty && p.empty();
    return true;
  };
  if (!part(c.subject)) return false;
  // AllText: the subject, then each non-empty body or message text after a newline (none before
  // the first non-empty part).
  if (!c.body.empty() && !part(c.body)) return false;
  for (const auto& m : c.messages) {
    if (!part(m.text)) return false;
  }
  return at == text.size();
}

}  // namespace

CaseSignals::CaseSignals(signals::ScanConfig scan, signals::DuplicateIndexOptions dedupe)
    : scan_(std::move(scan)), index_(dedupe) {}

Result<ComputedSignals> CaseSignals::Compute(const sources::Case& c) {
  const std::string text = c.AllText();
  const signals::ScanResult scan = signals::ScanText(text, scan_);
  SensitivitySignal sensitivity;
  sensitivity.level = std::string(signals::LevelName(scan.level));
  for (size_t k = 0; k < signals::kKindCount; ++k) {
    if (scan.counts[k] > 0) {
      sensitivity.kinds.emplace_back(signals::KindName(static_cast<signals::Kind>(k)));
    }
  }
  std::sort(sensitivity.kinds.begin(), sensitivity.kinds.end());

  DuplicateSignal duplicate;
  const signals::DuplicateIndex::Fingerprint fingerprint = index_.FingerprintOf(text);
  if (text.size() <= kMaxMemoText) {
    memo.text.assign(text);
    memo.max_text_bytes = index_.options().max_text_bytes;
    memo.fingerprint = fingerprint;
    memo.valid = true;
  }
  const signals::DuplicateMatch match = index_.Query(fingerprint);
  // A case already open (re-routed) is not a duplicate of itself.
  if (match.is_duplicate() && match.duplicate_of != c.id) {
    duplicate.duplicate_of = match.duplicate_of;
    duplicate.similarity = match.similarity;
    duplicate.cluster_size = static_cast<std::int64_t>(match.cluster_size) + 1;
  }
  ComputedSignals out;
  out.sensitivity = std::move(sensitivity);
  out.duplicate = std::move(duplicate);
  return out;
}

void CaseSignals::CaseOpened(const sources::Case& c) {
  // One lookup: Add refuses an id that is open already (a re-routed case) with kAlreadyExists and
  // changes nothing. An id or text the index refuses (over its limits) only means the case is not
  // found as a duplicate later; routing has already happened.
  if (memo.valid && memo.max_text_bytes == index_.options().max_text_bytes &&
      AllTextEquals(c, memo.text)) {
    (void)index_.Add(c.id, memo.fingerprint);
    return;
  }
  (void)index_.Add(c.id, c.AllText());
}

void CaseSignals::CaseClosed(std::string_view case_id) { (void)index_.Remove(case_id); }

}  // namespace arbiter::routing
