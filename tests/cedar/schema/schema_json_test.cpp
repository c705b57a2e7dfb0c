// The JSON schema format and translation between the two schema formats: every JSON form gives the
// same resolved schema as its human-format counterpart, translations round-trip, common types
// resolve as Cedar resolves them, and malformed JSON schemas fail with a one-line error naming the
// JSON path (never a crash; mutation tests run under ASan).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/cedar/schema_json.h"
#include "arbiter/cedar/validator.h"
#include "schema/schema_dump.h"
#include "support/shared_data.h"

namespace arbiter::cedar {
namespace {

using schema_testing::DumpSchema;

std::string Dump(const Result<Schema>& s) {
  if (!s) return "error: " + s.error().message();
  return DumpSchema(*s);
}

// Human → JSON → human and JSON → human → JSON give the same resolved schema, and the second
// translation of each is a fixed point.
void ExpectRoundTrips(const std::string& human, const std::string& name) {
  auto base = ParseCedarSchema(human, name);
  ASSERT_TRUE(base.has_value()) << name << ": " << base.error().message();
  std::string want = DumpSchema(*base);
  auto json = CedarSchemaToJson(human, name);
  ASSERT_TRUE(json.has_value()) << name << ": " << json.error().message();
  EXPECT_EQ(Dump(ParseJsonSchema(*json, name + ".json")), want) << name << "\n" << *json;
  auto back = JsonSchemaToCedar(*json, name + ".json");
  ASSERT_TRUE(back.has_value()) << name << ": " << back.error().message();
  EXPECT_EQ(Dump(ParseCedarSchema(*back, name + ".back")), want) << name << "\n" << *back;
  auto json2 = CedarSchemaToJson(*back, name + ".back");
  ASSERT_TRUE(json2.has_value()) << name << ": " << json2.error().message();
  EXPECT_EQ(*json2, *json) << name;
  auto back2 = JsonSchemaToCedar(*json2, name);
  ASSERT_TRUE(back2.has_value());
  EXPECT_EQ(*back2, *back) << name;
}

constexpr const char* kKitchenSink = R"(
type Shared = {level: Long};
entity Root;
@doc("the app")
namespace App {
  @doc("a common type")
  type Ctx = {
    @doc("where from")
    ip?: ipaddr,
    "odd key": Set<Set<String>>,
    nested: Inner,
    shared: Shared,
  };
  type Inner = {score: decimal, at?: datetime, for: duration, ok: Bool};
  entity Group in [Root];
  @doc("users")
  entity User in [Group, Root] = {
    name: String,
    manager?: User,
    groups: Set<Group>,
    ctx: Ctx,
    long: __cedar::Long,
  } tags Set<String>;
  entity Doc, Folder in Folder = {"owner": User};
  entity Color enum ["red", "green", "a \"quoted\" \u{1F600}"];
  action "read";
  action write, "delete" in ["read"] appliesTo {
    principal: [User],
    resource: [Doc, Folder],
    context: Ctx
  };
  action admin in [read, Other::Action::"root"] appliesTo { principal: User, resource: Doc };
}
namespace Other {
  action "root";
  entity Thing = { app_user: App::User, r: Root };
}
)";

TEST(CedarSchemaJson, KitchenSinkRoundTrips) { ExpectRoundTrips(kKitchenSink, "sink"); }

TEST(CedarSchemaJson, JsonFormsMatchTheHumanFormat) {
  constexpr const char* kHuman = R"(
type Num = Long;
entity E;
namespace N {
  type Ctx = {a: Num, b?: Set<E>, c: decimal, d: N::Ctx2};
  type Ctx2 = {};
  entity P in [E] = {x: Long, y?: String, z: Bool, e: E, n: P, t: Ctx} tags ipaddr;
  entity En enum ["a", "b"];
  action go appliesTo {principal: [P], resource: [E, P], context: Ctx};
  action sub in [go, N::Action::"go"];
})";
  constexpr const char* kJson = R"({
  "": {
    "commonTypes": {"Num": {"type": "Long"}},
    "entityTypes": {"E": {}},
    "actions": {}
  },
  "N": {
    "commonTypes": {
      "Ctx": {"type": "Record", "attributes": {
        "a": {"type": "Num"},
        "b": {"type": "Set", "element": {"type": "Entity", "name": "E"}, "required": false},
        "c": {"type": "Extension", "name": "decimal"},
        "d": {"type": "EntityOrCommon", "name": "N::Ctx2"}}},
      "Ctx2": {"type": "Record", "attributes": {}, "additionalAttributes": false}
    },
    "entityTypes": {
      "P": {"memberOfTypes": ["E"], "shape": {"type": "Record", "attributes": {
        "x": {"type": "Long"}, "y": {"type": "String", "required": false},
        "z": {"type": "Boolean"}, "e": {"type": "EntityOrCommon", "name": "E"},
        "n": {"type": "Entity", "name": "N::P"}, "t": {"type": "Ctx"}}},
        "tags": {"type": "Extension", "name": "ipaddr"}},
      "En": {"enum": ["a", "b"]}
    },
    "actions": {
      "go": {"appliesTo": {"principalTypes": ["P"], "resourceTypes": ["E", "N::P"],
                           "context": {"type": "Ctx"}}},
      "sub": {"memberOf": [{"id": "go"}, {"id": "go", "type": "N::Action"}]}
    }
  }
})";
  auto human = ParseSchema(kHuman, "h");
  ASSERT_TRUE(human.has_value()) << human.error().message();
  auto json = ParseSchema(kJson, "j");  // detects JSON
  ASSERT_TRUE(json.has_value()) << json.error().message();
  EXPECT_EQ(DumpSchema(*json), DumpSchema(*human));
  EXPECT_TRUE(json->HasAction(EntityUid("N::Action", "sub")));
  EXPECT_TRUE(json->HasEntityType("N::En"));
  ExpectRoundTrips(kHuman, "forms");
}

