// `arbiter ledger ...`: verify a stored ledger, print its checkpoint, prove inclusion and
// consistency, verify any C2SP checkpoint note, append entries. Exit codes: 0 success; 1 bad input
// or an unreadable ledger (one-line error on stderr); 2 the check ran and failed (tampering found,
// a checkpoint that does not verify, checkpoints that are not consistent).
#include <CLI/CLI.hpp>

#include <boost/json.hpp>
#include <iostream>

#include "arbiter/cli/command_registry.h"
#include "arbiter/cli/input.h"
#include "arbiter/common/json.h"
#include "arbiter/ledger/checkpoint.h"
#include "arbiter/ledger/ledger.h"
#include "arbiter/ledger/note.h"
#include "arbiter/ledger/verify.h"

namespace arbiter::cli {
namespace {

using ledger::Hash;

constexpr int kOk = 0;
constexpr int kBadInput = 1;
constexpr int kCheckFailed = 2;
constexpr size_t kMaxNoteFile = 1 << 20;

int Fail(const Status& s, int code = kBadInput) {
  std::cerr << "arbiter ledger: " << s.message() << "\n";
  return code;
}

Result<std::unique_ptr<ledger::Ledger>> OpenReadOnly(const std::string& dir) {
  ledger::LedgerOptions o;
  o.data_dir = dir;
  o.read_only = true;
  return ledger::Ledger::Open(o);
}

boost::json::array HashList(const std::vector<Hash>& hashes) {
  boost::json::array out;
  for (const Hash& h : hashes) out.emplace_back(Base64Encode(h));
  return out;
}

int RunVerify(const std::string& dir, const std::string& key, bool json) {
  ledger::VerifyOptions options;
  if (!key.empty()) options.verifier_key = key;
  auto report = ledger::VerifyLedgerDir(dir, options);
  if (!report) return Fail(report.error());
  const auto& r = *report;
  if (json) {
    boost::json::array problems;
    for (const auto& p : r.problems) {
      problems.push_back({{"kind", std::string(ledger::ProblemKindName(p.kind))},
                          {"index", p.index},
                          {"message", p.message}});
    }
    boost::json::object out{{"ok", r.ok()},
                            {"origin", r.origin},
                            {"verifier_key", r.verifier_key},
                            {"entries", r.entries},
                            {"checkpoints", r.checkpoints},
                            {"latest_size", r.latest_size},
                            {"tiles", r.tiles},
                            {"problems", problems},
                            {"problems_omitted", r.problems_omitted}};
    std::cout << ToJson(out) << "\n";
  } else {
    for (const auto& p : r.problems) std::cout << "problem: " << p.message << "\n";
    if (r.problems_omitted > 0) {
      std::cout << "problem: ... and " << r.problems_omitted << " more\n";
    }
    std::cout << (r.ok() ? "ok" : "FAILED") << ": " << r.entries << " entries, " << r.checkpoints
              << " checkpoints (latest size " << r.latest_size << "), " << r.tiles
              << " tiles checked; origin " << r.origin << "\n";
  }
  return r.ok() ? kOk : kCheckFailed;
}

int RunCheckpoint(const std::string& dir, bool json) {
  auto l = OpenReadOnly(dir);
  if (!l) return Fail(l.error());
  auto cp = (*l)->LatestCheckpoint();
  if (!cp) return Fail(cp.error());
  if (json) {
    std::cout << ToJson(boost::json::object{{"origin", cp->checkpoint.origin},
                                            {"size", cp->checkpoint.size},
                                            {"root", Base64Encode(cp->checkpoint.root)},
                                            {"note", cp->note},
                                            {"verifier_key", (*l)->VerifierKey()}})
              << "\n";
  } else {
    std::cout << cp->note;
  }
  return kOk;
}

int RunProve(const std::string& dir, std::uint64_t index, std::uint64_t size, bool json) {
  auto l = OpenReadOnly(dir);
  if (!l) return Fail(l.error());
  auto proof = (*l)->ProveInclusion(index, size);
  if (!proof) return Fail(proof.error());
  // Check before printing: the proof leads from the stored entry to the root.
  auto entry = (*l)->Entry(index);
  if (!entry) return Fail(entry.error());
  const Hash leaf = ledger::LeafHash(*entry);
  Status ok = ledger::VerifyInclusion(leaf, index, proof->tree_size, proof->path, proof->root);
  if (leaf != proof->leaf_hash || !ok.ok()) {
    return Fail(Status::DataLoss("entry " + std::to_string(index) +
                                 " does not verify against the stored tree; run `arbiter "
                                 "ledger verify`"),
                kCheckFailed);
  }
  auto signed_cp = (*l)->CheckpointAt(proof->tree_size);
  if (json) {
    boost::json::object out{{"index", index},
                            {"tree_size", proof->tree_size},
                            {"leaf_hash", Base64Encode(proof->leaf_hash)},
                            {"root", Base64Encode(proof->root)},
                            {"proof", HashList(proof->path)},
                            {"entry", Base64Encode(*entry)}};
    if (signed_cp) out["checkpoint"] = signed_cp->note;
    std::cout << ToJson(out) << "\n";
  } else {
    std::cout << "index " << index << "\ntree size " << proof->tree_size << "\nleaf hash "
              << Base64Encode(proof->leaf_hash) << "\nroot " << Base64Encode(proof->root) << "\n";
    for (const Hash& h : proof->path) std::cout << "proof " << Base64Encode(h) << "\n";
    if (signed_cp) std::cout << "\n" << signed_cp->note;
  }
  return kOk;
}

int RunVerifyCheckpoint(const std::vector<std::string>& keys, const std::string& origin,
                        const std::string& file, bool json) {
  std::vector<ledger::NoteVerifierKey> verifiers;
  for (const std::string& k : keys) {
    auto key = ledger::ParseVerifierKey(k);
    if (!key) return Fail(key.error());
    verifiers.push_back(*key);
  }
  auto text = ReadInput(file, kMaxNoteFile);
  if (!text) return Fail(text.error());
  auto cp = ledger::OpenCheckpoint(*text, verifiers, origin);
  if (!cp) return Fail(cp.error(), kCheckFailed);
  auto opened = ledger::OpenNote(*text, verifiers);
  boost::json::array signers;
  for (const auto& s : opened->verified) signers.emplace_back(s.name);
  if (json) {
    boost::json::array ext;
    for (const auto& e : cp->checkpoint.extensions) ext.emplace_back(e);
    std::cout << ToJson(boost::json::object{{"origin", cp->checkpoint.origin},
                                            {"size", cp->checkpoint.size},
                                            {"root", Base64Encode(cp->checkpoint.root)},
                                            {"root_hex", HexEncode(cp->checkpoint.root)},
                                            {"extensions", ext},
                                            {"verified_by", signers}})
              << "\n";
  } else {
    std::cout << "origin " << cp->checkpoint.origin << "\nsize " << cp->checkpoint.size << "\nroot "
              << Base64Encode(cp->checkpoint.root) << "\n";
  }
  return kOk;
}

int RunConsistency(const std::string& dir, const std::string& key, const std::string& old_file,
                   const std::string& new_file, bool json) {
  auto l = OpenReadOnly(dir);
  if (!l) return Fail(l.error());
  auto vkey = ledger::ParseVerifierKey(key.empty() ? (*l)->VerifierKey() : key);
  if (!vkey) return Fail(vkey.error());
  ledger::SignedCheckpoint cps[2];
  const std::string* files[2] = {&old_file, &new_file};
  for (int i = 0; i < 2; ++i) {
    auto text = ReadInput(*files[i], kMaxNoteFile);
    if (!text) return Fail(text.error());
    auto cp = ledger::OpenCheckpoint(*text, {&*vkey, 1}, (*l)->Origin());
    if (!cp) return Fail(cp.error().WithContext("`" + *files[i] + "`"), kCheckFailed);
    cps[i] = std::move(*cp);
  }
  const auto& older = cps[0].checkpoint;
  const auto& newer = cps[1].checkpoint;
  if (older.size > newer.size) {
    return Fail(Status::InvalidArgument("the old checkpoint (size " + std::to_string(older.size) +
                                        ") is larger than the new one (" +
                                        std::to_string(newer.size) + ")"));
  }
  std::vector<Hash> proof;
  Status consistent;
  if (older.size == 0) {
    consistent = Status::Ok();  // every tree extends the empty tree
  } else {
    auto p = (*l)->ProveConsistency(older.size, newer.size);
    if (!p) return Fail(p.error());
    proof = *p;
    consistent = ledger::VerifyConsistency(older.size, newer.size, proof, older.root, newer.root);
  }
  if (json) {
    std::cout << ToJson(boost::json::object{{"consistent", consistent.ok()},
                                            {"old_size", older.size},
                                            {"new_size", newer.size},
                                            {"proof", HashList(proof)}})
              << "\n";
  } else {
    for (const Hash& h : proof) std::cout << "proof " << Base64Encode(h) << "\n";
    if (consistent.ok()) {
      std::cout << "consistent: size " << newer.size << " extends size " << older.size << "\n";
    }
  }
  if (!consistent.ok()) {
    return Fail(Status::DataLoss("checkpoints of sizes " + std::to_string(older.size) + " and " +
                                 std::to_string(newer.size) +
                                 " are not consistent: " + consistent.message()),
                kCheckFailed);
  }
  return kOk;
}

int RunAppend(const std::string& dir, const std::string& origin,
              const std::vector<std::string>& files, bool wait, bool json) {
  std::vector<std::string> entries;
  for (const std::string& f : files) {
    if (f == "-") {
      for (std::string line; std::getline(std::cin, line);) {
        if (!line.empty()) entries.push_back(line);
      }
      continue;
    }
    auto text = ReadInput(f, ledger::kMaxEntrySize);
    if (!text) return Fail(text.error());
    entries.push_back(std::move(*text));
  }
  if (entries.empty()) return Fail(Status::InvalidArgument("no entries to append"));
  ledger::LedgerOptions o;
  o.data_dir = dir;
  o.origin = origin;
  auto l = ledger::Ledger::Open(o);
  if (!l) return Fail(l.error());
  std::vector<ByteView> views;
  for (const auto& e : entries) views.push_back(AsBytes(e));
  auto first = (*l)->AppendBatch(views);
  if (!first) return Fail(first.error());
  std::string note;
  if (wait) {
    auto cp = (*l)->Flush();
    if (!cp) return Fail(cp.error());
    note = cp->note;
  }
  if (json) {
    boost::json::object out{{"first_index", *first}, {"count", entries.size()}};
    if (wait) out["checkpoint"] = note;
    std::cout << ToJson(out) << "\n";
  } else {
    std::cout << "appended " << entries.size() << " entries at " << *first << ".."
              << *first + entries.size() - 1 << "\n"
              << note;
  }
  return kOk;
}

void AddLedgerCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("ledger", "Evidence ledger: verify, prove, checkpoints");
  group->require_subcommand(1);

