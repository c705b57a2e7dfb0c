#include "arbiter/ledger/ledger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "arbiter/common/thread_name.h"
#include "arbiter/ledger/internal/store_hash_source.h"
#include "arbiter/ledger/note.h"
#include "arbiter/ledger/sqlite_store.h"
#include "arbiter/ledger/tiles.h"

namespace arbiter::ledger {
namespace {

using Clock = std::chrono::steady_clock;
using internal::StoreHashSource;
using internal::TileCache;
using internal::TileOverlay;

Bytes HashesToBytes(std::span<const Hash> hashes) {
  Bytes out(hashes.size() * kHashSize);
  for (size_t i = 0; i < hashes.size(); ++i) {
    std::memcpy(out.data() + i * kHashSize, hashes[i].data(), kHashSize);
  }
  return out;
}

Result<std::vector<Hash>> BytesToHashes(ByteView bytes) {
  if (bytes.size() % kHashSize != 0) return Status::DataLoss("tile length is not a multiple of 32");
  std::vector<Hash> out(bytes.size() / kHashSize);
  for (size_t i = 0; i < out.size(); ++i) {
    std::memcpy(out[i].data(), bytes.data() + i * kHashSize, kHashSize);
  }
  return out;
}

// The root of a tree given the rightmost tile of every level (edge[L] holds the
// (size >> 8L) mod 256 hashes of the partial tile at level L).
Hash EdgeRoot(const std::vector<std::vector<Hash>>& edge) {
  std::vector<Hash> subtrees;  // perfect subtrees, left to right
  for (size_t level = edge.size(); level-- > 0;) {
    const std::vector<Hash>& tile = edge[level];
    size_t start = 0;
    for (int r = kTileHeight - 1; r >= 0; --r) {
      const size_t n = size_t{1} << r;
      if ((tile.size() & n) == 0) continue;
      subtrees.push_back(RootFromLeafHashes(std::span<const Hash>(tile).subspan(start, n)));
      start += n;
    }
  }
  if (subtrees.empty()) return EmptyRoot();
  Hash root = subtrees.back();
  for (size_t i = subtrees.size() - 1; i-- > 0;) root = NodeHash(subtrees[i], root);
  return root;
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot create `" + tmp.string() + "`");
  const bool ok =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::Unavailable("cannot write `" + path.string() + "`");
  }
  const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read `" + path.string() + "`");
  std::string text;
  text.resize(4096);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

Result<NoteSigner> LoadOrCreateKey(const std::filesystem::path& data_dir, const std::string& origin,
                                   bool create) {
  const std::filesystem::path key_path = data_dir / kLedgerKeyFile;
  std::error_code ec;
  if (std::filesystem::exists(key_path, ec)) {
    ARBITER_TRY(std::string text, ReadSmallFile(key_path));
    auto signer = NoteSigner::FromPrivateKeyString(text);
    if (!signer) {
      return Status::DataLoss("key file `" + key_path.string() + "`: " + signer.error().message());
    }
    if (!origin.empty() && signer->name() != origin) {
      return Status::InvalidArgument("key file `" + key_path.string() + "` is for origin `" +
                                     signer->name() + "`, not `" + origin + "`");
    }
    return signer;
  }
  if (!create) return Status::NotFound("no key file `" + key_path.string() + "`");
  ARBITER_TRY(NoteSigner signer, NoteSigner::Generate(origin));
  ARBITER_RETURN_IF_ERROR(WriteFileAtomically(key_path, signer.PrivateKeyString() + "\n"));
  return signer;
}

class LedgerImpl final : public Ledger {
 public:
  LedgerImpl(LedgerOptions options, std::unique_ptr<LedgerStore> store, NoteSigner signer,
             NoteVerifierKey verifier)
      : options_(std::move(options)),
        store_(std::move(store)),
        signer_(std::move(signer)),
        verifier_(std::move(verifier)),
        verifier_string_(verifier_.ToString()) {}