TEST(CedarSchemaJson, EmptyNamespaceAndEmptySchema) {
  auto s = ParseSchema(R"( {"": {"entityTypes": {"A": {}}, "actions": {"a": {}}}} )");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_TRUE(s->HasEntityType("A"));
  EXPECT_TRUE(s->HasAction(EntityUid("Action", "a")));
  auto empty = ParseSchema("{}");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->EntityTypeNames().empty());
  ExpectRoundTrips("", "empty");
  ExpectRoundTrips("namespace Empty {}", "empty-ns");
}

TEST(CedarSchemaJson, TranslationKeepsCommonTypesAndAnnotations) {
  auto json = CedarSchemaToJson(kKitchenSink, "sink");
  ASSERT_TRUE(json.has_value());
  EXPECT_NE(json->find(R"("commonTypes")"), std::string::npos);
  EXPECT_NE(json->find(R"("name": "Inner")"), std::string::npos);  // a reference, not inlined
  EXPECT_NE(json->find(R"("doc": "the app")"), std::string::npos);
  EXPECT_NE(json->find(R"("required": false)"), std::string::npos);
  auto back = JsonSchemaToCedar(*json);
  ASSERT_TRUE(back.has_value());
  EXPECT_NE(back->find("type Inner = {"), std::string::npos) << *back;
  EXPECT_NE(back->find("@doc(\"where from\")"), std::string::npos) << *back;
  EXPECT_NE(back->find("namespace Other {"), std::string::npos) << *back;
  // JSON built-ins come out qualified so that no declaration can capture them.
  auto text = JsonSchemaToCedar(
      R"({"": {"entityTypes": {"Long": {}, "X": {"shape": {"type": "Record", "attributes": {
          "a": {"type": "Long"}, "b": {"type": "Entity", "name": "Long"}}}}}, "actions": {}}})");
  ASSERT_TRUE(text.has_value()) << text.error().message();
  EXPECT_NE(text->find("a: __cedar::Long"), std::string::npos) << *text;
  auto reparsed = ParseCedarSchema(*text, "t");
  ASSERT_TRUE(reparsed.has_value()) << reparsed.error().message();
  EXPECT_EQ(DumpSchema(*reparsed),
            "entity Long in [] = {}\nentity X in [] = {\"a\":Long,\"b\":entity:Long,}\n");
}

