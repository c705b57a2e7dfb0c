// Templates and template links: linking (and its errors), and authorization of linked policies
// with Cedar's semantics (a template is never evaluated itself; a linked policy is the template
// with its slots replaced, evaluated and reported under the link id).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "arbiter/cedar/authorizer.h"
#include "arbiter/cedar/policy_set.h"

namespace arbiter::cedar {
namespace {

constexpr char kPolicies[] = R"(
@id("static")
permit(principal == User::"root", action, resource);

@id("viewers")
@reason("shared folder")
permit(principal == ?principal, action == Action::"view", resource in ?resource);

@id("members")
permit(principal in ?principal, action, resource is Doc)
when { resource.public };

@id("deny-docs")
forbid(principal, action == Action::"delete", resource is Doc in ?resource)
unless { principal in Group::"admins" };

@id("owner-check")
permit(principal == ?principal, action == Action::"edit", resource)
when { resource.owner == principal };
)";

Entities TestEntities() {
  Entities e;
  auto add = [&](EntityUid uid, Value attrs, std::vector<EntityUid> parents) {
    EXPECT_TRUE(e.Add(std::move(uid), std::move(attrs), std::move(parents)).ok());
  };
  add(EntityUid("User", "alice"), Value::Record({}), {EntityUid("Group", "eng")});
  add(EntityUid("User", "bob"), Value::Record({}), {EntityUid("Group", "admins")});
  add(EntityUid("Group", "eng"), Value::Record({}), {});
  add(EntityUid("Group", "admins"), Value::Record({}), {});
  add(EntityUid("Folder", "f1"), Value::Record({}), {});
  add(EntityUid("Doc", "d1"),
      Value::Record({{"public", Value::Bool(true)}, {"owner", Value::String("nobody")}}),
      {EntityUid("Folder", "f1")});
  add(EntityUid("Doc", "d2"), Value::Record({{"public", Value::Bool(false)}}), {});
  EXPECT_TRUE(e.Finalize().ok());
  return e;
}

Request Req(const char* principal, const char* action, const char* resource) {
  return Request{EntityUid("User", principal), EntityUid("Action", action),
                 EntityUid("Doc", resource), Value::Record({})};
}

TEST(CedarTemplates, ParsedTemplatesKnowTheirSlots) {
  auto ps = ParsePolicySet(kPolicies);
  ASSERT_TRUE(ps.has_value()) << ps.error().message();
  const Policy* viewers = ps->Find("viewers");
  ASSERT_NE(viewers, nullptr);
  EXPECT_TRUE(viewers->is_template());
  EXPECT_TRUE(viewers->has_principal_slot());
  EXPECT_TRUE(viewers->has_resource_slot());
  EXPECT_FALSE(viewers->is_linked());
  EXPECT_TRUE(ps->Find("members")->has_principal_slot());
  EXPECT_FALSE(ps->Find("members")->has_resource_slot());
  EXPECT_FALSE(ps->Find("deny-docs")->has_principal_slot());
  EXPECT_TRUE(ps->Find("deny-docs")->has_resource_slot());
  EXPECT_FALSE(ps->Find("static")->is_template());
  EXPECT_FALSE(ps->Find("static")->has_principal_slot());
}

TEST(CedarTemplates, UnlinkedTemplatesAreNotEvaluated) {
  auto ps = ParsePolicySet(kPolicies);
  ASSERT_TRUE(ps.has_value());
  Entities entities = TestEntities();
  // `members` would allow alice (in Group::"eng") to read the public d1 if it were evaluated.
  Response r = IsAuthorized(Req("alice", "read", "d1"), *ps, entities);
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_TRUE(r.errors.empty());
}

TEST(CedarTemplates, LinkedPoliciesAreEvaluatedWithSlotsFilled) {
  auto ps = ParsePolicySet(kPolicies);
  ASSERT_TRUE(ps.has_value());
  auto linked = LinkTemplates(
      *ps, {
               {"viewers", "alice-f1", EntityUid("User", "alice"), EntityUid("Folder", "f1")},
               {"members", "eng-members", EntityUid("Group", "eng"), std::nullopt},
               {"deny-docs", "protect-f1", std::nullopt, EntityUid("Folder", "f1")},
           });
  ASSERT_TRUE(linked.has_value()) << linked.error().message();
  ASSERT_EQ(linked->size(), ps->size() + 3);
  const Policy* link = linked->Find("alice-f1");
  ASSERT_NE(link, nullptr);
  EXPECT_TRUE(link->is_linked());
  EXPECT_FALSE(link->is_template());
  EXPECT_EQ(link->template_id(), "viewers");
  EXPECT_EQ(link->linked_principal(), EntityUid("User", "alice"));
  EXPECT_EQ(link->linked_resource(), EntityUid("Folder", "f1"));
  EXPECT_EQ(link->annotation("reason"), std::optional<std::optional<std::string>>("shared folder"));
  EXPECT_EQ(link->span().line, ps->Find("viewers")->span().line);
  EXPECT_EQ(link->index(), ps->size());
  // The original set is unchanged.
  EXPECT_EQ(ps->Find("alice-f1"), nullptr);

  Entities entities = TestEntities();
  // principal == ?principal, resource in ?resource: d1 is in Folder::"f1" (and public, so alice's
  // membership of Group::"eng" allows it too).
  Response r = IsAuthorized(Req("alice", "view", "d1"), *linked, entities);
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(r.reasons, (std::vector<std::string>{"alice-f1", "eng-members"}));
  ASSERT_EQ(DeterminingPolicies(r, *linked).size(), 2u);
  EXPECT_EQ(DeterminingPolicies(r, *linked)[0]->template_id(), "viewers");
  EXPECT_EQ(DeterminingPolicies(r, *linked)[1]->template_id(), "members");
  // d2 is not in the folder; bob is not alice.
  EXPECT_EQ(IsAuthorized(Req("alice", "view", "d2"), *linked, entities).decision, Decision::kDeny);
  EXPECT_EQ(IsAuthorized(Req("bob", "view", "d1"), *linked, entities).decision, Decision::kDeny);

  // principal in ?principal (Group::"eng"), with a `when` on the shared condition.
  r = IsAuthorized(Req("alice", "read", "d1"), *linked, entities);
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(r.reasons, std::vector<std::string>{"eng-members"});
  EXPECT_EQ(IsAuthorized(Req("alice", "read", "d2"), *linked, entities).decision, Decision::kDeny);
  EXPECT_EQ(IsAuthorized(Req("bob", "read", "d1"), *linked, entities).decision, Decision::kDeny);

  // resource is Doc in ?resource, with `unless`: the forbid overrides the member permit for
  // alice, not for bob (an admin).
  r = IsAuthorized(Req("alice", "delete", "d1"), *linked, entities);
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_EQ(r.reasons, std::vector<std::string>{"protect-f1"});
  auto with_bob = LinkTemplates(
      *linked, {{"members", "admin-members", EntityUid("Group", "admins"), std::nullopt}});
  ASSERT_TRUE(with_bob.has_value()) << with_bob.error().message();
  r = IsAuthorized(Req("bob", "delete", "d1"), *with_bob, entities);
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(r.reasons, std::vector<std::string>{"admin-members"});
}

TEST(CedarTemplates, ErrorsInLinkedPoliciesNameTheLink) {
  auto ps = ParsePolicySet(kPolicies);
  ASSERT_TRUE(ps.has_value());
  auto linked = LinkTemplates(*ps, {{"owner-check", "alice-edit", EntityUid("User", "alice"), {}},
                                    {"owner-check", "bob-edit", EntityUid("User", "bob"), {}}});
  ASSERT_TRUE(linked.has_value()) << linked.error().message();
  Entities entities = TestEntities();
  // d2 has no `owner`: evaluating alice's link errors; bob's link does not apply to alice.
  Response r = IsAuthorized(Req("alice", "edit", "d2"), *linked, entities);
  EXPECT_EQ(r.decision, Decision::kDeny);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].policy_id, "alice-edit");
  EXPECT_NE(r.errors[0].message.find("alice-edit"), std::string::npos) << r.errors[0].message;
  // One template linked twice: each link is its own policy.
  r = IsAuthorized(Req("bob", "edit", "d2"), *linked, entities);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].policy_id, "bob-edit");
}