  ~LedgerImpl() override { Close(); }

  Status Init() {
    // The latest checkpoint: its signature, its body and the stored tiles must all agree.
    ARBITER_TRY(auto latest, store_->LatestCheckpoint());
    std::uint64_t size = 0;
    if (latest) {
      auto opened = OpenCheckpoint(latest->note, {&verifier_, 1}, options_.origin);
      if (!opened) {
        return Status::DataLoss("latest stored checkpoint (size " + std::to_string(latest->size) +
                                ") does not verify: " + opened.error().message());
      }
      if (opened->checkpoint.size != latest->size || opened->checkpoint.root != latest->root) {
        return Status::DataLoss("latest stored checkpoint's note disagrees with its row");
      }
      size = latest->size;
      latest_ = std::make_shared<const SignedCheckpoint>(std::move(*opened));
    }
    edge_.assign(kMaxTileLevel + 1, {});
    for (std::uint32_t level = 0; level <= kMaxTileLevel; ++level) {
      const std::uint64_t count = size >> (kTileHeight * level);
      const size_t width = count % kTileWidth;
      if (width == 0) continue;
      ARBITER_TRY(auto tile, store_->ReadTile(level, count / kTileWidth));
      if (!tile || tile->size() < width * kHashSize) {
        return Status::DataLoss("stored tile " +
                                TileId{false, level, count / kTileWidth, kTileWidth}.Path() +
                                " is missing or shorter than the latest checkpoint needs");
      }
      ARBITER_TRY(edge_[level], BytesToHashes(ByteView(tile->data(), width * kHashSize)));
    }
    if (latest && EdgeRoot(edge_) != latest->root) {
      return Status::DataLoss("stored tiles do not match the root of the latest checkpoint");
    }
    integrated_size_ = size;
    ARBITER_TRY(next_index_, store_->EntryEnd());
    if (next_index_ < size) {
      return Status::DataLoss("the latest checkpoint covers " + std::to_string(size) +
                              " entries but only " + std::to_string(next_index_) + " are stored");
    }
    if (options_.read_only) return Status::Ok();
    // Entries acknowledged before a crash but not yet integrated.
    pending_first_ = size;
    std::uint64_t expect = size;
    ARBITER_RETURN_IF_ERROR(
        store_->ScanEntries(size, next_index_, [&](std::uint64_t index, ByteView data) -> Status {
          if (index != expect) {
            return Status::DataLoss("entry " + std::to_string(expect) + " is missing");
          }
          ++expect;
          pending_.push_back(LeafHash(data));
          return Status::Ok();
        }));
    if (expect != next_index_) {
      return Status::DataLoss("entry " + std::to_string(expect) + " is missing");
    }
    oldest_pending_ = Clock::now();
    integrator_ = std::thread([this] {
      NameThisThread("arbiter-integrate");
      IntegratorLoop();
    });
    return Status::Ok();
  }

  // ---- Sequencer ----

  Result<std::uint64_t> Append(ByteView entry) override { return AppendBatch({&entry, 1}); }

  Result<std::uint64_t> AppendBatch(std::span<const ByteView> entries) override {
    if (options_.read_only) return Status::FailedPrecondition("ledger is open read-only");
    if (entries.empty()) return Status::InvalidArgument("append of no entries");
    if (entries.size() > kMaxBatchEntries) {
      return Status::ResourceExhausted("append of " + std::to_string(entries.size()) +
                                       " entries exceeds the limit of " +
                                       std::to_string(kMaxBatchEntries));
    }
    Writer w;
    w.entries = entries;
    w.leaf_hashes.reserve(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].size() > kMaxEntrySize) {
        return Status::InvalidArgument("entry " + std::to_string(i) + " has " +
                                       std::to_string(entries[i].size()) + " bytes; the limit is " +
                                       std::to_string(kMaxEntrySize));
      }
      w.leaf_hashes.push_back(LeafHash(entries[i]));
    }

