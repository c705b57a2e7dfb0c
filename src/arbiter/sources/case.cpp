#include "arbiter/sources/case.h"

#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>

#include <array>

#include "arbiter/common/json.h"

namespace arbiter::sources {
namespace {

constexpr std::array<std::string_view, 4> kPriorityNames = {"low", "normal", "high", "urgent"};

Status Invalid(std::string_view field, std::string_view problem) {
  std::string m(field);
  m += ": ";
  m += problem;
  return Status::InvalidArgument(std::move(m));
}

// Reads an optional string field into `out`, enforcing a size limit.
Status ReadString(const boost::json::object& o, std::string_view key, std::string_view where,
                  size_t max_bytes, std::string& out) {
  ARBITER_TRY(auto value, GetOptionalString(o, key, where));
  if (!value) return Status::Ok();
  if (value->size() > max_bytes) {
    return Invalid(std::string(where) + "." + std::string(key),
                   "longer than " + std::to_string(max_bytes) + " bytes");
  }
  out.assign(*value);
  return Status::Ok();
}

Status ReadBool(const boost::json::object& o, std::string_view key, std::string_view where,
                bool& out) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return Status::Ok();
  if (!v->is_bool()) {
    return Invalid(std::string(where) + "." + std::string(key),
                   "expected a boolean, got " + std::string(JsonKindName(*v)));
  }
  out = v->get_bool();
  return Status::Ok();
}

// The case object's fields. CaseFromJson finds them all in one pass over the object (a lookup per
// field compared every key again: a third of the loaded server's memcmp calls).
enum Field : size_t {
  kId,
  kSource,
  kSubject,
  kBody,
  kMessages,
  kLanguage,
  kChannel,
  kCustomer,
  kSeverity,
  kPriority,
  kCategory,
  kAi,
  kIndicators,
  kCreatedAt,
  kAttributes,
  kIntent,
  kFieldCount
};
constexpr std::array<std::string_view, kFieldCount> kFields = {
    "id",         "source",     "subject",    "body",     "messages", "language",
    "channel",    "customer",   "severity",   "priority", "category", "ai",
    "indicators", "created_at", "attributes", "intent"};

// `key`'s place in kFields, or kFieldCount when it is not a case field.
size_t FieldIndex(std::string_view key) {
  for (size_t i = 0; i < kFieldCount; ++i) {
    if (kFields[i] == key) return i;
  }
  return kFieldCount;
}

// The value of each field (null when absent), as object::if_contains would find it.
using Fields = std::array<const boost::json::value*, kFieldCount>;

// ReadString for a field already found: absent and null leave `out` as it is.
Status ReadField(const boost::json::value* v, std::string_view key, size_t max_bytes,
                 std::string& out) {
  if (v == nullptr || v->is_null()) return Status::Ok();
  if (!v->is_string()) {
    return Invalid("case." + std::string(key),
                   "expected a string, got " + std::string(JsonKindName(*v)));
  }
  const std::string_view value = v->get_string();
  if (value.size() > max_bytes) {
    return Invalid("case." + std::string(key),
                   "longer than " + std::to_string(max_bytes) + " bytes");
  }
  out.assign(value);
  return Status::Ok();
}

// OptionalObject for a field already found.
Result<const boost::json::object*> ObjectField(const boost::json::value* v, std::string_view key) {
  if (v == nullptr || v->is_null()) return static_cast<const boost::json::object*>(nullptr);
  return AsObject(*v, "case." + std::string(key));
}

}  // namespace

std::string_view PriorityName(Priority p) { return kPriorityNames[static_cast<size_t>(p)]; }

std::optional<Priority> ParsePriority(std::string_view name) {
  for (size_t i = 0; i < kPriorityNames.size(); ++i) {
    if (kPriorityNames[i] == name) return static_cast<Priority>(i);
  }
  return std::nullopt;
}

