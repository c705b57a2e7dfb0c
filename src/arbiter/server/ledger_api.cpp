#include "arbiter/server/ledger_api.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <utility>

#include "arbiter/common/bytes.h"

namespace arbiter::server {
namespace {

constexpr std::uint64_t kMaxEntriesPerPage = 1000;
constexpr size_t kMaxEntriesPageBytes = 4u << 20;

std::string B64(ByteView bytes) { return Base64Encode(bytes); }

// A canonical non-negative decimal (no sign, no leading zeros), naming `field` on error.
Result<std::uint64_t> ParseIndex(std::string_view text, std::string_view field) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      (text.size() > 1 && text[0] == '0')) {
    return Status::InvalidArgument(std::string(field) + ": expected a non-negative integer, got `" +
                                   std::string(text.substr(0, 32)) + "`");
  }
  return v;
}

Result<std::optional<std::uint64_t>> QueryIndex(const RequestContext& ctx, std::string_view name) {
  auto v = ctx.request().QueryParam(name);
  if (!v) return std::optional<std::uint64_t>();
  ARBITER_TRY(std::uint64_t n, ParseIndex(*v, "query." + std::string(name)));
  return std::optional<std::uint64_t>(n);
}

// An index beyond what exists reads as "no such entry" to a client.
Status NotFoundIfOutOfRange(Status s) {
  if (s.code() == StatusCode::kOutOfRange) return Status::NotFound(s.message());
  return s;
}

boost::json::array HashArray(const std::vector<ledger::Hash>& hashes) {
  boost::json::array a;
  a.reserve(hashes.size());
  for (const auto& h : hashes) a.emplace_back(B64(h));
  return a;
}

HttpResponse Bytes(std::string content_type, std::string body, bool immutable) {
  HttpResponse r;
  r.status = 200;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  r.headers.push_back(
      {"cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache"});
  return r;
}

HttpResponse Tile(ledger::Ledger* ledger, std::string path) {
  auto bytes = ledger->ReadTilePath(path);
  if (!bytes) return ErrorResponse(NotFoundIfOutOfRange(bytes.error()));
  // Full tiles never change; a partial tile (".p/W") is replaced as the tree grows.
  bool partial = path.find(".p/") != std::string::npos;
  return Bytes("application/octet-stream", std::string(AsChars(*bytes)), !partial);
}

}  // namespace

boost::json::object ReceiptToJson(const ledger::Receipt& receipt) {
  boost::json::object o;
  o["index"] = receipt.index;
  o["leaf_hash"] = B64(receipt.leaf_hash);
  o["checkpoint"] = receipt.checkpoint.note;
  o["tree_size"] = receipt.checkpoint.checkpoint.size;
  o["root_hash"] = B64(receipt.checkpoint.checkpoint.root);
  o["proof"] = HashArray(receipt.proof);
  return o;
}

void AnswerWithReceipt(HttpResponse& r, ledger::Ledger* ledger, std::uint64_t index,
                       ReceiptPlacement placement) {
  r.defer = [before = std::move(r.defer), ledger, index](std::function<void(Status)> done) {
    const auto deadline = std::chrono::steady_clock::now() + kMaxIntegrationWait;
    auto integrated = [ledger, index, deadline, done = std::move(done)](Status s) mutable {
      if (!s.ok()) {
        done(std::move(s));
        return;
      }
      ledger->OnIntegrated(index, deadline, std::move(done));
    };
    if (before) {
      before(std::move(integrated));
    } else {
      integrated(Status::Ok());
    }
  };
  r.finish = [before = std::move(r.finish), ledger, index, placement](HttpResponse& out) {
    if (before) before(out);
    auto receipt = ledger->WaitForReceipt(index, std::chrono::milliseconds(0));
    if (!receipt) {
      out = ErrorResponse(NotFoundIfOutOfRange(receipt.error()));
      return;
    }
    std::string json = boost::json::serialize(ReceiptToJson(*receipt));
    if (placement == ReceiptPlacement::kWholeBody || out.body.size() < 2 ||
        out.body.back() != '}') {
      out.body = std::move(json);
      return;
    }
    out.body.pop_back();
    if (out.body.size() > 1) out.body += ',';  // not after the `{` of an empty object
    out.body += "\"receipt\":";
    out.body += json;
    out.body += '}';
  };
}