  struct Flags {
    std::string data, key, origin, old_file, new_file, file;
    std::vector<std::string> keys, files;
    std::uint64_t index = 0, size = 0;
    bool json = false, wait = false;
  };
  auto flags = std::make_shared<Flags>();

  auto* verify = group->add_subcommand(
      "verify",
      "Recompute the whole tree, check every checkpoint's signature and their consistency, and "
      "report modified, missing or reordered entries by index (exit 2 when any is found)");
  verify->add_option("--data", flags->data, "Ledger data directory")->required();
  verify->add_option("--key", flags->key, "Verifier key to trust instead of the directory's");
  verify->add_flag("--json", flags->json, "Machine-readable output");
  verify->callback(
      [&ctx, flags] { ctx.exit_code = RunVerify(flags->data, flags->key, flags->json); });

  auto* checkpoint = group->add_subcommand("checkpoint", "Print the latest signed checkpoint");
  checkpoint->add_option("--data", flags->data, "Ledger data directory")->required();
  checkpoint->add_flag("--json", flags->json, "Machine-readable output");
  checkpoint->callback([&ctx, flags] { ctx.exit_code = RunCheckpoint(flags->data, flags->json); });

  auto* prove = group->add_subcommand("prove", "Print the inclusion proof of an entry");
  prove->add_option("--data", flags->data, "Ledger data directory")->required();
  prove->add_option("--index", flags->index, "Entry index")->required();
  prove->add_option("--size", flags->size, "Tree size (default: the latest checkpoint)");
  prove->add_flag("--json", flags->json, "Machine-readable output");
  prove->callback([&ctx, flags] {
    ctx.exit_code = RunProve(flags->data, flags->index, flags->size, flags->json);
  });