std::string Case::AllText() const {
  std::string out = subject;
  if (!body.empty()) {
    if (!out.empty()) out += '\n';
    out += body;
  }
  for (const auto& m : messages) {
    if (!out.empty()) out += '\n';
    out += m.text;
  }
  return out;
}

Result<Case> CaseFromJson(const boost::json::value& json, const CaseLimits& limits) {
  ARBITER_TRY(const boost::json::object* root, AsObject(json, "case"));
  Fields f{};
  for (const auto& kv : *root) {
    const size_t i = FieldIndex(kv.key());
    if (i == kFieldCount) {
      return Invalid("case." + std::string(kv.key()),
                     "unknown field (put free-form data under `attributes`)");
    }
    f[i] = &kv.value();
  }
  Case c;
  if (f[kId] == nullptr) return Invalid("case.id", "missing");
  if (!f[kId]->is_string()) {
    return Invalid("case.id", "expected a string, got " + std::string(JsonKindName(*f[kId])));
  }
  const std::string_view id = f[kId]->get_string();
  if (id.empty()) return Invalid("case.id", "must not be empty");
  if (id.size() > limits.max_id_bytes) {
    return Invalid("case.id", "longer than " + std::to_string(limits.max_id_bytes) + " bytes");
  }
  c.id.assign(id);
  ARBITER_RETURN_IF_ERROR(ReadField(f[kSource], "source", 64, c.source));
  if (c.source.empty()) c.source = "native";
  ARBITER_RETURN_IF_ERROR(ReadField(f[kSubject], "subject", limits.max_text_bytes, c.subject));
  ARBITER_RETURN_IF_ERROR(ReadField(f[kBody], "body", limits.max_text_bytes, c.body));
  ARBITER_RETURN_IF_ERROR(ReadField(f[kLanguage], "language", 64, c.language));
  ARBITER_RETURN_IF_ERROR(ReadField(f[kChannel], "channel", 64, c.channel));
  ARBITER_RETURN_IF_ERROR(ReadField(f[kCategory], "category", 256, c.category));
  if (c.category.empty()) ARBITER_RETURN_IF_ERROR(ReadField(f[kIntent], "intent", 256, c.category));
  ARBITER_RETURN_IF_ERROR(ReadField(f[kCreatedAt], "created_at", 64, c.created_at));

  if (const auto* v = f[kMessages]; v != nullptr && !v->is_null()) {
    if (!v->is_array())
      return Invalid("case.messages", "expected an array, got " + std::string(JsonKindName(*v)));
    const auto& arr = v->get_array();
    if (arr.size() > limits.max_messages) {
      return Invalid("case.messages",
                     "more than " + std::to_string(limits.max_messages) + " messages");
    }
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string where = "case.messages[" + std::to_string(i) + "]";
      ARBITER_TRY(const boost::json::object* m, AsObject(arr[i], where));
      Message msg;
      ARBITER_TRY(std::string_view text, GetString(*m, "text", where));
      if (text.size() > limits.max_text_bytes) return Invalid(where + ".text", "too long");
      msg.text.assign(text);
      ARBITER_RETURN_IF_ERROR(ReadString(*m, "author", where, 256, msg.author));
      ARBITER_RETURN_IF_ERROR(ReadString(*m, "at", where, 64, msg.at));
      c.messages.push_back(std::move(msg));
    }
  }

  ARBITER_TRY(const boost::json::object* customer, ObjectField(f[kCustomer], "customer"));
  if (customer != nullptr) {
    ARBITER_RETURN_IF_ERROR(ReadString(*customer, "id", "case.customer", 256, c.customer.id));
    ARBITER_RETURN_IF_ERROR(ReadString(*customer, "tier", "case.customer", 64, c.customer.tier));
  }

  if (const auto* v = f[kSeverity]; v != nullptr && !v->is_null()) {
    if (!v->is_int64() || v->get_int64() < kMostSevere || v->get_int64() > kLeastSevere) {
      return Invalid("case.severity", "expected an integer from 1 (most severe) to 4");
    }
    c.severity = v->get_int64();
  }

  std::string priority;
  ARBITER_RETURN_IF_ERROR(ReadField(f[kPriority], "priority", 64, priority));
  if (!priority.empty()) {
    auto p = ParsePriority(priority);
    if (!p)
      return Invalid("case.priority", "`" + priority + "` is not one of low, normal, high, urgent");
    c.priority = *p;
  }

  ARBITER_TRY(const boost::json::object* ai, ObjectField(f[kAi], "ai"));
  if (ai != nullptr) {
    if (const auto* v = ai->if_contains("confidence"); v != nullptr && !v->is_null()) {
      if (!v->is_number()) return Invalid("case.ai.confidence", "expected a number");
      const double conf = v->to_number<double>();
      if (!(conf >= 0.0 && conf <= 1.0))
        return Invalid("case.ai.confidence", "must be between 0 and 1");
      c.ai.confidence = conf;
    }
    ARBITER_RETURN_IF_ERROR(ReadString(*ai, "model", "case.ai", 256, c.ai.model));
    ARBITER_RETURN_IF_ERROR(
        ReadString(*ai, "suggested_queue", "case.ai", 256, c.ai.suggested_queue));
  }

  ARBITER_TRY(const boost::json::object* ind, ObjectField(f[kIndicators], "indicators"));
  if (ind != nullptr) {
    ARBITER_RETURN_IF_ERROR(ReadBool(*ind, "fraud", "case.indicators", c.indicators.fraud));
    ARBITER_RETURN_IF_ERROR(
        ReadBool(*ind, "regulatory", "case.indicators", c.indicators.regulatory));
    ARBITER_RETURN_IF_ERROR(ReadBool(*ind, "safety", "case.indicators", c.indicators.safety));
  }

  ARBITER_TRY(const boost::json::object* attrs, ObjectField(f[kAttributes], "attributes"));
  if (attrs != nullptr) c.attributes = *attrs;
  return c;
}

