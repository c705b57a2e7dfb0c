#include "arbiter/sources/adapters.h"

#include <boost/json/array.hpp>

#include "arbiter/common/json.h"
#include "arbiter/sources/internal/util.h"

namespace arbiter::sources {
namespace {

using internal::CheckText;
using internal::KeepUnknown;
using internal::Malformed;
using internal::StringOrNumber;

Result<const boost::json::object*> ObjectField(std::string_view source,
                                               const boost::json::object& o, std::string_view key,
                                               std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return static_cast<const boost::json::object*>(nullptr);
  if (!v->is_object()) {
    return Malformed(source, std::string(where) + "." + std::string(key),
                     "expected an object, got " + std::string(JsonKindName(*v)));
  }
  return &v->get_object();
}

// ---- Zendesk ------------------------------------------------------------------------------------

Status ZendeskTicket(const boost::json::object& t, std::string_view where, Case& c) {
  constexpr std::string_view kSrc = "zendesk";
  ARBITER_TRY(c.id, StringOrNumber(kSrc, t, "id", where));
  if (c.id.empty()) return Malformed(kSrc, std::string(where) + ".id", "missing");
  ARBITER_TRY(c.subject, StringOrNumber(kSrc, t, "subject", where));
  ARBITER_TRY(c.body, StringOrNumber(kSrc, t, "description", where));
  ARBITER_RETURN_IF_ERROR(CheckText(kSrc, std::string(where) + ".subject", c.subject));
  ARBITER_RETURN_IF_ERROR(CheckText(kSrc, std::string(where) + ".description", c.body));
  ARBITER_TRY(std::string priority, StringOrNumber(kSrc, t, "priority", where));
  if (!priority.empty()) {
    auto p = ParsePriority(priority);
    if (!p) {
      return Malformed(kSrc, std::string(where) + ".priority",
                       "`" + priority + "` is not one of low, normal, high, urgent");
    }
    c.priority = *p;
  }
  ARBITER_TRY(c.category, StringOrNumber(kSrc, t, "type", where));
  ARBITER_TRY(c.customer.id, StringOrNumber(kSrc, t, "requester_id", where));
  ARBITER_TRY(c.created_at, StringOrNumber(kSrc, t, "created_at", where));
  ARBITER_TRY(const boost::json::object* via, ObjectField(kSrc, t, "via", where));
  if (via != nullptr) {
    ARBITER_TRY(c.channel, StringOrNumber(kSrc, *via, "channel", std::string(where) + ".via"));
  }
  KeepUnknown(
      t, {"id", "subject", "description", "priority", "type", "requester_id", "created_at", "via"},
      c.attributes);
  if (via != nullptr) c.attributes["via"] = *via;
  return Status::Ok();
}

Result<Case> Zendesk(const boost::json::object& root) {
  Case c;
  c.source = "zendesk";
  if (const auto* type = root.if_contains("type");
      type != nullptr && type->is_string() && type->get_string().starts_with("zen:event-type:")) {
    // Event webhook: the ticket is in "detail"; the envelope becomes attributes.
    ARBITER_TRY(const boost::json::object* detail, ObjectField("zendesk", root, "detail", ""));
    if (detail == nullptr) return Malformed("zendesk", "detail", "missing");
    ARBITER_RETURN_IF_ERROR(ZendeskTicket(*detail, "detail", c));
    c.attributes["event_type"] = type->get_string();
    for (const auto& kv : root) {
      if (kv.key() == "type" || kv.key() == "detail") continue;
      c.attributes["event_" + std::string(kv.key())] = kv.value();  // the envelope
    }
    return c;
  }
  ARBITER_TRY(const boost::json::object* ticket, ObjectField("zendesk", root, "ticket", ""));
  if (ticket != nullptr) {
    ARBITER_RETURN_IF_ERROR(ZendeskTicket(*ticket, "ticket", c));
  } else if (root.contains("id")) {
    ARBITER_RETURN_IF_ERROR(ZendeskTicket(root, "ticket", c));
  } else {
    return Malformed("zendesk", "",
                     "expected a ticket ({\"ticket\": {...}}) or an event webhook "
                     "({\"type\": \"zen:event-type:...\"})");
  }
  return c;
}

// ---- Jira / JSM ---------------------------------------------------------------------------------

struct JiraPriority {
  std::string_view name;
  Priority priority;
  std::int64_t severity;  // used for issue type "Incident"
};
constexpr JiraPriority kJiraPriorities[] = {
    {"highest", Priority::kUrgent, 1},  {"blocker", Priority::kUrgent, 1},
    {"critical", Priority::kUrgent, 1}, {"high", Priority::kHigh, 2},
    {"major", Priority::kHigh, 2},      {"medium", Priority::kNormal, 3},
    {"low", Priority::kLow, 4},         {"minor", Priority::kLow, 4},
    {"lowest", Priority::kLow, 4},      {"trivial", Priority::kLow, 4}};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
  }
  return out;
}

