// The ledger endpoints against a real ledger in a temporary directory, through the Dispatcher (no
// sockets): every answer is checked the way a client would check it — signed checkpoint opened
// with the verifier key, inclusion and consistency proofs verified, tiles parsed.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <future>

#include "arbiter/common/bytes.h"
#include "arbiter/ledger/checkpoint.h"
#include "arbiter/ledger/ledger.h"
#include "arbiter/ledger/merkle.h"
#include "arbiter/ledger/note.h"
#include "arbiter/server/dispatcher.h"
#include "arbiter/server/ledger_api.h"

namespace arbiter::server {
namespace {

namespace fs = std::filesystem;

ledger::Hash HashOf(const boost::json::value& v) {
  auto bytes = Base64Decode(v.as_string());
  EXPECT_TRUE(bytes.has_value());
  auto h = ledger::HashFromBytes(*bytes);
  EXPECT_TRUE(h.has_value());
  return *h;
}

std::vector<ledger::Hash> HashesOf(const boost::json::value& v) {
  std::vector<ledger::Hash> out;
  for (const auto& h : v.as_array()) out.push_back(HashOf(h));
  return out;
}

class LedgerApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "arbiter_ledger_api_XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    ledger::LedgerOptions options;
    options.data_dir = dir_;
    options.origin = "test.arbiter/ledger";
    auto l = ledger::Ledger::Open(options);
    ASSERT_TRUE(l.has_value()) << l.error().ToString();
    ledger_ = std::move(*l);
    ASSERT_TRUE(AddLedgerRoutes(router_, ledger_.get()).ok());
    ASSERT_TRUE(AddLedgerMetrics(metrics_, ledger_.get()).ok());
    logger_ = Logger::Null();
    auto d = Dispatcher::Create(&router_, nullptr, &metrics_, logger_.get(), {});
    ASSERT_TRUE(d.has_value());
    dispatcher_ = std::move(*d);
  }
  void TearDown() override {
    ledger_->Close();
    ledger_.reset();
    fs::remove_all(dir_);
  }

  void AppendAndIntegrate(int n) {
    for (int i = 0; i < n; ++i) {
      std::string e = R"({"n":)" + std::to_string(appended_++) + "}";
      ASSERT_TRUE(ledger_->Append(AsBytes(e)).has_value());
    }
    ASSERT_TRUE(ledger_->Flush().has_value());
  }

  HttpResponse Get(std::string target) {
    HttpRequest r;
    r.method = HttpMethod::kGet;
    r.method_name = "GET";
    r.target = target;
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = *ParseQuery(target.substr(q + 1));
    return Complete(dispatcher_->Dispatch(r));
  }

  // What the transport does with a deferred response: waits for its completion, then finishes it.
  static HttpResponse Complete(HttpResponse r) {
    if (!r.defer) return r;
    std::promise<Status> completed;
    auto done = completed.get_future();
    r.defer([&completed](Status s) { completed.set_value(std::move(s)); });
    if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return ErrorResponse(Status::Unavailable("test: deferred response never completed"));
    }
    Status s = done.get();
    if (!s.ok()) return ErrorResponse(s);
    if (r.finish) {
      auto finish = std::move(r.finish);
      finish(r);
    }
    return r;
  }

  boost::json::object GetJson(std::string target, int status = 200) {
    HttpResponse r = Get(target);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return boost::json::parse(r.body).as_object();
  }

  std::string dir_;
  int appended_ = 0;
  std::unique_ptr<ledger::Ledger> ledger_;
  Router router_;
  MetricsRegistry metrics_;
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(LedgerApiTest, CheckpointIsASignedNoteThatOpensWithTheVerifierKey) {
  EXPECT_EQ(Get("/v1/ledger/checkpoint").status, 404);  // nothing integrated yet
  AppendAndIntegrate(5);
  HttpResponse r = Get("/v1/ledger/checkpoint");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  auto info = GetJson("/v1/ledger");
  EXPECT_EQ(info.at("origin").as_string(), "test.arbiter/ledger");
  EXPECT_EQ(info.at("tree_size").as_int64(), 5);
  auto key = ledger::ParseVerifierKey(info.at("verifier_key").as_string());
  ASSERT_TRUE(key.has_value());
  std::vector<ledger::NoteVerifierKey> keys = {*key};
  auto cp = ledger::OpenCheckpoint(r.body, keys, "test.arbiter/ledger");
  ASSERT_TRUE(cp.has_value()) << cp.error().ToString();
  EXPECT_EQ(cp->checkpoint.size, 5u);
}