// Common types: Cedar's resolution order and its rules on shadowing and cycles, the same in both
// formats.
TEST(CedarSchemaJson, CommonTypeResolution) {
  struct Case {
    const char* human;
    const char* want;  // DumpSchema of entity X's line, or "error: <substring>"
  };
  const Case kCases[] = {
      // Nested common types, across namespaces.
      {"type A = {b: B}; type B = Set<C>; type C = Long; entity X = {a: A};",
       "entity X in [] = {\"a\":{\"b\":Set<Long>,},}"},
      {"namespace M { type T = String; } namespace N { entity X = {t: M::T}; }", ""},
      // A common type and an entity type of the same name in one namespace: the common type wins.
      {"namespace N { type E = Long; entity E; entity X = {e: E}; }", ""},
      // The namespace's own definitions come before the empty namespace's.
      {"entity G; namespace N { entity X = {g: G}; }", ""},
      // Shadowing a definition of the empty namespace is an error (RFC 70).
      {"entity E; namespace N { type E = Long; }", "error: shadows the definition of `E`"},
      {"type E = Long; namespace N { entity E; }", "error: shadows the definition of `E`"},
      {"entity E; namespace N { entity E; }", "error: shadows the definition of `E`"},
      // Cycles and reserved names.
      {"type A = {b: B}; type B = Set<A>; entity X = {a: A};",
       "error: cyclic common type definition"},
      {"type T = {t: T}; entity X = {a: T};", "error: cyclic common type definition"},
      {"type Long = String; entity X;", "error: `Long` is reserved"},
      {"type Set = String; entity X;", "error: `Set` is reserved"},
      {"type T = Nope; entity X;", "error: undeclared type `Nope`"},
      {"entity X in [Nope];", "error: undeclared entity type `Nope`"},
      {"action a in [b]; action b in [a];", "error: cycle in the action hierarchy"},
      {"entity X; action a appliesTo {principal: X, resource: X, context: Long};",
       "error: must be a record type"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.human);
    auto human = ParseCedarSchema(c.human, "h");
    std::string want = c.want;
    if (want.rfind("error: ", 0) == 0) {
      ASSERT_FALSE(human.has_value());
      EXPECT_NE(human.error().message().find(want.substr(7)), std::string::npos)
          << human.error().message();
      continue;
    }
    ASSERT_TRUE(human.has_value()) << human.error().message();
    if (!want.empty()) {
      EXPECT_NE(DumpSchema(*human).find(want), std::string::npos) << DumpSchema(*human);
    }
    ExpectRoundTrips(c.human, c.human);
  }
  // The same checks from JSON, with the JSON path in the error.
  auto cyc = ParseJsonSchema(R"({"": {"commonTypes": {"A": {"type": "B"}, "B": {"type": "A"}},
                                    "entityTypes": {"X": {"shape": {"type": "A"}}},
                                    "actions": {}}})",
                             "c.json");
  ASSERT_FALSE(cyc.has_value());
  EXPECT_NE(cyc.error().message().find("cyclic common type definition"), std::string::npos);
  EXPECT_EQ(cyc.error().message().rfind("c.json: $[\"\"]", 0), 0u) << cyc.error().message();
  auto shadow = ParseJsonSchema(
      R"({"": {"entityTypes": {"E": {}}, "actions": {}},
          "N": {"commonTypes": {"E": {"type": "Long"}}, "entityTypes": {}, "actions": {}}})",
      "s.json");
  ASSERT_FALSE(shadow.has_value());
  EXPECT_NE(shadow.error().message().find("$.N.commonTypes.E: definition of `N::E` shadows"),
            std::string::npos)
      << shadow.error().message();
  // `{"type": N}` names a common type or a built-in, never an entity type.
  auto entity_as_type = ParseJsonSchema(
      R"({"": {"entityTypes": {"E": {}, "X": {"shape": {"type": "Record", "attributes": {
          "a": {"type": "E"}}}}}, "actions": {}}})");
  ASSERT_FALSE(entity_as_type.has_value());
  EXPECT_NE(entity_as_type.error().message().find("`E` is an entity type"), std::string::npos);
  // A shape given by a common type loads, but the human format cannot say it.
  constexpr const char* kCommonShape =
      R"({"": {"commonTypes": {"C": {"type": "Record", "attributes": {"a": {"type": "Long"}}}},
               "entityTypes": {"X": {"shape": {"type": "C"}}}, "actions": {}}})";
  auto common_shape = ParseJsonSchema(kCommonShape, "cs");
  ASSERT_TRUE(common_shape.has_value()) << common_shape.error().message();
  EXPECT_EQ(DumpSchema(*common_shape), "entity X in [] = {\"a\":Long,}\n");
  auto text = JsonSchemaToCedar(kCommonShape);
  ASSERT_FALSE(text.has_value());
  EXPECT_NE(text.error().message().find("cannot express"), std::string::npos);
}