// Atlassian Document Format (Jira Cloud rich text) to plain text: the "text" leaves in order,
// paragraphs separated by newlines. Depth is bounded by the JSON parser's limit.
void AdfText(const boost::json::value& v, std::string& out) {
  if (v.is_array()) {
    for (const auto& e : v.get_array()) AdfText(e, out);
    return;
  }
  if (!v.is_object()) return;
  const auto& o = v.get_object();
  if (const auto* t = o.if_contains("text"); t != nullptr && t->is_string()) out += t->get_string();
  if (const auto* content = o.if_contains("content")) AdfText(*content, out);
  if (const auto* type = o.if_contains("type"); type != nullptr && type->is_string()) {
    const auto& ty = type->get_string();
    if ((ty == "paragraph" || ty == "heading" || ty == "hardBreak") && !out.empty() &&
        out.back() != '\n') {
      out += '\n';
    }
  }
}

Result<Case> JsmRequest(const boost::json::object& root) {
  constexpr std::string_view kSrc = "jira";
  Case c;
  c.source = "jira";
  ARBITER_TRY(c.id, StringOrNumber(kSrc, root, "issueKey", ""));
  if (c.id.empty()) return Malformed(kSrc, "issueKey", "missing");
  ARBITER_TRY(c.subject, StringOrNumber(kSrc, root, "summary", ""));
  ARBITER_RETURN_IF_ERROR(CheckText(kSrc, "summary", c.subject));
  ARBITER_TRY(const boost::json::object* created, ObjectField(kSrc, root, "createdDate", ""));
  if (created != nullptr) {
    ARBITER_TRY(std::string iso, StringOrNumber(kSrc, *created, "iso8601", "createdDate"));
    c.created_at = internal::NormalizeTimestamp(iso);
  }
  ARBITER_TRY(const boost::json::object* reporter, ObjectField(kSrc, root, "reporter", ""));
  if (reporter != nullptr) {
    ARBITER_TRY(c.customer.id, StringOrNumber(kSrc, *reporter, "accountId", "reporter"));
  }
  ARBITER_TRY(c.category, StringOrNumber(kSrc, root, "requestTypeId", ""));
  c.channel = "portal";
  KeepUnknown(root, {"issueKey", "summary", "createdDate", "reporter"}, c.attributes);
  return c;
}