  auto* vc = group->add_subcommand(
      "verify-checkpoint",
      "Verify a C2SP checkpoint note (of any log) and print its origin, size and root (exit 2 "
      "when it does not verify)");
  vc->add_option("--key", flags->keys, "Verifier key (repeatable)")->required();
  vc->add_option("--origin", flags->origin, "Required origin");
  vc->add_option("FILE", flags->file, "Checkpoint note file (- for stdin)")->required();
  vc->add_flag("--json", flags->json, "Machine-readable output");
  vc->callback([&ctx, flags] {
    ctx.exit_code = RunVerifyCheckpoint(flags->keys, flags->origin, flags->file, flags->json);
  });

  auto* cons = group->add_subcommand(
      "consistency",
      "Prove and check that a newer checkpoint extends an older one (exit 2 when it does not)");
  cons->add_option("--data", flags->data, "Ledger data directory")->required();
  cons->add_option("--old", flags->old_file, "Older checkpoint note")->required();
  cons->add_option("--new", flags->new_file, "Newer checkpoint note")->required();
  cons->add_option("--key", flags->key, "Verifier key to trust instead of the directory's");
  cons->add_flag("--json", flags->json, "Machine-readable output");
  cons->callback([&ctx, flags] {
    ctx.exit_code =
        RunConsistency(flags->data, flags->key, flags->old_file, flags->new_file, flags->json);
  });

  auto* append = group->add_subcommand(
      "append", "Append entries (one per FILE; `-` reads one entry per stdin line)");
  append->add_option("--data", flags->data, "Ledger data directory")->required();
  append->add_option("--origin", flags->origin, "Log origin (and key name)")->required();
  append->add_option("FILE", flags->files, "Entry files")->required();
  append->add_flag("--wait", flags->wait, "Wait for a checkpoint that covers the entries");
  append->add_flag("--json", flags->json, "Machine-readable output");
  append->callback([&ctx, flags] {
    ctx.exit_code = RunAppend(flags->data, flags->origin, flags->files, flags->wait, flags->json);
  });
}

}  // namespace

ARBITER_COMMAND_GROUP(ledger, AddLedgerCommands);

}  // namespace arbiter::cli
