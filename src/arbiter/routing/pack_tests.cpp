#include "arbiter/routing/pack_tests.h"

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>

#include "arbiter/cedar/entities.h"
#include "arbiter/common/json.h"
#include "arbiter/routing/router.h"
#include "arbiter/sources/case.h"

namespace arbiter::routing {
namespace {

namespace fs = std::filesystem;
constexpr size_t kMaxLineBytes = 4u << 20;

std::string Joined(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out + "]";
}

std::string Str(const boost::json::value* v) {
  if (v == nullptr || v->is_null()) return "";
  if (v->is_string()) return std::string(v->get_string());
  return ToJson(*v);
}

// Reads an array of strings; sets `ok` false on a malformed value.
std::vector<std::string> Strings(const boost::json::value* v, bool& ok) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (!v->is_array()) {
    ok = false;
    return out;
  }
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) {
      ok = false;
      return out;
    }
    out.emplace_back(e.get_string());
  }
  return out;
}

std::vector<std::string> Ids(const std::vector<PolicyReason>& reasons) {
  std::vector<std::string> ids;
  for (const auto& r : reasons) ids.push_back(r.policy_id);
  return ids;
}

void CompareReasons(const boost::json::object& expect, const std::vector<PolicyReason>& got,
                    std::string_view what, std::vector<std::string>& problems) {
  const boost::json::value* want = expect.if_contains("reasons");
  if (want == nullptr) return;
  bool ok = true;
  std::vector<std::string> w = Strings(want, ok);
  if (!ok) {
    problems.push_back(std::string(what) + ": expect.reasons must be an array of policy ids");
    return;
  }
  std::vector<std::string> g = Ids(got);
  std::sort(w.begin(), w.end());
  std::sort(g.begin(), g.end());
  if (w != g) {
    problems.push_back(std::string(what) + ": reasons " + Joined(g) + ", expected " + Joined(w));
  }
}

void CheckIntent(const Bundle& bundle, const CaseView& view, const boost::json::value& iv, size_t i,
                 std::vector<std::string>& problems) {
  const std::string what = "intents[" + std::to_string(i) + "]";
  if (!iv.is_object()) {
    problems.push_back(what + ": expected an object");
    return;
  }
  const auto& it = iv.get_object();
  cedar::EntityUid agent = bundle.config().ai_principal;
  if (const auto* a = it.if_contains("agent"); a != nullptr && a->is_string()) {
    auto uid = cedar::ParseEntityUid(a->get_string());
    if (!uid) {
      problems.push_back(what + ".agent: " + uid.error().message());
      return;
    }
    agent = *uid;
  }
  const std::string intent = Str(it.if_contains("intent"));
  boost::json::object params;
  if (const auto* p = it.if_contains("params"); p != nullptr && p->is_object()) {
    params = p->get_object();
  }
  const auto* ev = it.if_contains("expect");
  if (ev == nullptr || !ev->is_object()) {
    problems.push_back(what + ": missing `expect` object");
    return;
  }
  const auto& expect = ev->get_object();
  auto d = EvaluateIntent(bundle, view, agent, intent, params, std::nullopt);
  if (!d) {
    problems.push_back(what + ": " + d.error().message());
    return;
  }
  const std::string got = std::string(IntentOutcomeName(d->outcome));
  const std::string want = Str(expect.if_contains("decision"));
  if (got != want) problems.push_back(what + ": decision `" + got + "`, expected `" + want + "`");
  if (expect.contains("approvals")) {
    bool ok = true;
    std::vector<std::string> roles = Strings(expect.if_contains("approvals"), ok);
    std::sort(roles.begin(), roles.end());
    if (!ok || roles != d->approvals) {
      problems.push_back(what + ": approvals " + Joined(d->approvals) + ", expected " +
                         Joined(roles));
    }
  }
  if (expect.contains("queue") && Str(expect.if_contains("queue")) != d->queue) {
    problems.push_back(what + ": queue `" + d->queue + "`, expected `" +
                       Str(expect.if_contains("queue")) + "`");
  }
  CompareReasons(expect, d->reasons, what, problems);

  const auto* av = it.if_contains("approve");
  if (av == nullptr) return;
  if (!av->is_object()) {
    problems.push_back(what + ".approve: expected an object");
    return;
  }
  const auto& approve = av->get_object();
  auto person = cedar::ParseEntityUid(Str(approve.if_contains("by")));
  if (!person) {
    problems.push_back(what + ".approve.by: " + person.error().message());
    return;
  }
  const auto* aev = approve.if_contains("expect");
  if (aev == nullptr || !aev->is_object()) {
    problems.push_back(what + ".approve: missing `expect` object");
    return;
  }
  const auto& aexpect = aev->get_object();
  if (d->approvals.empty()) {
    problems.push_back(what + ".approve: the intent is not pending approval");
    return;
  }
  PersonDecision pd;
  std::string role;
  for (const auto& r : d->approvals) {
    pd = EvaluateApproval(bundle, view, *person, intent, r);
    if (pd.allowed) {
      role = r;
      break;
    }
  }
  const std::string got_approval = pd.allowed ? "allow" : "deny";
  const std::string want_approval = Str(aexpect.if_contains("approval"));
  if (got_approval != want_approval) {
    problems.push_back(what + ".approve: approval `" + got_approval + "`, expected `" +
                       want_approval + "`");
  }
  if (!pd.allowed || !aexpect.contains("decision")) return;
  auto redo =
      EvaluateIntent(bundle, view, agent, intent, params, Approval{person->ToString(), role});
  if (!redo) {
    problems.push_back(what + ".approve: " + redo.error().message());
    return;
  }
  const std::string got2 = std::string(IntentOutcomeName(redo->outcome));
  const std::string want2 = Str(aexpect.if_contains("decision"));
  if (got2 != want2) {
    problems.push_back(what + ".approve: decision after approval `" + got2 + "`, expected `" +
                       want2 + "`");
  }
}