Result<Case> Jira(const boost::json::object& root) {
  constexpr std::string_view kSrc = "jira";
  if (root.contains("issueKey") && !root.contains("fields")) return JsmRequest(root);
  const boost::json::object* issue = &root;
  std::string where = "issue";
  if (root.contains("webhookEvent") || root.contains("issue")) {
    ARBITER_TRY(const boost::json::object* i, ObjectField(kSrc, root, "issue", ""));
    if (i == nullptr) return Malformed(kSrc, "issue", "missing");
    issue = i;
  }
  Case c;
  c.source = "jira";
  ARBITER_TRY(c.id, StringOrNumber(kSrc, *issue, "key", where));
  if (c.id.empty()) return Malformed(kSrc, where + ".key", "missing");
  ARBITER_TRY(const boost::json::object* fields, ObjectField(kSrc, *issue, "fields", where));
  if (fields == nullptr) return Malformed(kSrc, where + ".fields", "missing");
  const std::string fw = where + ".fields";
  ARBITER_TRY(c.subject, StringOrNumber(kSrc, *fields, "summary", fw));
  ARBITER_RETURN_IF_ERROR(CheckText(kSrc, fw + ".summary", c.subject));
  if (const auto* d = fields->if_contains("description"); d != nullptr && !d->is_null()) {
    if (d->is_string()) {
      c.body = d->get_string();
    } else if (d->is_object()) {
      AdfText(*d, c.body);
      while (!c.body.empty() && c.body.back() == '\n') c.body.pop_back();
    } else {
      return Malformed(
          kSrc, fw + ".description",
          "expected a string or an Atlassian document, got " + std::string(JsonKindName(*d)));
    }
    ARBITER_RETURN_IF_ERROR(CheckText(kSrc, fw + ".description", c.body));
  }
  std::string issue_type;
  ARBITER_TRY(const boost::json::object* type, ObjectField(kSrc, *fields, "issuetype", fw));
  if (type != nullptr) {
    ARBITER_TRY(issue_type, StringOrNumber(kSrc, *type, "name", fw + ".issuetype"));
  }
  c.category = issue_type;
  ARBITER_TRY(const boost::json::object* prio, ObjectField(kSrc, *fields, "priority", fw));
  if (prio != nullptr) {
    ARBITER_TRY(std::string name, StringOrNumber(kSrc, *prio, "name", fw + ".priority"));
    const std::string lower = Lower(name);
    bool found = false;
    for (const auto& p : kJiraPriorities) {
      if (p.name == lower) {
        c.priority = p.priority;
        if (Lower(issue_type) == "incident") c.severity = p.severity;
        found = true;
      }
    }
    if (!found) {
      return Malformed(kSrc, fw + ".priority.name",
                       "`" + name +
                           "` is not a known priority (highest, high, medium, low, lowest, "
                           "blocker, critical, major, minor, trivial)");
    }
  }
  for (std::string_view person : {"reporter", "creator"}) {
    ARBITER_TRY(const boost::json::object* p, ObjectField(kSrc, *fields, person, fw));
    if (p == nullptr || !c.customer.id.empty()) continue;
    const std::string pw = fw + "." + std::string(person);
    ARBITER_TRY(c.customer.id, StringOrNumber(kSrc, *p, "accountId", pw));
    if (c.customer.id.empty()) {
      ARBITER_TRY(c.customer.id, StringOrNumber(kSrc, *p, "name", pw));
    }
  }
  ARBITER_TRY(std::string created, StringOrNumber(kSrc, *fields, "created", fw));
  c.created_at = internal::NormalizeTimestamp(created);
  // Unknown fields (custom fields, status, labels …) are kept; links and avatars are noise.
  boost::json::object kept;
  KeepUnknown(*fields,
              {"summary", "description", "issuetype", "priority", "created", "watches",
               "avatarUrls", "timetracking", "aggregateprogress", "progress", "votes", "worklog",
               "attachment", "subtasks"},
              kept);
  for (auto& kv : kept) {
    if (kv.value().is_null()) continue;
    if (kv.value().is_object() && kv.value().get_object().contains("name")) {
      c.attributes[kv.key()] = kv.value().get_object().at("name");  // status, project, …
    } else {
      c.attributes[kv.key()] = kv.value();
    }
  }
  if (const auto* ev = root.if_contains("webhookEvent")) c.attributes["webhook_event"] = *ev;
  if (const auto* id = issue->if_contains("id")) c.attributes["issue_id"] = *id;
  return c;
}

// ---- ServiceNow ---------------------------------------------------------------------------------

// ServiceNow sends every value as a string; a reference is {"link", "value"}.
Result<std::string> SnString(const boost::json::object& r, std::string_view key) {
  const auto* v = r.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_object()) {
    const auto& ref = v->get_object();
    const auto* value = ref.if_contains("value");
    if (value != nullptr && value->is_string()) return std::string(value->get_string());
    return Malformed("servicenow", "result." + std::string(key),
                     "a reference must be {\"link\", \"value\"} with a string value");
  }
  return Malformed("servicenow", "result." + std::string(key),
                   "expected a string (ServiceNow sends every value as a string), got " +
                       std::string(JsonKindName(*v)));
}