// Malformed JSON schemas: a one-line error naming the JSON path.
TEST(CedarSchemaJson, MalformedJsonSchemasNameThePath) {
  struct Case {
    const char* json;
    const char* want;  // a substring of the error
  };
  const Case kCases[] = {
      {"[]", "s.json: $: expected an object, found array"},
      {R"({"": []})", R"($[""]: expected an object, found array)"},
      {R"({"": {"actions": {}}})", R"($[""]: missing `entityTypes`)"},
      {R"({"": {"entityTypes": {}}})", R"($[""]: missing `actions`)"},
      {R"({"": {"entityTypes": {}, "actions": {}, "extra": 1}})",
       R"($[""].extra: unknown field `extra`)"},
      {R"({"A::": {"entityTypes": {}, "actions": {}}})", "invalid namespace name `A::`"},
      {R"({"__cedar": {"entityTypes": {}, "actions": {}}})", "invalid namespace name"},
      {R"({"": {"entityTypes": {"a b": {}}, "actions": {}}})",
       R"($[""].entityTypes["a b"]: invalid entity type name `a b`)"},
      {R"({"": {"entityTypes": {"if": {}}, "actions": {}}})", "invalid entity type name `if`"},
      {R"({"": {"entityTypes": {"E": {"shape": {"type": "Int"}}}, "actions": {}}})",
       R"($[""].entityTypes.E.shape: undeclared type `Int`)"},
      {R"({"": {"entityTypes": {"E": {"shape": {"type": "Long"}}}, "actions": {}}})",
       R"($[""].entityTypes.E.shape: the shape of an entity type must be a record type)"},
      {R"({"": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {
           "a": {"type": "Long", "name": "x"}}}}}, "actions": {}}})",
       R"(attributes.a.name: unknown field `name` for a type `Long`)"},
      {R"({"": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {
           "a": {"type": "Set"}}}}}, "actions": {}}})",
       "attributes.a: type `Set` needs `element`"},
      {R"({"": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {
           "a": {"type": "Extension", "name": "money"}}}}}, "actions": {}}})",
       "attributes.a: unknown extension type `money`"},
      {R"({"": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {
           "a": {"type": "Entity", "name": "Z"}}}}}, "actions": {}}})",
       "attributes.a: undeclared entity type `Z`"},
      {R"({"": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {
           "a": {"type": "Long", "required": "no"}}}}}, "actions": {}}})",
       "attributes.a.required: expected a boolean, found string"},
      {R"({"": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {},
           "additionalAttributes": true}}}, "actions": {}}})",
       "shape.additionalAttributes: `additionalAttributes: true` is not supported"},
      {R"({"": {"entityTypes": {"E": {"shape": {"type": "Record", "attributes": {}, "x": 1}}},
           "actions": {}}})",
       "shape.x: unknown field `x` for a type `Record`"},
      {R"({"": {"entityTypes": {"E": {"shape": {}}}, "actions": {}}})",
       "entityTypes.E.shape: missing `type`"},
      {R"({"": {"entityTypes": {"E": {"shape": {"type": 5}}}, "actions": {}}})",
       "entityTypes.E.shape.type: expected a string, found number"},
      {R"({"": {"entityTypes": {"E": {"memberOfTypes": "F"}}, "actions": {}}})",
       "entityTypes.E.memberOfTypes: expected an array"},
      {R"({"": {"entityTypes": {"E": {"memberOfTypes": ["F"]}}, "actions": {}}})",
       "entityTypes.E: undeclared entity type `F`"},
      {R"({"": {"entityTypes": {"E": {"enum": []}}, "actions": {}}})",
       "entityTypes.E.enum: an enum entity type needs at least one value"},
      {R"({"": {"entityTypes": {"E": {"enum": ["a"], "shape": {"type": "Record"}}},
           "actions": {}}})",
       "entityTypes.E.shape: an enum entity type cannot have `shape`"},
      {R"({"": {"entityTypes": {"E": {"annotations": {"doc": 1}}}, "actions": {}}})",
       "entityTypes.E.annotations.doc: expected a string, found number"},
      {R"({"": {"commonTypes": {"Long": {"type": "String"}}, "entityTypes": {}, "actions": {}}})",
       "commonTypes.Long: `Long` is reserved"},
      {R"({"": {"entityTypes": {}, "actions": {"a": {"attributes": {}}}}})",
       R"($[""].actions.a.attributes: action attributes are not supported)"},
      {R"({"": {"entityTypes": {}, "actions": {"a": {"appliesTo": {}}}}})",
       "actions.a.appliesTo: missing `principalTypes`"},
      {R"({"": {"entityTypes": {"E": {}}, "actions": {"a": {"appliesTo": {
           "principalTypes": ["E"]}}}}})",
       "actions.a.appliesTo: missing `resourceTypes`"},
      {R"({"": {"entityTypes": {"E": {}}, "actions": {"a": {"appliesTo": {
           "principalTypes": ["E"], "resourceTypes": ["E"], "context": {"type": "Long"}}}}}})",
       "actions.a.appliesTo.context: the context of action `Action::\"a\"` must be a record"},
      {R"({"": {"entityTypes": {}, "actions": {"a": {"memberOf": [{"type": "Action"}]}}}})",
       "actions.a.memberOf[0]: missing `id`"},
      {R"({"": {"entityTypes": {}, "actions": {"a": {"memberOf": [{"id": "zz"}]}}}})",
       "is in undeclared action `Action::\"zz\"`"},
      {R"({"": {"entityTypes": {}, "actions": {"a": {"memberOf": [{"id": "b"}]},
                                                 "b": {"memberOf": [{"id": "a"}]}}}})",
       "cycle in the action hierarchy"},
      {R"({"": {"entityTypes": {}, "actions": {})", "s.json: json: "},
      {"{\"\": {\"entityTypes\": {\"E\\u0001\": {}}, \"actions\": {}}}",
       "invalid entity type name"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.json);
    auto s = ParseJsonSchema(c.json, "s.json");
    ASSERT_FALSE(s.has_value());
    const std::string& m = s.error().message();
    EXPECT_NE(m.find(c.want), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.rfind("s.json: ", 0), 0u) << m;
  }
}