TEST_F(LedgerApiTest, EntriesAndInclusionProofsVerify) {
  AppendAndIntegrate(7);
  auto cp = ledger_->LatestCheckpoint();
  ASSERT_TRUE(cp.has_value());
  auto e = GetJson("/v1/ledger/entries/3");
  EXPECT_EQ(AsChars(*Base64Decode(e.at("entry").as_string())), R"({"n":3})");
  auto proof = GetJson("/v1/ledger/proofs/inclusion?index=3");
  EXPECT_EQ(proof.at("tree_size").as_int64(), 7);
  auto path = HashesOf(proof.at("proof"));
  EXPECT_TRUE(
      ledger::VerifyInclusion(HashOf(e.at("leaf_hash")), 3, 7, path, cp->checkpoint.root).ok());
  // The same proof by leaf hash (base64 in the query, '+' and '/' percent-encoded).
  std::string b64(e.at("leaf_hash").as_string());
  std::string encoded;
  for (char c : b64) {
    if (c == '+')
      encoded += "%2B";
    else if (c == '/')
      encoded += "%2F";
    else if (c == '=')
      encoded += "%3D";
    else
      encoded += c;
  }
  auto by_hash = GetJson("/v1/ledger/proofs/inclusion?leaf_hash=" + encoded);
  EXPECT_EQ(by_hash.at("index").as_int64(), 3);

  auto page = GetJson("/v1/ledger/entries?start=5&limit=10");
  ASSERT_EQ(page.at("entries").as_array().size(), 2u);
  EXPECT_EQ(page.at("entries").as_array()[1].at("index").as_int64(), 6);
}

TEST_F(LedgerApiTest, ConsistencyProofsVerify) {
  AppendAndIntegrate(3);
  auto first = ledger_->LatestCheckpoint();
  AppendAndIntegrate(6);
  auto second = ledger_->LatestCheckpoint();
  ASSERT_TRUE(first.has_value() && second.has_value());
  auto c = GetJson("/v1/ledger/proofs/consistency?first=3");
  EXPECT_EQ(c.at("second").as_int64(), 9);
  EXPECT_EQ(HashOf(c.at("first_root")), first->checkpoint.root);
  EXPECT_EQ(HashOf(c.at("second_root")), second->checkpoint.root);
  EXPECT_TRUE(ledger::VerifyConsistency(3, 9, HashesOf(c.at("proof")), first->checkpoint.root,
                                        second->checkpoint.root)
                  .ok());
}

TEST_F(LedgerApiTest, ServesTilesUnderTheC2spPaths) {
  AppendAndIntegrate(3);
  HttpResponse tile = Get("/v1/ledger/tile/0/000.p/3");
  ASSERT_EQ(tile.status, 200) << tile.body;
  EXPECT_EQ(tile.content_type, "application/octet-stream");
  ASSERT_EQ(tile.body.size(), 3u * 32);
  // The tile's first hash is leaf 0's.
  EXPECT_EQ(tile.body.substr(0, 32), std::string(AsChars(ledger::LeafHash(AsBytes(R"({"n":0})")))));
  HttpResponse bundle = Get("/v1/ledger/tile/entries/000.p/3");
  ASSERT_EQ(bundle.status, 200);
  // Each entry: big-endian uint16 length, then the bytes.
  ASSERT_GE(bundle.body.size(), 2u);
  size_t len = (static_cast<unsigned char>(bundle.body[0]) << 8) |
               static_cast<unsigned char>(bundle.body[1]);
  EXPECT_EQ(bundle.body.substr(2, len), R"({"n":0})");
  bool no_cache = false;
  for (const auto& h : tile.headers) no_cache |= h.name == "cache-control" && h.value == "no-cache";
  EXPECT_TRUE(no_cache) << "a partial tile changes as the tree grows";
  EXPECT_EQ(Get("/v1/ledger/tile/0/001").status, 404);
}