Result<int> SnLevel(const boost::json::object& r, std::string_view key, int max) {
  ARBITER_TRY(std::string s, SnString(r, key));
  if (s.empty()) return 0;
  if (s.size() == 1 && s[0] >= '1' && s[0] <= '0' + max) return s[0] - '0';
  return Malformed("servicenow", "result." + std::string(key),
                   "`" + s + "` is not one of 1.." + std::to_string(max));
}

Result<Case> ServiceNow(const boost::json::object& root) {
  constexpr std::string_view kSrc = "servicenow";
  const boost::json::object* rec = &root;
  ARBITER_TRY(const boost::json::object* result, ObjectField(kSrc, root, "result", ""));
  if (result != nullptr) rec = result;
  Case c;
  c.source = "servicenow";
  ARBITER_TRY(c.id, SnString(*rec, "number"));
  if (c.id.empty()) {
    ARBITER_TRY(c.id, SnString(*rec, "sys_id"));
  }
  if (c.id.empty()) return Malformed(kSrc, "result.number", "missing (and no sys_id)");
  ARBITER_TRY(c.subject, SnString(*rec, "short_description"));
  ARBITER_TRY(c.body, SnString(*rec, "description"));
  ARBITER_RETURN_IF_ERROR(CheckText(kSrc, "result.short_description", c.subject));
  ARBITER_RETURN_IF_ERROR(CheckText(kSrc, "result.description", c.body));
  ARBITER_TRY(int priority, SnLevel(*rec, "priority", 5));
  constexpr Priority kPriorities[] = {Priority::kNormal, Priority::kUrgent, Priority::kHigh,
                                      Priority::kNormal, Priority::kLow,    Priority::kLow};
  c.priority = kPriorities[priority];
  ARBITER_TRY(int severity, SnLevel(*rec, "severity", 3));
  if (severity > 0) c.severity = severity;
  ARBITER_TRY(c.category, SnString(*rec, "category"));
  ARBITER_TRY(c.customer.id, SnString(*rec, "caller_id"));
  ARBITER_TRY(c.channel, SnString(*rec, "contact_type"));
  ARBITER_TRY(std::string opened, SnString(*rec, "opened_at"));
  c.created_at = internal::NormalizeTimestamp(opened);
  ARBITER_TRY(std::string comments, SnString(*rec, "comments"));
  if (!comments.empty()) {
    ARBITER_RETURN_IF_ERROR(CheckText(kSrc, "result.comments", comments));
    c.messages.push_back({"customer", comments, ""});
  }
  // Everything else that has a value is kept; references keep their value.
  for (const auto& kv : *rec) {
    static constexpr std::string_view kUsed[] = {
        "number",   "short_description", "description",  "priority",  "severity",
        "category", "caller_id",         "contact_type", "opened_at", "comments"};
    bool used = false;
    for (auto u : kUsed) used = used || kv.key() == u;
    if (used) continue;
    if (kv.value().is_string() && kv.value().get_string().empty()) continue;
    ARBITER_TRY(std::string value, SnString(*rec, kv.key()));
    c.attributes[kv.key()] = value;
  }
  return c;
}

// ---- Freshdesk ----------------------------------------------------------------------------------

Result<std::int64_t> FdInt(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::int64_t{0};
  if (!v->is_int64()) {
    return Malformed("freshdesk", key, "expected an integer, got " + std::string(JsonKindName(*v)));
  }
  return v->get_int64();
}