TEST(CedarSchemaJson, DepthAndSizeLimits) {
  // Nesting beyond the depth limit, in both formats.
  std::string human = "entity X = {a: ", json = R"({"": {"entityTypes": {"X": {"shape": )";
  for (int i = 0; i < 100; ++i) {
    human += "Set<";
    json += R"({"type": "Set", "element": )";
  }
  human += "Long";
  json += R"({"type": "Long"})";
  for (int i = 0; i < 100; ++i) {
    human += ">";
    json += "}";
  }
  human += "};";
  json += "}}, \"actions\": {}}}";
  auto h = ParseSchema(human, "deep");
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().code(), StatusCode::kResourceExhausted) << h.error().message();
  auto j = ParseSchema(json, "deep.json");
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().code(), StatusCode::kResourceExhausted) << j.error().message();
  // Nesting counts through common types: 40 levels around a 40-level common type is too deep.
  std::string open40, close40;
  for (int i = 0; i < 40; ++i) {
    open40 += "Set<";
    close40 += ">";
  }
  auto through = ParseSchema("type Deep = " + open40 + "Long" + close40 +
                                 "; entity X = {a: " + open40 + "Deep" + close40 + "};",
                             "through");
  ASSERT_FALSE(through.has_value());
  EXPECT_EQ(through.error().code(), StatusCode::kResourceExhausted) << through.error().message();
  EXPECT_TRUE(ParseSchema("type Deep = " + open40 + "Long" + close40 + "; entity X = {a: Deep};")
                  .has_value());
  // Common types that double at each step: resolved once each, but bounded in expanded size.
  std::string doubling = "type T0 = Long;\n";
  for (int i = 1; i <= 40; ++i) {
    doubling += "type T" + std::to_string(i) + " = {a: T" + std::to_string(i - 1) + ", b: T" +
                std::to_string(i - 1) + "};\n";
  }
  doubling += "entity X = {t: T40};";
  auto d = ParseSchema(doubling, "doubling");
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(d.error().message().find("types expand to more than"), std::string::npos);
  // Over the byte limit.
  SchemaOptions small;
  small.max_bytes = 10;
  auto big = ParseSchema(R"({"": {"entityTypes": {}, "actions": {}}})", "b", small);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), StatusCode::kResourceExhausted);
}

std::string MutateJson(const std::string& in, std::mt19937& rng) {
  std::string s = in;
  static const std::string kAlphabet = "{}[],:\"\\ntfe01-.aZ_ \x80\xff";
  static const char* kWords[] = {"\"Set\"",  "\"Record\"", "\"Entity\"",   "\"Long\"",
                                 "\"type\"", "\"name\"",   "\"element\"",  "{}",
                                 "[]",       "null",       "\"required\"", "\"EntityOrCommon\""};
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    size_t pos = rng() % s.size();
    switch (rng() % 6) {
      case 0: s.erase(pos, 1 + rng() % 8); break;
      case 1: s.insert(pos, 1, kAlphabet[rng() % kAlphabet.size()]); break;
      case 2: s[pos] = kAlphabet[rng() % kAlphabet.size()]; break;
      case 3: s.insert(pos, kWords[rng() % std::size(kWords)]); break;
      case 4: s.resize(pos); break;
      default: s.insert(pos, s.substr(rng() % s.size(), 1 + rng() % 24)); break;
    }
  }
  return s;
}

