// docs/openapi.yaml matches the server: every route the server registers is documented and marked
// `x-arbiter-served: true`, and every operation marked served is registered. Operations marked
// `x-arbiter-served: false` are the documented target shape of endpoints whose module is not wired
// yet; the test lists them so that the gap is visible in every test run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "arbiter/server/app.h"
#include "support/shared_data.h"

namespace arbiter::server {
namespace {

namespace fs = std::filesystem;

size_t Indent(const std::string& line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  return n;
}

// "METHOD /path" → served flag, from the `paths:` section. The document's layout is fixed by
// convention (2-space indents, path keys at 2, methods at 4, operation fields at 6), which this
// reader checks as it goes rather than assuming.
std::map<std::string, bool> DocumentedOperations(const std::string& file) {
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << "cannot read " << file;
  std::map<std::string, bool> ops;
  std::string line, path, op;
  bool in_paths = false;
  static const std::set<std::string> kMethods = {"get", "post", "put", "patch", "delete", "head"};
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t indent = Indent(line);
    if (indent == 0) {
      in_paths = line == "paths:";
      continue;
    }
    if (!in_paths) continue;
    std::string text = line.substr(indent);
    if (indent == 2) {
      EXPECT_TRUE(text.size() > 2 && text[0] == '/' && text.back() == ':') << line;
      path = text.substr(0, text.size() - 1);
      op.clear();
    } else if (indent == 4 && text.back() == ':') {
      std::string method = text.substr(0, text.size() - 1);
      EXPECT_TRUE(kMethods.count(method)) << "unexpected key under " << path << ": " << line;
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      op = method + " " + path;
      EXPECT_FALSE(ops.count(op)) << "documented twice: " << op;
      ops[op] = false;
    } else if (indent == 6 && text.rfind("x-arbiter-served:", 0) == 0) {
      EXPECT_FALSE(op.empty()) << line;
      std::string value = text.substr(text.find(':') + 1);
      value.erase(0, value.find_first_not_of(' '));
      EXPECT_TRUE(value == "true" || value == "false") << line;
      ops[op] = value == "true";
    }
  }
  return ops;
}

TEST(OpenApiTest, DocumentMatchesTheServedRoutes) {
  auto documented =
      DocumentedOperations((arbiter::testing::SourceDir() / "docs/openapi.yaml").string());
  ASSERT_GT(documented.size(), 30u) << "the document lost its paths";

  std::string tmpl = (fs::temp_directory_path() / "arbiter_openapi_test_XXXXXX").string();
  std::string data = ::mkdtemp(tmpl.data());
  std::vector<std::string> served;
  {
    ServeConfig config;
    config.server.listen = "127.0.0.1:0";
    config.server.threads = 1;
    config.data_dir = data;
    config.access_log = "off";
    auto app = App::Start(config);
    ASSERT_TRUE(app.has_value()) << app.error().ToString();
    served = (*app)->ServedRoutes();
  }
  fs::remove_all(data);

  for (const std::string& route : served) {
    auto it = documented.find(route);
    ASSERT_NE(it, documented.end()) << "served but not in docs/openapi.yaml: " << route;
    EXPECT_TRUE(it->second) << "served but marked `x-arbiter-served: false`: " << route;
  }
  std::vector<std::string> pending;
  for (const auto& [op, is_served] : documented) {
    bool registered = std::find(served.begin(), served.end(), op) != served.end();
    if (is_served) {
      EXPECT_TRUE(registered) << "marked served but not registered: " << op;
    } else {
      pending.push_back(op);
    }
  }
  std::string list;
  for (const auto& p : pending) list += "\n  " + p;
  std::cout << "[ openapi ] " << served.size() << " operations served, " << pending.size()
            << " documented but not yet served:" << list << std::endl;
}

}  // namespace
}  // namespace arbiter::server