Result<Case> Freshdesk(const boost::json::object& t) {
  constexpr std::string_view kSrc = "freshdesk";
  Case c;
  c.source = "freshdesk";
  ARBITER_TRY(std::int64_t id, FdInt(t, "id"));
  if (id <= 0) return Malformed(kSrc, "id", "missing or not a positive integer");
  c.id = std::to_string(id);
  ARBITER_TRY(c.subject, StringOrNumber(kSrc, t, "subject", ""));
  ARBITER_TRY(c.body, StringOrNumber(kSrc, t, "description_text", ""));
  if (c.body.empty()) {
    ARBITER_TRY(std::string html, StringOrNumber(kSrc, t, "description", ""));
    c.body = internal::HtmlToText(html);
  }
  ARBITER_RETURN_IF_ERROR(CheckText(kSrc, "subject", c.subject));
  ARBITER_RETURN_IF_ERROR(CheckText(kSrc, "description_text", c.body));
  ARBITER_TRY(std::int64_t priority, FdInt(t, "priority"));
  constexpr Priority kPriorities[] = {Priority::kNormal, Priority::kLow, Priority::kNormal,
                                      Priority::kHigh, Priority::kUrgent};
  if (priority < 0 || priority > 4) {
    return Malformed(kSrc, "priority",
                     "`" + std::to_string(priority) +
                         "` is not one of 1 (low), 2 (medium), 3 (high), 4 (urgent)");
  }
  c.priority = kPriorities[priority];
  ARBITER_TRY(std::int64_t status, FdInt(t, "status"));
  static constexpr std::pair<std::int64_t, std::string_view> kStatuses[] = {
      {2, "open"}, {3, "pending"}, {4, "resolved"}, {5, "closed"}};
  if (status != 0) {
    std::string_view name;
    for (const auto& [n, s] : kStatuses) {
      if (n == status) name = s;
    }
    // Custom statuses (6 and up) are allowed and kept by number.
    if (name.empty() && status < 6) {
      return Malformed(kSrc, "status",
                       "`" + std::to_string(status) +
                           "` is not one of 2 (open), 3 (pending), 4 (resolved), 5 (closed) or a "
                           "custom status (6 and up)");
    }
    c.attributes["status"] = name.empty() ? boost::json::value(status) : boost::json::value(name);
  }
  ARBITER_TRY(std::int64_t src, FdInt(t, "source"));
  static constexpr std::pair<std::int64_t, std::string_view> kChannels[] = {
      {1, "email"}, {2, "web"}, {3, "phone"}, {7, "chat"}, {9, "web"}, {10, "email"}};
  for (const auto& [n, ch] : kChannels) {
    if (n == src) c.channel = ch;
  }
  if (src != 0 && c.channel.empty()) c.channel = "freshdesk-" + std::to_string(src);
  ARBITER_TRY(c.category, StringOrNumber(kSrc, t, "type", ""));
  ARBITER_TRY(c.customer.id, StringOrNumber(kSrc, t, "requester_id", ""));
  ARBITER_TRY(c.created_at, StringOrNumber(kSrc, t, "created_at", ""));
  KeepUnknown(t,
              {"id", "subject", "description_text", "description", "priority", "status", "source",
               "type", "requester_id", "created_at", "priority_name"},
              c.attributes);
  return c;
}

}  // namespace

const std::vector<std::string_view>& SupportedSources() {
  static const std::vector<std::string_view> kSources = {"zendesk", "jira", "servicenow",
                                                         "freshdesk", "email"};
  return kSources;
}

Result<Case> ConvertZendesk(std::string_view json, const ConvertLimits& limits) {
  ARBITER_TRY(auto v, internal::ParsePayload("zendesk", json, limits));
  return Zendesk(v.get_object());
}
Result<Case> ConvertJira(std::string_view json, const ConvertLimits& limits) {
  ARBITER_TRY(auto v, internal::ParsePayload("jira", json, limits));
  return Jira(v.get_object());
}
Result<Case> ConvertServiceNow(std::string_view json, const ConvertLimits& limits) {
  ARBITER_TRY(auto v, internal::ParsePayload("servicenow", json, limits));
  return ServiceNow(v.get_object());
}
Result<Case> ConvertFreshdesk(std::string_view json, const ConvertLimits& limits) {
  ARBITER_TRY(auto v, internal::ParsePayload("freshdesk", json, limits));
  return Freshdesk(v.get_object());
}

Result<Case> ConvertPayload(std::string_view source, std::string_view bytes,
                            const ConvertLimits& limits) {
  if (source == "zendesk") return ConvertZendesk(bytes, limits);
  if (source == "jira" || source == "jsm") return ConvertJira(bytes, limits);
  if (source == "servicenow") return ConvertServiceNow(bytes, limits);
  if (source == "freshdesk") return ConvertFreshdesk(bytes, limits);
  if (source == "email") return ConvertEmail(bytes, limits);
  return Status::InvalidArgument("unknown source `" + std::string(source) +
                                 "` (expected zendesk, jira, servicenow, freshdesk or email)");
}

}  // namespace arbiter::sources