TEST(CedarRobustness, MutatedJsonSchemasParseOrFailCleanly) {
  auto json = CedarSchemaToJson(kKitchenSink, "sink");
  ASSERT_TRUE(json.has_value());
  std::mt19937 rng(20261127);
  int loaded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string m = MutateJson(*json, rng);
    auto s = ParseSchema(m, "m.json");
    if (s) {
      ++loaded;
      // Whatever loads translates, and the translation loads to the same schema.
      auto text = JsonSchemaToCedar(m, "m.json");
      if (!text) continue;  // e.g. a shape mutated into a common type reference
      auto again = ParseCedarSchema(*text, "m.cedarschema");
      ASSERT_TRUE(again.has_value()) << m << "\n" << *text << "\n" << again.error().message();
      EXPECT_EQ(DumpSchema(*again), DumpSchema(*s)) << m;
    } else {
      EXPECT_FALSE(s.error().message().empty());
      EXPECT_EQ(s.error().message().find('\n'), std::string::npos) << s.error().message();
    }
  }
  EXPECT_GT(loaded, 30);  // the mutations are not all rejected up front
}

TEST(CedarRobustness, MutatedHumanSchemasTranslateOrFailCleanly) {
  std::mt19937 rng(7);
  static const std::string kAlphabet = "(){}[]<>,;:.\"\\?@=_aZ09 \n\x80";
  for (int i = 0; i < 2000; ++i) {
    std::string s = kKitchenSink;
    for (int e = 0; e < 1 + static_cast<int>(rng() % 3); ++e) {
      size_t pos = rng() % s.size();
      if (rng() % 2) {
        s.erase(pos, 1 + rng() % 6);
      } else {
        s.insert(pos, 1, kAlphabet[rng() % kAlphabet.size()]);
      }
    }
    auto json = CedarSchemaToJson(s, "m.cedarschema");
    if (!json) {
      EXPECT_EQ(json.error().message().find('\n'), std::string::npos);
      continue;
    }
    auto a = ParseCedarSchema(s, "m");
    auto b = ParseJsonSchema(*json, "m.json");
    ASSERT_TRUE(a.has_value() && b.has_value()) << s << "\n" << *json;
    EXPECT_EQ(DumpSchema(*b), DumpSchema(*a)) << s;
  }
}

// The hand-written conformance tests' schemas round-trip, and their policies validate the same
// against the JSON translation as against the original.
TEST(CedarSchemaJson, HandWrittenSchemasRoundTrip) {
  ARBITER_REQUIRE_SHARED(root, "conformance/cedar/sample-data");
  int n = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".cedarschema") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    ExpectRoundTrips(ss.str(), entry.path().filename().string());
    ++n;
  }
  EXPECT_EQ(n, 3);
}

TEST(CedarSchemaJson, ValidationIsTheSameWithEitherFormat) {
  constexpr const char* kPolicies = R"(
permit(principal == App::User::"a", action == App::Action::"write", resource)
  when { context.nested.score.lessThan(decimal("0.5")) && resource.owner == principal };
permit(principal, action == App::Action::"write", resource) when { context.ip.isLoopback() };
permit(principal, action, resource) when { principal.nope };
)";
  auto policies = ParsePolicySet(kPolicies, "p.cedar");
  ASSERT_TRUE(policies.has_value()) << policies.error().message();
  auto human = ParseSchema(kKitchenSink, "sink");
  auto json = ParseSchema(*CedarSchemaToJson(kKitchenSink), "sink.json");
  ASSERT_TRUE(human.has_value() && json.has_value());
  ValidationResult a = ValidatePolicies(*policies, *human);
  ValidationResult b = ValidatePolicies(*policies, *json);
  ASSERT_EQ(a.errors.size(), b.errors.size());
  EXPECT_GE(a.errors.size(), 2u);  // the optional `ip` without `has`, and `nope`
  for (size_t i = 0; i < a.errors.size(); ++i) {
    EXPECT_EQ(a.errors[i].ToString(), b.errors[i].ToString());
  }
}

}  // namespace
}  // namespace arbiter::cedar