    std::unique_lock lock(seq_mu_);
    if (closed_) return Status::FailedPrecondition("ledger is closed");
    writers_.push_back(&w);
    while (!w.done && &w != writers_.front()) w.cv.wait(lock);
    if (w.done) {
      if (!w.status.ok()) return w.status;
      return w.first_index;
    }

    // This writer leads a group commit for everything queued (up to the group limit).
    std::vector<Writer*> group;
    size_t count = 0;
    for (Writer* x : writers_) {
      if (!group.empty() && count + x->entries.size() > options_.max_group_entries) break;
      group.push_back(x);
      count += x->entries.size();
    }
    const std::uint64_t first = next_index_;
    lock.unlock();
    std::vector<ByteView> flat;
    flat.reserve(count);
    for (Writer* x : group) flat.insert(flat.end(), x->entries.begin(), x->entries.end());
    Status status = store_->AppendEntries(first, flat);
    lock.lock();
    if (status.ok()) {
      std::uint64_t index = first;
      {
        std::lock_guard integ_lock(integ_mu_);
        if (pending_.empty()) oldest_pending_ = Clock::now();
        for (Writer* x : group) {
          x->first_index = index;
          index += x->entries.size();
          pending_.insert(pending_.end(), x->leaf_hashes.begin(), x->leaf_hashes.end());
        }
      }
      integ_cv_.notify_one();
      next_index_ = index;
      ++group_commits_;
    } else {
      // The transaction rolled back; re-read the stored end in case the failure was ambiguous.
      auto end = store_->EntryEnd();
      if (end && *end != next_index_) {
        status = Status::Internal("sequencer lost track of the stored entries after: " +
                                  status.message());
        closed_ = true;
      }
    }
    for (Writer* x : group) {
      writers_.pop_front();
      x->status = status;
      x->done = true;
      if (x != &w) x->cv.notify_one();
    }
    if (!writers_.empty()) writers_.front()->cv.notify_one();
    if (!status.ok()) return status;
    return w.first_index;
  }

  // ---- Integrator ----