boost::json::value CaseToJson(const Case& c) {
  boost::json::object o;
  o["id"] = c.id;
  o["source"] = c.source;
  if (!c.subject.empty()) o["subject"] = c.subject;
  if (!c.body.empty()) o["body"] = c.body;
  if (!c.messages.empty()) {
    boost::json::array arr;
    for (const auto& m : c.messages) {
      boost::json::object mo;
      if (!m.author.empty()) mo["author"] = m.author;
      mo["text"] = m.text;
      if (!m.at.empty()) mo["at"] = m.at;
      arr.push_back(std::move(mo));
    }
    o["messages"] = std::move(arr);
  }
  if (!c.language.empty()) o["language"] = c.language;
  if (!c.channel.empty()) o["channel"] = c.channel;
  if (!c.customer.id.empty() || !c.customer.tier.empty()) {
    boost::json::object co;
    if (!c.customer.id.empty()) co["id"] = c.customer.id;
    if (!c.customer.tier.empty()) co["tier"] = c.customer.tier;
    o["customer"] = std::move(co);
  }
  if (c.severity) o["severity"] = *c.severity;
  o["priority"] = PriorityName(c.priority);
  if (!c.category.empty()) o["category"] = c.category;
  if (c.ai.confidence || !c.ai.model.empty() || !c.ai.suggested_queue.empty()) {
    boost::json::object ai;
    if (c.ai.confidence) ai["confidence"] = *c.ai.confidence;
    if (!c.ai.model.empty()) ai["model"] = c.ai.model;
    if (!c.ai.suggested_queue.empty()) ai["suggested_queue"] = c.ai.suggested_queue;
    o["ai"] = std::move(ai);
  }
  o["indicators"] = {{"fraud", c.indicators.fraud},
                     {"regulatory", c.indicators.regulatory},
                     {"safety", c.indicators.safety}};
  if (!c.created_at.empty()) o["created_at"] = c.created_at;
  if (!c.attributes.empty()) o["attributes"] = c.attributes;
  return o;
}