void CheckOverride(const Bundle& bundle, const CaseView& view, const boost::json::value& ov,
                   size_t i, std::vector<std::string>& problems) {
  const std::string what = "overrides[" + std::to_string(i) + "]";
  if (!ov.is_object()) {
    problems.push_back(what + ": expected an object");
    return;
  }
  const auto& o = ov.get_object();
  auto person = cedar::ParseEntityUid(Str(o.if_contains("by")));
  if (!person) {
    problems.push_back(what + ".by: " + person.error().message());
    return;
  }
  auto to = ParseRoute(Str(o.if_contains("to_route")));
  if (!to) {
    problems.push_back(what + ".to_route: expected `ai` or `human`");
    return;
  }
  PersonDecision pd = EvaluateOverride(bundle, view, *person, *to, Str(o.if_contains("to_queue")));
  const std::string got = pd.allowed ? "allow" : "deny";
  const std::string want = Str(o.if_contains("expect"));
  if (got != want) problems.push_back(what + ": `" + got + "`, expected `" + want + "`");
}

}  // namespace

PackTestResult RunPackTest(const Bundle& bundle, const boost::json::value& test) {
  PackTestResult r;
  auto& problems = r.problems;
  auto finish = [&r]() -> PackTestResult {
    r.passed = r.problems.empty();
    return r;
  };
  if (!test.is_object()) {
    problems.push_back("a test must be a JSON object");
    return finish();
  }
  const auto& t = test.get_object();
  r.name = Str(t.if_contains("name"));
  const auto* cv = t.if_contains("case");
  if (cv == nullptr) {
    problems.push_back("missing `case`");
    return finish();
  }
  auto c = sources::CaseFromJson(*cv);
  if (!c) {
    problems.push_back(c.error().message());
    return finish();
  }
  if (r.name.empty()) r.name = c->id;
  ComputedSignals signals;
  if (const auto* sv = t.if_contains("signals")) {
    auto s = SignalsFromJson(*sv, "signals");
    if (!s) {
      problems.push_back(s.error().message());
      return finish();
    }
    signals = std::move(s).value();
  }
  std::optional<cedar::EntityUid> agent;
  if (const auto* a = t.if_contains("agent"); a != nullptr && a->is_string()) {
    auto uid = cedar::ParseEntityUid(a->get_string());
    if (!uid) {
      problems.push_back("agent: " + uid.error().message());
      return finish();
    }
    agent = *uid;
  }
  const auto* ev = t.if_contains("expect");
  if (ev == nullptr || !ev->is_object()) {
    problems.push_back("missing `expect` object");
    return finish();
  }
  const auto& expect = ev->get_object();
  CaseView view = BuildCaseView(bundle, *c, signals);
  RoutingDecision d = EvaluateRoute(bundle, view, agent);
  const std::string route(RouteName(d.route));
  const std::string want_route = Str(expect.if_contains("route"));
  if (route != want_route) {
    problems.push_back("route `" + route + "`, expected `" + want_route + "`");
  }
  if (const auto* q = expect.if_contains("queue"); q != nullptr || d.route != Route::kHuman) {
    const std::string want_queue = Str(q);
    if (d.queue != want_queue) {
      problems.push_back("queue `" + d.queue + "`, expected `" + want_queue + "`");
    }
  }
  if (const auto* fs = expect.if_contains("fail_safe"); fs != nullptr && fs->is_bool()) {
    if (fs->get_bool() != d.fail_safe) {
      problems.push_back(std::string("fail_safe ") + (d.fail_safe ? "true" : "false") +
                         ", expected " + (fs->get_bool() ? "true" : "false"));
    }
  }
  CompareReasons(expect, d.reasons, "route", problems);
  if (!expect.contains("fail_safe") && !d.errors.empty()) {
    problems.push_back("evaluation errors: " + d.errors.front().message);
  }
  if (const auto* iv = t.if_contains("intents"); iv != nullptr && iv->is_array()) {
    for (size_t i = 0; i < iv->get_array().size(); ++i) {
      CheckIntent(bundle, view, iv->get_array()[i], i, problems);
    }
  }
  if (const auto* ov = t.if_contains("overrides"); ov != nullptr && ov->is_array()) {
    for (size_t i = 0; i < ov->get_array().size(); ++i) {
      CheckOverride(bundle, view, ov->get_array()[i], i, problems);
    }
  }
  return finish();
}

Result<PackTestReport> RunPackTests(const Bundle& bundle, const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound("tests: `" + dir.string() + "` is not a directory");
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  PackTestReport report;
  for (const auto& path : files) {
    std::ifstream in(path);
    if (!in) return Status::Unavailable("tests: cannot open `" + path.string() + "`");
    const std::string file = "tests/" + path.filename().string();
    std::string line;
    size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty() || line[0] == '#') continue;
      PackTestResult r;
      if (line.size() > kMaxLineBytes) {
        r.problems.push_back("line longer than " + std::to_string(kMaxLineBytes) + " bytes");
      } else if (auto json = ParseJson(line); !json) {
        r.problems.push_back(json.error().message());
      } else {
        r = RunPackTest(bundle, *json);
      }
      r.file = file;
      r.line = line_no;
      r.passed = r.problems.empty();
      (r.passed ? report.passed : report.failed) += 1;
      report.results.push_back(std::move(r));
    }
  }
  return report;
}

}  // namespace arbiter::routing
