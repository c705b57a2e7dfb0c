// Google Benchmark of strict validation: 100 policies against a generated schema of 50 entity types
// (attributes, optional attributes, a memberOf hierarchy, tags) and 10 actions. Target (issue 4):
// <= 10 ms per whole-set validation in Release. Results in docs/CEDAR_VALIDATOR.md.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/cedar/validator.h"

namespace {

std::string MakeSchema() {
  std::string s = "namespace App {\n";
  for (int i = 0; i < 50; ++i) {
    s += "  entity T" + std::to_string(i);
    if (i % 5 != 0) s += " in [T" + std::to_string(i - i % 5) + "]";
    s += " { name: String, level: Long, owner?: T" + std::to_string(i % 5 * 5) +
         ", labels: Set<String>, score: decimal, addr: ipaddr, meta: { size: Long, note?: "
         "String } }";
    if (i % 7 == 0) s += " tags String";
    s += ";\n";
  }
  for (int a = 0; a < 10; ++a) {
    s += "  action a" + std::to_string(a) + " appliesTo { principal: [";
    for (int p = 0; p < 5; ++p) s += (p ? ", T" : "T") + std::to_string((a * 5 + p) % 50);
    s += "], resource: [";
    for (int r = 0; r < 5; ++r) s += (r ? ", T" : "T") + std::to_string((a * 5 + r + 25) % 50);
    s += "], context: { n: Long, flag?: Bool } };\n";
  }
  return s + "}\n";
}

std::string MakePolicies() {
  std::string s;
  for (int i = 0; i < 100; ++i) {
    int a = i % 10;
    std::string act = "App::Action::\"a" + std::to_string(a) + "\"";
    s += (i % 3 ? "permit" : "forbid");
    s += "(principal, action == " + act + ", resource) when {\n";
    s += "  principal.level > " + std::to_string(i) + " && resource.meta.size < 100 &&\n";
    s += "  (principal has owner && principal.owner.name like \"a*\") &&\n";
    s += "  principal.labels.contains(\"x\") && resource.score.lessThan(decimal(\"1.5\")) &&\n";
    s += "  principal.addr.isInRange(ip(\"10.0.0.0/8\")) && (if context has flag then context.flag "
         "else context.n == 2)\n";
    s += "} unless { resource.meta has note && resource.meta.note == \"hold\" };\n";
  }
  return s;
}

void BM_Validate100Policies50Types(benchmark::State& state) {
  auto schema = arbiter::cedar::ParseSchema(MakeSchema(), "bench.cedarschema");
  auto policies = arbiter::cedar::ParsePolicySet(MakePolicies(), "bench.cedar");
  if (!schema || !policies) {
    state.SkipWithError("bench input does not parse");
    return;
  }
  arbiter::cedar::ValidationResult r = arbiter::cedar::ValidatePolicies(*policies, *schema);
  if (!r.ok()) {
    std::cerr << r.errors.front().ToString() << "\n";
    state.SkipWithError("bench policies do not validate");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(arbiter::cedar::ValidatePolicies(*policies, *schema));
  }
}
BENCHMARK(BM_Validate100Policies50Types)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
