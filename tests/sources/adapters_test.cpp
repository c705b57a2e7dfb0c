#include "arbiter/sources/adapters.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "arbiter/common/json.h"
#include "support/shared_data.h"

namespace arbiter::sources {
namespace {

const std::filesystem::path kData = testing::SourceDir() / "tests/data/sources";

std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string SourceOf(const std::string& file) {
  std::string s = file.substr(0, file.find('_'));
  return s == "jsm" ? "jira" : s;
}

// Each payload fixture converts to exactly its golden Case (<name>.case.json), and the Case passes
// the native validation (CaseFromJson) unchanged.
TEST(Adapters, FixturesConvertToGoldenCases) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kData)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".case.json") || name == "malformed.txt") continue;
    const std::string stem = entry.path().stem().string();
    auto c = ConvertPayload(SourceOf(name), Read(entry.path()));
    ASSERT_TRUE(c) << name << ": " << c.error().ToString();
    auto golden = ParseJson(Read(kData / (stem + ".case.json")));
    ASSERT_TRUE(golden) << stem << ".case.json";
    EXPECT_EQ(CanonicalJson(CaseToJson(*c)), CanonicalJson(*golden)) << name;
    EXPECT_EQ(CaseToJsonText(*c), ToJson(CaseToJson(*c))) << name;
    auto back = CaseFromJson(CaseToJson(*c));
    ASSERT_TRUE(back) << name << ": " << back.error().ToString();
    EXPECT_EQ(CanonicalJson(CaseToJson(*back)), CanonicalJson(CaseToJson(*c)));
    ++n;
  }
  EXPECT_EQ(n, 8);
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

TEST(Adapters, MalformedPayloadsAreRefusedWithPreciseErrors) {
  std::istringstream in(Read(kData / "malformed.txt"));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t t1 = line.find('\t');
    const size_t t2 = line.find('\t', t1 + 1);
    ASSERT_NE(t2, std::string::npos) << line;
    auto c = ConvertPayload(line.substr(0, t1), Unescape(line.substr(t1 + 1, t2 - t1 - 1)));
    ASSERT_FALSE(c) << line;
    EXPECT_EQ(c.error().message(), line.substr(t2 + 1));
    ++n;
  }
  EXPECT_GE(n, 20);
}

TEST(Adapters, PriorityAndSeverityTables) {
  for (auto [fd, expected] : {std::pair{1, "low"}, {2, "normal"}, {3, "high"}, {4, "urgent"}}) {
    auto c = ConvertFreshdesk(R"({"id": 1, "priority": )" + std::to_string(fd) + "}");
    ASSERT_TRUE(c);
    EXPECT_EQ(PriorityName(c->priority), expected);
  }
  for (auto [sn, expected] :
       {std::pair{"1", "urgent"}, {"2", "high"}, {"3", "normal"}, {"4", "low"}, {"5", "low"}}) {
    auto c = ConvertServiceNow(std::string(R"({"result": {"number": "I1", "priority": ")") + sn +
                               R"(", "severity": "3"}})");
    ASSERT_TRUE(c);
    EXPECT_EQ(PriorityName(c->priority), expected);
    EXPECT_EQ(c->severity, 3);
  }
  auto task = ConvertJira(
      R"({"issue": {"key": "A-1", "fields": {"issuetype": {"name": "Task"}, "priority": {"name": "High"}}}})");
  ASSERT_TRUE(task);
  EXPECT_EQ(task->priority, Priority::kHigh);
  EXPECT_FALSE(task->severity.has_value());  // severity only for incidents
}

TEST(Adapters, EmailThreadingAndEncodings) {
  auto reply = ConvertEmail(
      "From: Mary <mary@example.net>\nSubject: =?ISO-8859-1?Q?Caf=E9?= =?UTF-8?B?w6k=?=\n"
      "Message-ID: <3456@example.net>\nIn-Reply-To: <1234@local.machine.example>\n"
      "References: <1234@local.machine.example>\n"
      "Content-Type: multipart/alternative; boundary=\"b1\"\n\n--b1\n"
      "Content-Type: text/html\n\n<p>html</p>\n--b1\nContent-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: base64\n\nQ2Fm6Q==\n--b1--\n");
  ASSERT_TRUE(reply) << reply.error().ToString();
  EXPECT_EQ(reply->id, "1234@local.machine.example");  // the thread root
  EXPECT_EQ(reply->subject, "Caféé");
  EXPECT_EQ(reply->body, "Café");
  // A message without a Message-ID still gets a stable id.
  auto a = ConvertEmail("From: a@b.example\n\nhello");
  auto b = ConvertEmail("From: a@b.example\n\nhello");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->id, b->id);
  EXPECT_TRUE(a->id.ends_with("@arbiter.invalid"));
}

TEST(Adapters, SharedPayloadExamplesConvert) {
  ARBITER_REQUIRE_SHARED(dir, "data/payloads");
  const std::pair<const char*, const char*> kFiles[] = {
      {"zendesk", "zendesk_ticket_show.json"},
      {"zendesk", "zendesk_event_webhook_ticket_created.json"},
      {"jira", "jira_webhook_issue_created.json"},
      {"jira", "jsm_customer_request.json"},
      {"servicenow", "servicenow_incident_table_record.json"},
      {"freshdesk", "freshdesk_ticket_v2.json"},
      {"email", "email_rfc5322_A2_reply.eml"}};
  for (const auto& [source, file] : kFiles) {
    auto c = ConvertPayload(source, Read(dir / file));
    ASSERT_TRUE(c) << file << ": " << c.error().ToString();
    EXPECT_FALSE(c->id.empty()) << file;
  }
  auto sn = ConvertPayload("servicenow", Read(dir / "servicenow_incident_table_record.json"));
  EXPECT_EQ(sn->id, "INC0000001");
  EXPECT_EQ(sn->priority, Priority::kUrgent);
  auto mail = ConvertPayload("email", Read(dir / "email_rfc5322_A2_reply.eml"));
  EXPECT_EQ(mail->id, "1234@local.machine.example");
}

// Robustness: no input crashes, hangs or is accepted by accident.
TEST(Adapters, GarbageInvalidUtf8DeepJsonAndHugeBodies) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string junk(static_cast<size_t>(rng() % 2048), '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    for (auto source : SupportedSources()) (void)ConvertPayload(source, junk);
  }
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  for (auto source : {"zendesk", "jira", "servicenow", "freshdesk"}) {
    auto c = ConvertPayload(source, deep);
    ASSERT_FALSE(c);
  }
  // Invalid UTF-8 inside JSON strings is refused by the parser; in e-mail it is replaced.
  EXPECT_FALSE(ConvertZendesk("{\"ticket\": {\"id\": 1, \"subject\": \"\xff\xfe\"}}"));
  auto mail = ConvertEmail("From: a@b.example\nSubject: \xff\n\nbody \xc3\x28 end");
  ASSERT_TRUE(mail);
  EXPECT_EQ(mail->body, "body \xEF\xBF\xBD( end");
  // A 10 MB description: refused with the limit named, quickly.
  const std::string big =
      R"({"id": 1, "description_text": ")" + std::string(10u << 20, 'a') + R"("})";
  auto c = ConvertFreshdesk(big);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message(), "freshdesk: description_text: longer than 1048576 bytes");
  auto huge = ConvertEmail("From: a@b.example\n\n" + std::string(10u << 20, 'x'));
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().message(), "email: body: longer than 1048576 bytes");
  auto too_big = ConvertPayload("jira", std::string(17u << 20, ' '));
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace arbiter::sources