Status AddLedgerRoutes(Router& router, ledger::Ledger* ledger) {
  ARBITER_RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/v1/ledger", Access::kPublic, [ledger](RequestContext&) {
        ledger::LedgerStats stats = ledger->Stats();
        boost::json::object o;
        o["origin"] = ledger->Origin();
        o["verifier_key"] = ledger->VerifierKey();
        o["tree_size"] = stats.integrated;
        o["sequenced"] = stats.sequenced;
        return JsonResponse(200, std::move(o));
      }));

  ARBITER_RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/ledger/checkpoint", Access::kPublic,
                                     [ledger](RequestContext&) {
                                       auto cp = ledger->LatestCheckpoint();
                                       if (!cp) return ErrorResponse(cp.error());
                                       return Bytes("text/plain; charset=utf-8", cp->note, false);
                                     }));

  ARBITER_RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/ledger/tile/{level}/{index...}",
                                     Access::kPublic, [ledger](RequestContext& ctx) {
                                       return Tile(ledger,
                                                   "tile/" + std::string(ctx.PathParam("level")) +
                                                       "/" + std::string(ctx.PathParam("index")));
                                     }));
  ARBITER_RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/ledger/tile/entries/{index...}",
                                     Access::kPublic, [ledger](RequestContext& ctx) {
                                       return Tile(ledger, "tile/entries/" +
                                                               std::string(ctx.PathParam("index")));
                                     }));

  auto entry_json = [](std::uint64_t index, const arbiter::Bytes& entry) {
    boost::json::object o;
    o["index"] = index;
    o["leaf_hash"] = B64(ledger::LeafHash(entry));
    o["entry"] = B64(entry);
    return o;
  };

  ARBITER_RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/ledger/entries/{index}",
                                     Access::kPublic, [ledger, entry_json](RequestContext& ctx) {
                                       auto index = ParseIndex(ctx.PathParam("index"), "index");
                                       if (!index) return ErrorResponse(index.error());
                                       auto entry = ledger->Entry(*index);
                                       if (!entry)
                                         return ErrorResponse(NotFoundIfOutOfRange(entry.error()));
                                       return JsonResponse(200, entry_json(*index, *entry));
                                     }));

  ARBITER_RETURN_IF_ERROR(router.Add(
      HttpMethod::kGet, "/v1/ledger/entries", Access::kPublic,
      [ledger, entry_json](RequestContext& ctx) {
        auto start = QueryIndex(ctx, "start");
        if (!start) return ErrorResponse(start.error());
        if (!*start) {
          return ErrorResponse(400, "invalid_argument", "query.start: required", "query.start");
        }
        auto limit = QueryIndex(ctx, "limit");
        if (!limit) return ErrorResponse(limit.error());
        std::uint64_t n = limit->value_or(100);
        if (n == 0 || n > kMaxEntriesPerPage) {
          return ErrorResponse(
              400, "invalid_argument",
              "query.limit: must be between 1 and " + std::to_string(kMaxEntriesPerPage),
              "query.limit");
        }
        boost::json::array entries;
        size_t bytes = 0;
        std::uint64_t first = **start;
        std::uint64_t sequenced = ledger->Stats().sequenced;
        for (std::uint64_t i = first;
             i < sequenced && i - first < n && bytes < kMaxEntriesPageBytes; ++i) {
          auto entry = ledger->Entry(i);
          if (!entry) {
            if (entry.error().code() == StatusCode::kNotFound ||
                entry.error().code() == StatusCode::kOutOfRange) {
              break;
            }
            return ErrorResponse(entry.error());
          }
          bytes += entry->size();
          entries.push_back(entry_json(i, *entry));
        }
        boost::json::object o;
        o["entries"] = std::move(entries);
        return JsonResponse(200, std::move(o));
      }));

  ARBITER_RETURN_IF_ERROR(router.Add(
      HttpMethod::kGet, "/v1/ledger/receipts/{index}", Access::kPublic,
      [ledger](RequestContext& ctx) {
        auto index = ParseIndex(ctx.PathParam("index"), "index");
        if (!index) return ErrorResponse(index.error());
        auto wait = ctx.request().QueryParam("wait");
        if (wait && *wait != "integrated") {
          return ErrorResponse(
              400, "invalid_argument",
              "query.wait: expected `integrated`, got `" + std::string(wait->substr(0, 32)) + "`",
              "query.wait");
        }
        if (wait) {
          HttpResponse r;
          r.status = 200;
          AnswerWithReceipt(r, ledger, *index, ReceiptPlacement::kWholeBody);
          return r;
        }
        auto receipt = ledger->WaitForReceipt(*index, std::chrono::milliseconds(0));
        if (!receipt) return ErrorResponse(NotFoundIfOutOfRange(receipt.error()));
        return JsonResponse(200, ReceiptToJson(*receipt));
      }));

  ARBITER_RETURN_IF_ERROR(router.Add(
      HttpMethod::kGet, "/v1/ledger/proofs/inclusion", Access::kPublic,
      [ledger](RequestContext& ctx) {
        auto tree_size = QueryIndex(ctx, "tree_size");
        if (!tree_size) return ErrorResponse(tree_size.error());
        auto index = QueryIndex(ctx, "index");
        if (!index) return ErrorResponse(index.error());
        auto leaf_hash = ctx.request().QueryParam("leaf_hash");
        if (index->has_value() == leaf_hash.has_value()) {
          return ErrorResponse(400, "invalid_argument",
                               "query: give exactly one of `index` and `leaf_hash`", "query");
        }
        Result<ledger::InclusionProof> proof = Status::Internal("unset");
        if (leaf_hash) {
          auto raw = Base64Decode(*leaf_hash);
          if (!raw) {
            return ErrorResponse(400, "invalid_argument",
                                 "query.leaf_hash: expected base64 of 32 bytes", "query.leaf_hash");
          }
          auto hash = ledger::HashFromBytes(*raw);
          if (!hash) {
            return ErrorResponse(400, "invalid_argument",
                                 "query.leaf_hash: expected base64 of 32 bytes", "query.leaf_hash");
          }
          proof = ledger->ProveInclusionByLeafHash(*hash, tree_size->value_or(0));
        } else {
          proof = ledger->ProveInclusion(**index, tree_size->value_or(0));
        }
        if (!proof) return ErrorResponse(NotFoundIfOutOfRange(proof.error()));
        boost::json::object o;
        o["index"] = proof->index;
        o["tree_size"] = proof->tree_size;
        o["leaf_hash"] = B64(proof->leaf_hash);
        o["root_hash"] = B64(proof->root);
        o["proof"] = HashArray(proof->path);
        return JsonResponse(200, std::move(o));
      }));

  ARBITER_RETURN_IF_ERROR(router.Add(
      HttpMethod::kGet, "/v1/ledger/proofs/consistency", Access::kPublic,
      [ledger](RequestContext& ctx) {
        auto first = QueryIndex(ctx, "first");
        if (!first) return ErrorResponse(first.error());
        if (!*first) {
          return ErrorResponse(400, "invalid_argument", "query.first: required", "query.first");
        }
        auto second = QueryIndex(ctx, "second");
        if (!second) return ErrorResponse(second.error());
        std::uint64_t size2 = second->value_or(0);
        if (size2 == 0) {
          auto latest = ledger->LatestCheckpoint();
          if (!latest) return ErrorResponse(latest.error());
          size2 = latest->checkpoint.size;
        }
        auto proof = ledger->ProveConsistency(**first, size2);
        if (!proof) return ErrorResponse(proof.error());
        auto root1 = ledger->RootAt(**first);
        if (!root1) return ErrorResponse(root1.error());
        auto root2 = ledger->RootAt(size2);
        if (!root2) return ErrorResponse(root2.error());
        boost::json::object o;
        o["first"] = **first;
        o["second"] = size2;
        o["first_root"] = B64(*root1);
        o["second_root"] = B64(*root2);
        o["proof"] = HashArray(*proof);
        return JsonResponse(200, std::move(o));
      }));
  return Status::Ok();
}

Status AddLedgerMetrics(MetricsRegistry& metrics, ledger::Ledger* ledger) {
  ARBITER_TRY(auto* sequenced,
              metrics.AddGauge("arbiter_ledger_sequenced_entries",
                               "Evidence entries acknowledged (durable in the ledger queue)."));
  ARBITER_TRY(auto* size, metrics.AddGauge("arbiter_ledger_tree_size",
                                           "Entries covered by the latest signed checkpoint."));
  ARBITER_TRY(auto* lag, metrics.AddGauge("arbiter_ledger_integration_lag_entries",
                                          "Acknowledged entries not yet in a checkpoint."));
  Gauge* g_sequenced = &sequenced->WithLabels({});
  Gauge* g_size = &size->WithLabels({});
  Gauge* g_lag = &lag->WithLabels({});
  metrics.AddCollector([ledger, g_sequenced, g_size, g_lag] {
    ledger::LedgerStats s = ledger->Stats();
    g_sequenced->Set(static_cast<double>(s.sequenced));
    g_size->Set(static_cast<double>(s.integrated));
    g_lag->Set(static_cast<double>(s.sequenced - std::min(s.sequenced, s.integrated)));
  });
  return Status::Ok();
}

}  // namespace arbiter::server