  void IntegratorLoop() {
    while (true) {
      std::vector<Hash> batch;
      std::uint64_t first = 0;
      {
        std::unique_lock lock(integ_mu_);
        while (true) {
          if (pending_.empty()) {
            flush_requested_ = false;
            if (stop_) return;
            integ_cv_.wait(lock);
            continue;
          }
          if (stop_ || flush_requested_ || pending_.size() >= options_.integration_max_batch) {
            break;
          }
          const auto deadline = oldest_pending_ + options_.integration_interval;
          if (Clock::now() >= deadline) break;
          integ_cv_.wait_until(lock, deadline);
        }
        const size_t n = std::min(pending_.size(), options_.integration_max_batch);
        batch.assign(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
        first = pending_first_;
        pending_first_ += n;
        // What remains has waited at least as long as what was taken: integrate it next.
        if (!pending_.empty()) oldest_pending_ = Clock::time_point::min();
      }
      Status s = IntegrateBatch(first, batch);
      if (s.ok()) continue;
      {
        std::lock_guard lock(integ_mu_);
        pending_.insert(pending_.begin(), batch.begin(), batch.end());
        pending_first_ = first;
      }
      const bool fatal = s.code() != StatusCode::kUnavailable;
      {
        std::lock_guard lock(state_mu_);
        integration_error_ = s;
        integration_halted_ = fatal;
      }
      state_cv_.notify_all();
      CompleteIntegratedWaiters();
      if (fatal) return;
      std::unique_lock lock(integ_mu_);
      integ_cv_.wait_for(lock, options_.integration_interval, [this] { return stop_; });
      if (stop_) return;
    }
  }

  // Why entry `index` will not be integrated: integration stopped (on an error, or the ledger
  // closed). Called with state_mu_ held.
  Status StoppedLocked(std::uint64_t index) const {
    if (!integration_error_.ok()) return integration_error_;
    if (options_.read_only) {
      return Status::Unavailable("entry " + std::to_string(index) +
                                 " is not integrated and the ledger is open read-only");
    }
    return Status::Unavailable("the ledger closed before entry " + std::to_string(index) +
                               " was integrated");
  }

  // Completes OnIntegrated's callbacks that have their answer: those now integrated (OK), every
  // one when integration has stopped, and, while it fails, those past their deadline. Takes
  // state_mu_; runs the callbacks after releasing it.
  void CompleteIntegratedWaiters() {
    std::vector<std::pair<std::function<void(Status)>, Status>> ready;
    {
      std::lock_guard lock(state_mu_);
      if (integrated_waiters_.empty()) return;
      const auto integrated_end = integrated_waiters_.lower_bound(integrated_size_);
      for (auto it = integrated_waiters_.begin(); it != integrated_end; ++it) {
        ready.emplace_back(std::move(it->second.done), Status::Ok());
      }
      integrated_waiters_.erase(integrated_waiters_.begin(), integrated_end);
      const bool stopped = integration_halted_ || integrator_exited_;
      if (stopped || !integration_error_.ok()) {
        const auto now = std::chrono::steady_clock::now();
        for (auto it = integrated_waiters_.begin(); it != integrated_waiters_.end();) {
          if (stopped || it->second.deadline <= now) {
            ready.emplace_back(std::move(it->second.done), StoppedLocked(it->first));
            it = integrated_waiters_.erase(it);
          } else {
            ++it;
          }
        }
      }
    }
    for (auto& [done, status] : ready) done(std::move(status));
  }

  // Extends the tree by `leaves` (starting at index `first`), checks the result against the
  // previous checkpoint, signs and stores it.
  Status IntegrateBatch(std::uint64_t first, std::span<const Hash> leaves) {
    const std::uint64_t old_size = first;
    const std::uint64_t new_size = first + leaves.size();
    std::vector<std::vector<Hash>> edge = edge_;  // committed to edge_ only on success
    IntegrationWrite write;
    std::vector<std::uint64_t> count(edge.size());
    for (size_t level = 0; level < edge.size(); ++level) {
      count[level] = old_size >> (kTileHeight * level);
    }
    std::vector<std::pair<std::uint32_t, std::uint64_t>> partial;  // tiles touched, maybe partial
    const auto add = [&](auto& self, std::uint32_t level, const Hash& h) -> void {
      const std::uint64_t tile_index = count[level] / kTileWidth;
      edge[level].push_back(h);
      ++count[level];
      if (edge[level].size() == kTileWidth) {
        write.tiles.push_back({level, tile_index, HashesToBytes(edge[level])});
        const Hash up = RootFromLeafHashes(edge[level]);
        edge[level].clear();
        if (level < kMaxTileLevel) self(self, level + 1, up);
      } else if (partial.empty() || partial.back() != std::pair(level, tile_index)) {
        partial.emplace_back(level, tile_index);
      }
    };
    write.first_leaf = first;
    write.leaf_prefixes.reserve(leaves.size());
    for (const Hash& h : leaves) {
      add(add, 0, h);
      write.leaf_prefixes.push_back(LeafPrefix(h));
    }
    std::sort(partial.begin(), partial.end());
    partial.erase(std::unique(partial.begin(), partial.end()), partial.end());
    for (const auto& [level, tile_index] : partial) {
      if (count[level] / kTileWidth == tile_index && !edge[level].empty()) {
        write.tiles.push_back({level, tile_index, HashesToBytes(edge[level])});
      }
    }
    const Hash root = EdgeRoot(edge);

    // Before signing: the new tree, as it will be stored, must extend the previous checkpoint.
    std::shared_ptr<const SignedCheckpoint> previous;
    {
      std::lock_guard lock(state_mu_);
      previous = latest_;
    }
    if (previous && previous->checkpoint.size > 0) {
      TileOverlay overlay;
      for (const TileWrite& t : write.tiles) overlay[{t.level, t.index}] = &t.hashes;
      StoreHashSource source(*store_, &cache_, new_size, &overlay);
      auto proof = ledger::ProveConsistency(source, previous->checkpoint.size, new_size);
      if (!proof) {
        return Status::DataLoss("integration stopped: cannot prove consistency with checkpoint " +
                                std::to_string(previous->checkpoint.size) + ": " +
                                proof.error().message());
      }
      Status consistent = VerifyConsistency(previous->checkpoint.size, new_size, *proof,
                                            previous->checkpoint.root, root);
      if (!consistent.ok()) {
        return Status::DataLoss("integration stopped: tree of size " + std::to_string(new_size) +
                                " is not consistent with checkpoint " +
                                std::to_string(previous->checkpoint.size) + ": " +
                                consistent.message());
      }
    }

    Checkpoint cp{options_.origin, new_size, root, {}};
    ARBITER_TRY(std::string note, signer_.Sign(cp.Format()));
    write.checkpoint = StoredCheckpoint{new_size, root, note};
    Status stored = store_->Integrate(write);
    if (!stored.ok()) {
      if (stored.code() == StatusCode::kAlreadyExists) {
        return Status::DataLoss("integration stopped: a checkpoint of size " +
                                std::to_string(new_size) + " already exists");
      }
      return stored;
    }
    edge_ = std::move(edge);
    {
      std::lock_guard lock(state_mu_);
      latest_ = std::make_shared<const SignedCheckpoint>(SignedCheckpoint{std::move(cp), note});
      integrated_size_ = new_size;
      integration_error_ = Status::Ok();
      ++checkpoints_signed_;
    }
    state_cv_.notify_all();
    CompleteIntegratedWaiters();
    return Status::Ok();
  }

  Result<SignedCheckpoint> Flush() override {
    std::uint64_t target;
    {
      std::lock_guard lock(seq_mu_);
      target = next_index_;
    }
    if (!options_.read_only) {
      std::lock_guard lock(integ_mu_);
      flush_requested_ = true;
    }
    integ_cv_.notify_one();
    std::unique_lock lock(state_mu_);
    state_cv_.wait(lock, [&] {
      return integrated_size_ >= target || integration_halted_ || options_.read_only ||
             integrator_exited_;
    });
    if (integrated_size_ < target) {
      return Status::Unavailable(
          "integration did not complete: " +
          (integration_error_.ok() ? std::string("ledger closed") : integration_error_.message()));
    }
    if (!latest_) return Status::NotFound("the ledger is empty");
    return *latest_;
  }

  void Close() override {
    {
      std::lock_guard lock(seq_mu_);
      closed_ = true;
    }
    {
      std::lock_guard lock(integ_mu_);
      stop_ = true;
    }
    integ_cv_.notify_all();
    if (integrator_.joinable()) integrator_.join();
    {
      std::lock_guard lock(state_mu_);
      integrator_exited_ = true;
    }
    state_cv_.notify_all();
    CompleteIntegratedWaiters();
  }

  // ---- Reads and proofs ----

  Result<Receipt> WaitForReceipt(std::uint64_t index, std::chrono::milliseconds timeout) override {
    {
      std::lock_guard lock(seq_mu_);
      if (index >= next_index_) {
        return Status::NotFound("entry " + std::to_string(index) + " has not been appended");
      }
    }
    std::shared_ptr<const SignedCheckpoint> cp;
    {
      std::unique_lock lock(state_mu_);
      state_cv_.wait_for(lock, timeout, [&] {
        return integrated_size_ > index || integration_halted_ || integrator_exited_;
      });
      if (integrated_size_ <= index) {
        if (!integration_error_.ok()) return integration_error_;
        return Status::Unavailable("entry " + std::to_string(index) + " is not integrated yet");
      }
      cp = latest_;
    }
    ARBITER_TRY(InclusionProof proof, ProveAt(index, cp->checkpoint.size, cp->checkpoint.root));
    return Receipt{index, proof.leaf_hash, *cp, std::move(proof.path)};
  }

  void OnIntegrated(std::uint64_t index, std::chrono::steady_clock::time_point deadline,
                    std::function<void(Status)> done) override {
    {
      std::lock_guard lock(seq_mu_);
      if (index >= next_index_) {
        done(Status::NotFound("entry " + std::to_string(index) + " has not been appended"));
        return;
      }
    }
    Status now;
    {
      std::lock_guard lock(state_mu_);
      if (integrated_size_ <= index) {
        if (!integration_halted_ && !integrator_exited_ && !options_.read_only) {
          integrated_waiters_.emplace(index, IntegratedWaiter{deadline, std::move(done)});
          return;
        }
        now = StoppedLocked(index);
      }
    }
    done(std::move(now));
  }

  Result<SignedCheckpoint> LatestCheckpoint() override {
    std::lock_guard lock(state_mu_);
    if (!latest_) return Status::NotFound("the ledger has no checkpoint yet");
    return *latest_;
  }

  Result<SignedCheckpoint> CheckpointAt(std::uint64_t size) override {
    ARBITER_TRY(auto stored, store_->CheckpointAt(size));
    if (!stored) return Status::NotFound("no checkpoint of size " + std::to_string(size));
    ARBITER_TRY(SignedCheckpoint cp, OpenCheckpoint(stored->note, {&verifier_, 1}));
    return cp;
  }

  Result<Bytes> Entry(std::uint64_t index) override {
    ARBITER_TRY(auto entry, store_->ReadEntry(index));
    if (!entry) return Status::NotFound("no entry " + std::to_string(index));
    return std::move(*entry);
  }

  Result<InclusionProof> ProveInclusion(std::uint64_t index, std::uint64_t tree_size) override {
    ARBITER_TRY(std::uint64_t size, ResolveSize(tree_size));
    if (index >= size) {
      return Status::OutOfRange("entry " + std::to_string(index) + " is not in the tree of size " +
                                std::to_string(size));
    }
    ARBITER_TRY(Hash root, RootAt(size));
    return ProveAt(index, size, root);
  }

  Result<InclusionProof> ProveInclusionByLeafHash(const Hash& leaf_hash,
                                                  std::uint64_t tree_size) override {
    ARBITER_TRY(std::uint64_t size, ResolveSize(tree_size));
    ARBITER_TRY(auto candidates, store_->FindLeaves(LeafPrefix(leaf_hash), size));
    StoreHashSource source(*store_, &cache_, size);
    for (std::uint64_t index : candidates) {
      ARBITER_TRY(Hash h, source.SubtreeHash(0, index));
      if (h == leaf_hash) return ProveInclusion(index, size);
    }
    return Status::NotFound("no leaf with hash " + HexEncode(leaf_hash) + " in the tree of size " +
                            std::to_string(size));
  }

  Result<std::vector<Hash>> ProveConsistency(std::uint64_t size1, std::uint64_t size2) override {
    ARBITER_TRY(std::uint64_t size, ResolveSize(size2));
    StoreHashSource source(*store_, &cache_, size);
    return ledger::ProveConsistency(source, size1, size);
  }

  Result<Hash> RootAt(std::uint64_t tree_size) override {
    ARBITER_TRY(std::uint64_t size, ResolveSize(tree_size));
    {
      std::lock_guard lock(state_mu_);
      if (latest_ && latest_->checkpoint.size == size) return latest_->checkpoint.root;
    }
    if (size == 0) return EmptyRoot();
    StoreHashSource source(*store_, &cache_, size);
    return RangeHash(source, 0, size);
  }

  Result<Bytes> ReadTilePath(std::string_view path) override {
    if (path == "checkpoint") {
      ARBITER_TRY(SignedCheckpoint cp, LatestCheckpoint());
      return ToBytes(cp.note);
    }
    ARBITER_TRY(TileId id, ParseTilePath(path));
    std::uint64_t size;
    {
      std::lock_guard lock(state_mu_);
      size = integrated_size_;
    }
    const std::uint32_t have = TileWidthAt(id.entries ? 0 : id.level, id.index, size);
    if (have == 0 || id.width > have) {
      return Status::NotFound("tile `" + std::string(path) + "` does not exist at size " +
                              std::to_string(size));
    }
    if (!id.entries) {
      StoreHashSource source(*store_, &cache_, size);
      ARBITER_TRY(auto tile, source.Tile(id.level, id.index, id.width));
      return Bytes(tile->begin(), tile->begin() + id.width * kHashSize);
    }
    Bytes bundle;
    const std::uint64_t begin = id.index * kTileWidth;
    std::uint64_t expect = begin;
    ARBITER_RETURN_IF_ERROR(store_->ScanEntries(
        begin, begin + id.width, [&](std::uint64_t index, ByteView data) -> Status {
          if (index != expect) {
            return Status::DataLoss("entry " + std::to_string(expect) + " is missing");
          }
          ++expect;
          bundle.push_back(static_cast<std::uint8_t>(data.size() >> 8));
          bundle.push_back(static_cast<std::uint8_t>(data.size()));
          bundle.insert(bundle.end(), data.begin(), data.end());
          return Status::Ok();
        }));
    if (expect != begin + id.width) {
      return Status::DataLoss("entry " + std::to_string(expect) + " is missing");
    }
    return bundle;
  }

  std::string VerifierKey() const override { return verifier_string_; }
  const std::string& Origin() const override { return options_.origin; }

  LedgerStats Stats() override {
    LedgerStats s;
    {
      std::lock_guard lock(seq_mu_);
      s.sequenced = next_index_;
      s.group_commits = group_commits_;
    }
    std::lock_guard lock(state_mu_);
    s.integrated = integrated_size_;
    s.checkpoints_signed = checkpoints_signed_;
    return s;
  }

 private:
  struct Writer {
    std::span<const ByteView> entries;
    std::vector<Hash> leaf_hashes;
    bool done = false;
    Status status;
    std::uint64_t first_index = 0;
    std::condition_variable cv;
  };

  Result<std::uint64_t> ResolveSize(std::uint64_t tree_size) {
    std::lock_guard lock(state_mu_);
    if (tree_size == 0) {
      if (integrated_size_ == 0) return Status::NotFound("the ledger has no checkpoint yet");
      return integrated_size_;
    }
    if (tree_size > integrated_size_) {
      return Status::OutOfRange("tree size " + std::to_string(tree_size) +
                                " is beyond the latest checkpoint (" +
                                std::to_string(integrated_size_) + ")");
    }
    return tree_size;
  }

  Result<InclusionProof> ProveAt(std::uint64_t index, std::uint64_t size, const Hash& root) {
    StoreHashSource source(*store_, &cache_, size);
    InclusionProof proof;
    proof.index = index;
    proof.tree_size = size;
    proof.root = root;
    ARBITER_TRY(proof.leaf_hash, source.SubtreeHash(0, index));
    ARBITER_TRY(proof.path, ledger::ProveInclusion(source, index, size));
    return proof;
  }

  const LedgerOptions options_;
  std::unique_ptr<LedgerStore> store_;
  const NoteSigner signer_;
  const NoteVerifierKey verifier_;
  const std::string verifier_string_;
  TileCache cache_;

  // Sequencer.
  std::mutex seq_mu_;
  std::deque<Writer*> writers_;
  std::uint64_t next_index_ = 0;
  std::uint64_t group_commits_ = 0;
  bool closed_ = false;

  // Hand-off from the sequencer to the integrator.
  std::mutex integ_mu_;
  std::condition_variable integ_cv_;
  std::deque<Hash> pending_;  // leaf hashes of entries pending_first_, pending_first_ + 1, ...
  std::uint64_t pending_first_ = 0;
  Clock::time_point oldest_pending_;
  bool flush_requested_ = false;
  bool stop_ = false;

  // Integrator-owned: the rightmost tile of every level at integrated_size_.
  std::vector<std::vector<Hash>> edge_;
  std::thread integrator_;

  // Published state.
  std::mutex state_mu_;
  std::condition_variable state_cv_;
  std::shared_ptr<const SignedCheckpoint> latest_;
  std::uint64_t integrated_size_ = 0;
  std::uint64_t checkpoints_signed_ = 0;
  Status integration_error_;
  bool integration_halted_ = false;
  bool integrator_exited_ = false;
  // OnIntegrated's callbacks by entry index (guarded by state_mu_).
  struct IntegratedWaiter {
    std::chrono::steady_clock::time_point deadline;
    std::function<void(Status)> done;
  };
  std::multimap<std::uint64_t, IntegratedWaiter> integrated_waiters_;
};

}  // namespace