namespace {

// Writes one JSON object's members as compact text into `out`, in the order they are added:
// Open() first, then Key()/String() for each member, Close() last. Values after Key() are appended
// by the caller.
class ObjectText {
 public:
  explicit ObjectText(std::string& out) : out_(out) {}
  // `k` is one of this file's literal keys: nothing in it needs escaping.
  void Key(std::string_view k) {
    out_ += sep_;
    sep_ = ',';
    out_ += '"';
    out_ += k;
    out_ += "\":";
  }
  void String(std::string_view k, std::string_view v) {
    Key(k);
    AppendJsonString(v, out_);
  }
  void Bool(std::string_view k, bool v) {
    Key(k);
    out_ += v ? "true" : "false";
  }
  // Closes the object; an object with no members is written as `{}`.
  void Close() {
    if (sep_ == '{') out_ += '{';
    out_ += '}';
  }

 private:
  std::string& out_;
  char sep_ = '{';  // the separator before the next member: '{' first, ',' after
};

}  // namespace

std::string CaseToJsonText(const Case& c) {
  std::string out;
  out.reserve(160 + c.id.size() + c.subject.size() + c.body.size() + c.category.size());
  ObjectText o(out);
  o.String("id", c.id);
  o.String("source", c.source);
  if (!c.subject.empty()) o.String("subject", c.subject);
  if (!c.body.empty()) o.String("body", c.body);
  if (!c.messages.empty()) {
    o.Key("messages");
    out += '[';
    for (size_t i = 0; i < c.messages.size(); ++i) {
      const Message& m = c.messages[i];
      if (i > 0) out += ',';
      ObjectText mo(out);
      if (!m.author.empty()) mo.String("author", m.author);
      mo.String("text", m.text);
      if (!m.at.empty()) mo.String("at", m.at);
      mo.Close();
    }
    out += ']';
  }
  if (!c.language.empty()) o.String("language", c.language);
  if (!c.channel.empty()) o.String("channel", c.channel);
  if (!c.customer.id.empty() || !c.customer.tier.empty()) {
    o.Key("customer");
    ObjectText co(out);
    if (!c.customer.id.empty()) co.String("id", c.customer.id);
    if (!c.customer.tier.empty()) co.String("tier", c.customer.tier);
    co.Close();
  }
  if (c.severity) {
    o.Key("severity");
    out += std::to_string(*c.severity);
  }
  o.String("priority", PriorityName(c.priority));
  if (!c.category.empty()) o.String("category", c.category);
  if (c.ai.confidence || !c.ai.model.empty() || !c.ai.suggested_queue.empty()) {
    o.Key("ai");
    ObjectText ao(out);
    if (c.ai.confidence) {
      ao.Key("confidence");
      // Boost.JSON's shortest round-trip form (e.g. 8.9E-1), as ToJson writes it.
      // (A serializer on the stack: no string or tree per case.)
      boost::json::serializer sr;
      const boost::json::value confidence(*c.ai.confidence);
      sr.reset(&confidence);
      char buf[64];
      while (!sr.done()) out.append(sr.read(buf, sizeof(buf)));
    }
    if (!c.ai.model.empty()) ao.String("model", c.ai.model);
    if (!c.ai.suggested_queue.empty()) ao.String("suggested_queue", c.ai.suggested_queue);
    ao.Close();
  }
  o.Key("indicators");
  ObjectText io(out);
  io.Bool("fraud", c.indicators.fraud);
  io.Bool("regulatory", c.indicators.regulatory);
  io.Bool("safety", c.indicators.safety);
  io.Close();
  if (!c.created_at.empty()) o.String("created_at", c.created_at);
  if (!c.attributes.empty()) {
    o.Key("attributes");
    out += boost::json::serialize(c.attributes);
  }
  o.Close();
  return out;
}

}  // namespace arbiter::sources
