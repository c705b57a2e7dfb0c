// Source adapters: turn a ticket system's payload into Arbiter's Case (case.h). One entry point,
// ConvertPayload(source, bytes), dispatches to the adapter for the source:
//
//   "zendesk"     ticket API object ({"ticket": {...}} or the bare ticket) or event webhook
//                 ({"type": "zen:event-type:ticket.*", "detail": {...}})
//   "jira"        Jira / Jira Service Management issue webhook ({"webhookEvent", "issue"}), the
//                 bare issue, or a JSM customer request ({"issueKey", "requestTypeId", ...})
//   "servicenow"  Table API incident record ({"result": {...}} or bare; every value a string,
//                 references as {"link", "value"})
//   "freshdesk"   API v2 ticket (numeric status, priority, source)
//   "email"       one RFC 5322 message, or several (mbox "From " lines) of one thread
//
//   ARBITER_TRY(Case c, ConvertPayload("freshdesk", body));
//
// Priority and severity are mapped by the tables in docs/SOURCES.md. Fields an adapter does not
// map are kept under Case::attributes. A malformed payload is refused with a one-line error that
// names the source and the field ("freshdesk: priority: `7` is not one of 1, 2, 3, 4").
// Input size and JSON depth are bounded (ConvertLimits).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/sources/case.h"

namespace arbiter::sources {

struct ConvertLimits {
  size_t max_bytes = 16u << 20;
  size_t max_json_depth = 64;
  size_t max_email_messages = 1000;
};

// The sources ConvertPayload accepts, in the order above.
const std::vector<std::string_view>& SupportedSources();

Result<Case> ConvertPayload(std::string_view source, std::string_view bytes,
                            const ConvertLimits& limits = {});

Result<Case> ConvertZendesk(std::string_view json, const ConvertLimits& limits = {});
Result<Case> ConvertJira(std::string_view json, const ConvertLimits& limits = {});
Result<Case> ConvertServiceNow(std::string_view json, const ConvertLimits& limits = {});
Result<Case> ConvertFreshdesk(std::string_view json, const ConvertLimits& limits = {});
Result<Case> ConvertEmail(std::string_view message, const ConvertLimits& limits = {});

// ---- E-mail threading --------------------------------------------------------------------------

// One parsed RFC 5322 message (headers unfolded, RFC 2047 encoded words in Subject decoded, body
// decoded from quoted-printable or base64; for multipart, the first text/plain part).
struct EmailMessage {
  std::string message_id;  // without angle brackets
  std::string in_reply_to;
  std::vector<std::string> references;
  std::string from;          // the addr-spec of From
  std::string from_display;  // the display name, if any
  std::string subject;
  std::string date;  // RFC 3339 when the Date header parses, else empty
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // all headers, in order
};

Result<EmailMessage> ParseEmail(std::string_view message);

// The thread a message belongs to: the first Message-ID of References, else In-Reply-To, else
// its own Message-ID. Messages of one conversation share it; it becomes the Case id.
std::string ThreadRoot(const EmailMessage& m);

}  // namespace arbiter::sources