Result<std::string> ReadVerifierKey(const std::filesystem::path& data_dir) {
  ARBITER_TRY(NoteSigner signer, LoadOrCreateKey(data_dir, "", false));
  return signer.VerifierKey();
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const LedgerOptions& options) {
  LedgerOptions opts = options;
  if (opts.data_dir.empty()) return Status::InvalidArgument("ledger: no data directory");
  if (opts.integration_max_batch == 0 || opts.max_group_entries == 0) {
    return Status::InvalidArgument("ledger: batch sizes must be positive");
  }
  std::error_code ec;
  const std::filesystem::path db_path = opts.data_dir / kLedgerDbFile;
  if (opts.read_only) {
    if (!std::filesystem::exists(db_path, ec)) {
      return Status::NotFound("no ledger in `" + opts.data_dir.string() + "`");
    }
  } else {
    if (!IsValidKeyName(opts.origin)) {
      return Status::InvalidArgument("ledger origin `" + opts.origin +
                                     "` must be non-empty without spaces or `+`");
    }
    std::filesystem::create_directories(opts.data_dir, ec);
    if (ec) {
      return Status::Unavailable("cannot create `" + opts.data_dir.string() + "`: " + ec.message());
    }
  }
  SqliteLedgerStoreOptions store_options;
  store_options.read_only = opts.read_only;
  store_options.sync_appends = opts.sync_appends;
  ARBITER_TRY(auto store, OpenSqliteLedgerStore(db_path, store_options));
  ARBITER_TRY(auto stored_origin, store->GetMeta("origin"));
  if (opts.read_only) {
    if (!stored_origin) return Status::DataLoss("ledger store has no origin");
    if (!opts.origin.empty() && opts.origin != *stored_origin) {
      return Status::InvalidArgument("ledger origin is `" + *stored_origin + "`, not `" +
                                     opts.origin + "`");
    }
    opts.origin = *stored_origin;
  } else if (stored_origin && *stored_origin != opts.origin) {
    return Status::InvalidArgument("ledger in `" + opts.data_dir.string() + "` has origin `" +
                                   *stored_origin + "`, not `" + opts.origin + "`");
  }
  ARBITER_TRY(NoteSigner signer, LoadOrCreateKey(opts.data_dir, opts.origin, !opts.read_only));
  if (!opts.read_only && !stored_origin) {
    ARBITER_RETURN_IF_ERROR(store->SetMeta("origin", opts.origin));
    ARBITER_RETURN_IF_ERROR(store->SetMeta("format", "arbiter-ledger/1"));
  }
  ARBITER_TRY(NoteVerifierKey verifier, ParseVerifierKey(signer.VerifierKey()));
  auto ledger =
      std::make_unique<LedgerImpl>(opts, std::move(store), std::move(signer), std::move(verifier));
  ARBITER_RETURN_IF_ERROR(ledger->Init());
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace arbiter::ledger