TEST_F(LedgerApiTest, ReceiptsProveInclusion) {
  AppendAndIntegrate(4);
  auto r = GetJson("/v1/ledger/receipts/2?wait=integrated");
  auto proof = HashesOf(r.at("proof"));
  EXPECT_TRUE(ledger::VerifyInclusion(HashOf(r.at("leaf_hash")), 2,
                                      static_cast<std::uint64_t>(r.at("tree_size").as_int64()),
                                      proof, HashOf(r.at("root_hash")))
                  .ok());
  EXPECT_NE(std::string(r.at("checkpoint").as_string()).find("test.arbiter/ledger\n"),
            std::string::npos);
}

TEST_F(LedgerApiTest, WaitingForAReceiptDoesNotBlockTheHandler) {
  // An appended entry that is not integrated yet: the handler answers at once with a deferred
  // response, which completes with the receipt once the integrator has run.
  ASSERT_TRUE(ledger_->Append(AsBytes(R"({"n":0})")).has_value());
  HttpRequest req;
  req.method = HttpMethod::kGet;
  req.method_name = "GET";
  req.target = "/v1/ledger/receipts/0?wait=integrated";
  req.path = "/v1/ledger/receipts/0";
  req.query = *ParseQuery("wait=integrated");
  HttpResponse deferred = dispatcher_->Dispatch(req);
  ASSERT_TRUE(deferred.defer);
  HttpResponse r = Complete(std::move(deferred));
  ASSERT_EQ(r.status, 200) << r.body;
  auto o = boost::json::parse(r.body).as_object();
  EXPECT_EQ(o.at("index").as_int64(), 0);
  EXPECT_GE(o.at("tree_size").as_int64(), 1);
  // An index never appended: 404 once the wait learns it.
  EXPECT_EQ(Get("/v1/ledger/receipts/9?wait=integrated").status, 404);
}

TEST_F(LedgerApiTest, RejectsBadQueriesWithTheFieldNamed) {
  AppendAndIntegrate(2);
  struct Case {
    std::string target;
    int status;
    std::string field;
  };
  std::vector<Case> cases = {
      {"/v1/ledger/entries/abc", 400, "index"},
      {"/v1/ledger/entries/01", 400, "index"},
      {"/v1/ledger/entries/99", 404, ""},
      {"/v1/ledger/entries", 400, "query.start"},
      {"/v1/ledger/entries?start=0&limit=0", 400, "query.limit"},
      {"/v1/ledger/entries?start=-1", 400, "query.start"},
      {"/v1/ledger/proofs/inclusion", 400, "query"},
      {"/v1/ledger/proofs/inclusion?index=0&leaf_hash=AA", 400, "query"},
      {"/v1/ledger/proofs/inclusion?leaf_hash=notbase64", 400, "query.leaf_hash"},
      {"/v1/ledger/proofs/consistency", 400, "query.first"},
      {"/v1/ledger/receipts/0?wait=forever", 400, "query.wait"},
      {"/v1/ledger/tile/9/000", 400, ""},
  };
  for (const auto& c : cases) {
    HttpResponse r = Get(c.target);
    EXPECT_EQ(r.status, c.status) << c.target << ": " << r.body;
    auto e = boost::json::parse(r.body).at("error").as_object();
    if (!c.field.empty()) {
      EXPECT_EQ(e.at("field"), boost::json::value(c.field)) << c.target;
    }
  }
}

TEST_F(LedgerApiTest, ExportsLedgerGauges) {
  AppendAndIntegrate(3);
  std::string text = metrics_.Render();
  EXPECT_NE(text.find("arbiter_ledger_sequenced_entries 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("arbiter_ledger_tree_size 3\n"), std::string::npos);
  EXPECT_NE(text.find("arbiter_ledger_integration_lag_entries 0\n"), std::string::npos);
}

}  // namespace
}  // namespace arbiter::server