struct LinkErrorCase {
  const char* name;
  TemplateLink link;
  const char* expected;  // substring of the error
};

class CedarTemplateLinkErrors : public testing::TestWithParam<LinkErrorCase> {};

TEST_P(CedarTemplateLinkErrors, OneLineErrorNamingTheLink) {
  auto ps = ParsePolicySet(kPolicies);
  ASSERT_TRUE(ps.has_value());
  auto first = LinkTemplates(*ps, {{"members", "existing-link", EntityUid("Group", "eng"), {}}});
  ASSERT_TRUE(first.has_value());
  const LinkErrorCase& c = GetParam();
  // A good link before the bad one: linking is all-or-nothing.
  auto r = LinkTemplates(*first, {{"members", "fine", EntityUid("Group", "admins"), {}}, c.link});
  ASSERT_FALSE(r.has_value()) << c.name;
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.error().message();
  EXPECT_NE(m.find("link `" + c.link.link_id + "`"), std::string::npos) << m;
  EXPECT_NE(m.find(c.expected), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

INSTANTIATE_TEST_SUITE_P(
    All, CedarTemplateLinkErrors,
    testing::Values(
        LinkErrorCase{
            "unknown template", {"nope", "l1", EntityUid("User", "a"), {}}, "no template `nope`"},
        LinkErrorCase{"static policy",
                      {"static", "l1", EntityUid("User", "a"), {}},
                      "`static` is a static policy, not a template"},
        LinkErrorCase{"id of a static policy",
                      {"members", "static", EntityUid("Group", "g"), {}},
                      "already used by a static policy"},
        LinkErrorCase{"id of a template",
                      {"members", "viewers", EntityUid("Group", "g"), {}},
                      "already used by a template"},
        LinkErrorCase{"id of an earlier link",
                      {"members", "existing-link", EntityUid("Group", "g"), {}},
                      "already used by a linked policy"},
        LinkErrorCase{"id repeated in one call",
                      {"members", "fine", EntityUid("Group", "g"), {}},
                      "already used by a linked policy"},
        LinkErrorCase{"missing principal",
                      {"viewers", "l1", {}, EntityUid("Folder", "f")},
                      "has a `?principal` slot but the link gives it no value"},
        LinkErrorCase{"missing resource",
                      {"viewers", "l1", EntityUid("User", "a"), {}},
                      "has a `?resource` slot but the link gives it no value"},
        LinkErrorCase{"extra resource",
                      {"members", "l1", EntityUid("Group", "g"), EntityUid("Doc", "d")},
                      "has no `?resource` slot but the link gives it a value"},
        LinkErrorCase{"extra principal",
                      {"deny-docs", "l1", EntityUid("User", "a"), EntityUid("Folder", "f")},
                      "has no `?principal` slot but the link gives it a value"},
        LinkErrorCase{
            "empty id", {"members", "", EntityUid("Group", "g"), {}}, "the link id is empty"}),
    [](const testing::TestParamInfo<LinkErrorCase>& param_info) {
      std::string n = param_info.param.name;
      for (char& ch : n) {
        if (ch == ' ') ch = '_';
      }
      return n;
    });

TEST(CedarTemplates, LinksFromJson) {
  auto links = ParseTemplateLinksJson(R"([
    {"templateId": "viewers", "newId": "a",
     "values": {"?principal": {"type": "User", "id": "alice"},
                "?resource": {"__entity": {"type": "Folder", "id": "f1"}}}},
    {"templateId": "members", "newId": "b", "values": {"?principal": {"type": "Group", "id": "eng"}}}
  ])",
                                      "links.json");
  ASSERT_TRUE(links.has_value()) << links.error().message();
  ASSERT_EQ(links->size(), 2u);
  EXPECT_EQ((*links)[0].template_id, "viewers");
  EXPECT_EQ((*links)[0].link_id, "a");
  EXPECT_EQ((*links)[0].principal, EntityUid("User", "alice"));
  EXPECT_EQ((*links)[0].resource, EntityUid("Folder", "f1"));
  EXPECT_FALSE((*links)[1].resource.has_value());
  // The policy-set JSON shape: its templateLinks member.
  auto shaped = ParseTemplateLinksJson(
      R"({"staticPolicies": {}, "templateLinks": [{"templateId": "members", "newId": "c",
          "values": {"?principal": {"type": "Group", "id": "eng"}}}]})");
  ASSERT_TRUE(shaped.has_value()) << shaped.error().message();
  ASSERT_EQ(shaped->size(), 1u);
  auto ps = ParsePolicySet(kPolicies);
  ASSERT_TRUE(ps.has_value());
  EXPECT_TRUE(LinkTemplates(*ps, *links).has_value());

  const std::pair<const char*, const char*> bad[] = {
      {"[1]", "links.json: templateLinks[0]: expected an object"},
      {"{\"templateLinks\": 3}", "expected an array of links"},
      {"[{\"newId\": \"x\"}]", "templateLinks[0]: missing `templateId`"},
      {"[{\"templateId\": \"t\"}]", "templateLinks[0]: missing `newId`"},
      {"[{\"templateId\": 1, \"newId\": \"x\"}]", "templateLinks[0].templateId: expected a string"},
      {"[{\"templateId\": \"t\", \"newId\": \"x\", \"values\": {\"?owner\": {}}}]",
       "unknown slot `?owner`"},
      {"[{\"templateId\": \"t\", \"newId\": \"x\", \"values\": {\"?principal\": {\"type\": "
       "\"User\"}}}]",
       "templateLinks[0].values[\"?principal\"]: an entity uid needs"},
      {"[{\"templateId\": \"t\", \"newId\": \"x\", \"extra\": 1}]", "unknown field `extra`"},
      {"[", "links.json: "},
  };
  for (const auto& [json, expected] : bad) {
    auto r = ParseTemplateLinksJson(json, "links.json");
    ASSERT_FALSE(r.has_value()) << json;
    EXPECT_NE(r.error().message().find(expected), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace arbiter::cedar
