#include "arbiter/grants/single_use_registry.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>

#include "arbiter/identity/token_error.h"

namespace arbiter::grants {
namespace {

using identity::Quoted;

// Paths come from the operator's configuration: quoted whole (Quoted cuts at 64 bytes).
std::string QuotedPath(const std::filesystem::path& path) { return "`" + path.string() + "`"; }

// ---- File layout (all integers little-endian, as the only supported hosts are) ----
//
//   [0, 4096)            header: magic "ARBUSED\0", version, slot size, slot count, epoch
//                        length, shard count (version 2; 0 in version 1, meaning one),
//                        checksum (first 8 bytes of SHA-256 of the fields before it)
//   [4096, 4096 + 32 n)  n slots of 32 bytes: a control word, then 24 bytes of the token digest
//
// Control word: bits 63-62 state (0 empty, 1 being written, 2 used), bits 61-32 a 30-bit
// fingerprint of the digest (its bytes 24-27), bits 31-0 `forget_after` (Unix seconds: the
// token's expiry + kForgetAfterExpirySeconds). An all-zero slot is empty, so a fresh (sparse,
// zero-filled) file is an empty table.
//
// Shards (version 2): the table is cut into `shard count` equal runs of slots, and a token's home
// slot lies in the run of its expiry: run (forget_after / kShardSeconds) mod shard count, at an
// offset picked from the digest's first 8 bytes. So the tokens minted within a few seconds (with
// one ttl) share the few pages of one run, which stay dirty in the page cache between writebacks,
// instead of each dirtying a random page of the file (a write fault through the filesystem,
// ~10-25 us, when the kernel has written that page back). Probing still runs on over the whole
// table, so a burst that fills its run spills into the next ones. Version 1 files (one shard:
// the home slot anywhere, from the digest alone) are still read as such.
//
// Claiming: the digest's home slot is picked as above; a use scans from there (linear
// probing) and stops at the first slot that it may take: an empty one, or one whose record is
// dead. A record is dead for a use whose forget_after lies in epoch k (forget_after / 256 s) when
// its own forget_after lies in epoch k - 2 or earlier: then it is before now (a use's
// forget_after is at most 240 s ahead), so its token can no longer be accepted anywhere. Whether
// a slot may be taken depends only on the slot and the digest, not on the caller's clock, and a
// slot that may not be taken never becomes takeable for that digest again (records only ever
// replace dead ones, with later epochs). So all racers for one token see the same first takeable
// slot, and a token recorded at slot p has no takeable slot before p: the compare-and-swap on the
// control word of that one slot decides the race, and the scan never needs to pass it.
//
// A slot is claimed by a CAS of its control word to "being written" (with the fingerprint and
// forget_after), then each digest word is written with a CAS from the value read before (so a
// writer that stalled past the slot's takeover cannot scribble over the new owner's digest), and
// the use is published by a CAS to "used" (release). A scan that meets a slot being written with
// its own fingerprint waits for it; one that stays so for a second belongs to a process that died
// mid-claim, which never answered: that token is treated as used (refused, never accepted twice).
constexpr char kMagic[8] = {'A', 'R', 'B', 'U', 'S', 'E', 'D', '\0'};
constexpr std::uint32_t kVersion = 2;           // written; 1 is still read (one shard)
constexpr std::uint32_t kShardSeconds = 8;      // a run holds the tokens of 8 s of expiries
constexpr std::uint32_t kMaxShards = 64;        // so runs come back every 512 s
constexpr std::uint64_t kMinShardSlots = 2048;  // 64 KiB: 16 pages
constexpr std::uint64_t kHeaderSize = 4096;
constexpr std::uint32_t kSlotSize = 32;
constexpr std::uint32_t kEpochSeconds = 256;
static_assert(SingleUseRegistry::kForgetAfterExpirySeconds +
                      SingleUseRegistry::kMaxExpiryAheadSeconds <=
                  kEpochSeconds,
              "a live record must be at most one epoch ahead");

constexpr std::uint64_t kStateShift = 62;
constexpr std::uint64_t kStateBusy = 1;
constexpr std::uint64_t kStateUsed = 2;
constexpr std::uint64_t kStateIssued = 3;
constexpr std::uint64_t kStateMask = std::uint64_t{3} << kStateShift;
// Header words (8-byte index) of the grant-change signal: changes in progress, generation.
constexpr size_t kInProgressWord = 8;
constexpr size_t kGenerationWord = 9;
constexpr std::uint64_t kFingerprintMask = (std::uint64_t{1} << 30) - 1;

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t slot_size;
  std::uint64_t slot_count;
  std::uint32_t epoch_seconds;
  std::uint32_t shard_count;  // 0 in version 1 files: one shard
  std::uint64_t checksum;
};
static_assert(sizeof(Header) == 40);

std::uint64_t HeaderChecksum(const Header& h) {
  const auto digest =
      Sha256(ByteView(reinterpret_cast<const std::uint8_t*>(&h), offsetof(Header, checksum)));
  std::uint64_t v;
  std::memcpy(&v, digest.data(), sizeof v);
  return v;
}

struct alignas(32) Slot {
  std::uint64_t control;
  std::uint64_t digest[3];
};
static_assert(sizeof(Slot) == kSlotSize);

std::uint64_t Load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t Epoch(std::uint64_t forget_after) { return forget_after / kEpochSeconds; }

// How many shards a new file of `slots` slots gets: as many as fit kMinShardSlots each, a power
// of two up to kMaxShards.
std::uint32_t ShardsFor(std::uint64_t slots) {
  std::uint32_t shards = 1;
  while (shards < kMaxShards && slots / (2 * shards) >= kMinShardSlots) shards *= 2;
  return shards;
}

std::string Errno(std::string_view what, const std::filesystem::path& path) {
  return std::string(what) + " " + QuotedPath(path) + ": " + std::strerror(errno);
}

class MappedSingleUseRegistry final : public SingleUseRegistry, public GrantChangeSignal {
 public:
  MappedSingleUseRegistry(std::filesystem::path path, int fd, void* map, std::uint64_t map_size,
                          std::uint64_t slots, std::uint32_t shards, bool sync_each_use)
      : path_(std::move(path)),
        fd_(fd),
        map_(map),
        map_size_(map_size),
        slots_(reinterpret_cast<Slot*>(static_cast<char*>(map) + kHeaderSize)),
        slot_count_(slots),
        shard_count_(shards),
        shard_slots_(slots / shards),
        sync_each_use_(sync_each_use) {}

  ~MappedSingleUseRegistry() override {
    ::munmap(map_, map_size_);
    ::close(fd_);  // releases the shared flock
  }

  std::string Describe() const override { return "single-use file " + QuotedPath(path_); }

  Result<UseOutcome> Use(const Sha256Digest& token_sha256, std::int64_t expires_at,
                         std::int64_t now) override {
    ARBITER_TRY(Outcome o, Scan(Mode::kUse, token_sha256, expires_at, now));
    return o == Outcome::kFirstUse ? UseOutcome::kFirstUse : UseOutcome::kAlreadyUsed;
  }

  Status RecordIssued(const Sha256Digest& token_sha256, std::int64_t expires_at,
                      std::int64_t now) override {
    ARBITER_TRY(Outcome o, Scan(Mode::kRecordIssued, token_sha256, expires_at, now));
    if (o == Outcome::kAlreadyUsed) {
      return Status::AlreadyExists("a token with this digest was already used");
    }
    return Status::Ok();
  }

  Result<IssuedUse> UseIfIssued(const Sha256Digest& token_sha256, std::int64_t expires_at,
                                std::int64_t now) override {
    ARBITER_TRY(Outcome o, Scan(Mode::kUseIfIssued, token_sha256, expires_at, now));
    switch (o) {
      case Outcome::kFirstUse: return IssuedUse::kFirstUse;
      case Outcome::kAlreadyUsed: return IssuedUse::kAlreadyUsed;
      default: return IssuedUse::kNotRecorded;
    }
  }

  Result<bool> Recorded(const Sha256Digest& token_sha256, std::int64_t expires_at,
                        std::int64_t now) override {
    ARBITER_TRY(Outcome o, Scan(Mode::kLookup, token_sha256, expires_at, now));
    return o != Outcome::kNotRecorded;
  }

  GrantChangeSignal* grant_changes() override { return this; }

  // GrantChangeSignal, on two words of the header shared by every process mapping the file.
  void BeginChange() override {
    InProgress().fetch_add(1, std::memory_order_seq_cst);
    Generation().fetch_add(1, std::memory_order_seq_cst);
  }
  void EndChange() override {
    Generation().fetch_add(1, std::memory_order_seq_cst);
    InProgress().fetch_sub(1, std::memory_order_seq_cst);
  }
  std::optional<std::uint64_t> Stamp() override {
    if (InProgress().load(std::memory_order_seq_cst) != 0) return std::nullopt;
    const std::uint64_t g = Generation().load(std::memory_order_seq_cst);
    if (InProgress().load(std::memory_order_seq_cst) != 0) return std::nullopt;
    return g;
  }

 private:
  enum class Mode : std::uint8_t { kUse, kRecordIssued, kUseIfIssued, kLookup };
  enum class Outcome : std::uint8_t { kFirstUse, kAlreadyUsed, kIssued, kNotRecorded };

  std::atomic_ref<std::uint64_t> InProgress() {
    return std::atomic_ref<std::uint64_t>(HeaderWords()[kInProgressWord]);
  }
  std::atomic_ref<std::uint64_t> Generation() {
    return std::atomic_ref<std::uint64_t>(HeaderWords()[kGenerationWord]);
  }
  std::uint64_t* HeaderWords() { return static_cast<std::uint64_t*>(map_); }

  Result<Outcome> Scan(Mode mode, const Sha256Digest& token_sha256, std::int64_t expires_at,
                       std::int64_t now) {
    if (expires_at <= now - kForgetAfterExpirySeconds ||
        expires_at > now + kMaxExpiryAheadSeconds || expires_at > 0xffffffffLL - 3600) {
      return Status::InvalidArgument("a token expiring at " + std::to_string(expires_at) +
                                     " cannot be recorded at " + std::to_string(now) +
                                     " (must expire within " +
                                     std::to_string(kMaxExpiryAheadSeconds) + " s)");
    }
    const auto forget_after = static_cast<std::uint64_t>(expires_at + kForgetAfterExpirySeconds);
    const std::uint64_t epoch = Epoch(forget_after);
    const std::array<std::uint64_t, 3> words = {Load64(token_sha256.data()),
                                                Load64(token_sha256.data() + 8),
                                                Load64(token_sha256.data() + 16)};
    const std::uint64_t fingerprint = Load64(token_sha256.data() + 24) & kFingerprintMask;
    const std::uint64_t mine = (fingerprint << 32) | forget_after;
    const std::uint64_t home = shard_count_ == 1
                                   ? words[0] % slot_count_
                                   : (forget_after / kShardSeconds) % shard_count_ * shard_slots_ +
                                         words[0] % shard_slots_;

    for (int attempt = 0; attempt < 64; ++attempt) {
      std::uint64_t index = home;
      bool restart = false;
      for (std::uint64_t probed = 0; probed < slot_count_ && !restart; ++probed) {
        Slot& slot = slots_[index];
        std::atomic_ref<std::uint64_t> control(slot.control);
        std::uint64_t c = control.load(std::memory_order_acquire);
        std::optional<std::chrono::steady_clock::time_point> wait_start;
        while (true) {
          const std::uint64_t state = c >> kStateShift;
          if (c == 0 || Epoch(c & 0xffffffffu) + 2 <= epoch) {
            // The first slot this token may take, so it is recorded nowhere: claim the slot (or
            // start over if someone else changed it first).
            if (mode == Mode::kUseIfIssued || mode == Mode::kLookup) return Outcome::kNotRecorded;
            const std::uint64_t final_state = mode == Mode::kUse ? kStateUsed : kStateIssued;
            if (Claim(slot, c, mine, final_state, words)) {
              ARBITER_RETURN_IF_ERROR(Sync(slot));
              return mode == Mode::kUse ? Outcome::kFirstUse : Outcome::kIssued;
            }
            restart = true;
            break;
          }
          if (((c >> 32) & kFingerprintMask) != fingerprint) break;  // live, another token
          if (state == kStateUsed || state == kStateIssued) {
            const bool same = SameDigest(slot, words);
            std::atomic_thread_fence(std::memory_order_acquire);
            const std::uint64_t again = control.load(std::memory_order_relaxed);
            if (again != c) {  // changed while we read it: look again
              c = again;
              continue;
            }
            if (!same) break;
            if (state == kStateUsed) return Outcome::kAlreadyUsed;
            if (mode == Mode::kRecordIssued || mode == Mode::kLookup) return Outcome::kIssued;
            // Issued and unused: this CAS is the use; of racers for it, exactly one succeeds.
            if (control.compare_exchange_strong(c, (kStateUsed << kStateShift) | (c & ~kStateMask),
                                                std::memory_order_acq_rel)) {
              ARBITER_RETURN_IF_ERROR(Sync(slot));
              return Outcome::kFirstUse;
            }
            continue;  // `c` now holds what changed it
          }
          // Being written with our fingerprint: probably our token, by a racer. Wait for it.
          const auto t = std::chrono::steady_clock::now();
          if (!wait_start) wait_start = t;
          if (t - *wait_start > std::chrono::seconds(1)) {
            // Its writer died mid-claim and never answered: the token counts as used.
            return Outcome::kAlreadyUsed;
          }
          ::sched_yield();
          c = control.load(std::memory_order_acquire);
        }
        if (++index == slot_count_) index = 0;
      }
      if (!restart) {
        return Status::ResourceExhausted(
            Describe() + " is full: all " + std::to_string(slot_count_) +
            " slots hold tokens that are still live; raise its slot count");
      }
    }
    return Status::Unavailable(Describe() + " is too contended: gave up after 64 attempts");
  }

  static bool SameDigest(Slot& slot, const std::array<std::uint64_t, 3>& words) {
    for (int i = 0; i < 3; ++i) {
      if (std::atomic_ref<std::uint64_t>(slot.digest[i]).load(std::memory_order_relaxed) !=
          words[i]) {
        return false;
      }
    }
    return true;
  }

  // Takes `slot` (whose control word was `seen`) for the digest `words`. False when another
  // writer changed the slot first.
  static bool Claim(Slot& slot, std::uint64_t seen, std::uint64_t mine, std::uint64_t final_state,
                    const std::array<std::uint64_t, 3>& words) {
    std::atomic_ref<std::uint64_t> control(slot.control);
    const std::uint64_t busy = (kStateBusy << kStateShift) | mine;
    if (!control.compare_exchange_strong(seen, busy, std::memory_order_acquire)) return false;
    for (int i = 0; i < 3; ++i) {
      std::atomic_ref<std::uint64_t> word(slot.digest[i]);
      std::uint64_t old = word.load(std::memory_order_relaxed);
      if (!word.compare_exchange_strong(old, words[i], std::memory_order_relaxed)) return false;
    }
    std::uint64_t expected = busy;
    return control.compare_exchange_strong(expected, (final_state << kStateShift) | mine,
                                           std::memory_order_release);
  }

  Status Sync(Slot& slot) {
    if (sync_each_use_) {
      const auto page_size = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
      auto* page =
          reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(&slot) & ~(page_size - 1));
      if (::msync(page, page_size, MS_SYNC) != 0) {
        return Status::Unavailable(Errno("cannot sync", path_));
      }
    }
    return Status::Ok();
  }

  std::filesystem::path path_;
  int fd_;
  void* map_;
  std::uint64_t map_size_;
  Slot* slots_;
  std::uint64_t slot_count_;
  std::uint64_t shard_count_;
  std::uint64_t shard_slots_;  // slots per shard
  bool sync_each_use_;
};

// Writes a fresh registry file under a temporary name and links it into place, so that a reader
// never sees a half-written header; when another process created it first, theirs is kept.
Status CreateFile(const std::filesystem::path& path, std::uint64_t slots) {
  std::array<std::uint8_t, 8> tag;
  SecureRandom().Fill(tag);
  const std::filesystem::path tmp = path.string() + ".tmp-" + HexEncode(tag);
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable(Errno("cannot create", tmp));
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kVersion;
  h.slot_size = kSlotSize;
  h.slot_count = slots;
  h.epoch_seconds = kEpochSeconds;
  h.shard_count = ShardsFor(slots);
  h.checksum = HeaderChecksum(h);
  Status s;
  if (::pwrite(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h) ||
      ::ftruncate(fd, static_cast<off_t>(kHeaderSize + slots * kSlotSize)) != 0 ||
      ::fsync(fd) != 0) {
    s = Status::Unavailable(Errno("cannot write", tmp));
  }
  ::close(fd);
  if (s.ok() && ::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    s = Status::Unavailable(Errno("cannot create", path));
  }
  ::unlink(tmp.c_str());
  return s;
}

}  // namespace

Result<std::unique_ptr<SingleUseRegistry>> OpenMappedSingleUseRegistry(
    const MappedSingleUseOptions& options) {
  const auto& path = options.path;
  if (options.slots < kMinSingleUseSlots || options.slots > kMaxSingleUseSlots) {
    return Status::InvalidArgument(
        "single-use slot count must be between " + std::to_string(kMinSingleUseSlots) + " and " +
        std::to_string(kMaxSingleUseSlots) + ", got " + std::to_string(options.slots));
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    ARBITER_RETURN_IF_ERROR(CreateFile(path, options.slots));
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  }
  if (fd < 0) return Status::Unavailable(Errno("cannot open", path));
  struct FdCloser {
    int fd;
    ~FdCloser() {
      if (fd >= 0) ::close(fd);
    }
  } closer{fd};

  const std::string where = "single-use file " + QuotedPath(path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::Unavailable(Errno("cannot stat", path));
  if (!S_ISREG(st.st_mode)) return Status::FailedPrecondition(where + " is not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  Header h{};
  if (size < sizeof h || ::pread(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) {
    return Status::DataLoss(where + " is truncated: " + std::to_string(size) +
                            " bytes, shorter than its header");
  }
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) {
    return Status::DataLoss(where + " is not an arbiter single-use registry (bad magic)");
  }
  if (h.version != 1 && h.version != kVersion) {
    return Status::FailedPrecondition(where + " has format version " + std::to_string(h.version) +
                                      "; this arbiter reads versions 1 and " +
                                      std::to_string(kVersion));
  }
  const std::uint32_t shards = h.version == 1 ? 1 : h.shard_count;
  if (h.checksum != HeaderChecksum(h) || h.slot_size != kSlotSize ||
      h.epoch_seconds != kEpochSeconds || h.slot_count < kMinSingleUseSlots ||
      h.slot_count > kMaxSingleUseSlots || (h.version == 1 && h.shard_count != 0) || shards < 1 ||
      shards > kMaxShards || h.slot_count / shards < kMinSingleUseSlots / 2) {
    return Status::DataLoss(where + " has a corrupt header");
  }
  const std::uint64_t expected_size = kHeaderSize + h.slot_count * kSlotSize;
  if (size != expected_size) {
    return Status::DataLoss(where + " is " + std::to_string(size) + " bytes, but its header says " +
                            std::to_string(h.slot_count) + " slots (" +
                            std::to_string(expected_size) + " bytes): truncated or corrupt");
  }
  if (h.slot_count != options.slots) {
    return Status::FailedPrecondition(
        where + " has " + std::to_string(h.slot_count) + " slots, but " +
        std::to_string(options.slots) +
        " are configured; configure its size, or remove it while no arbiter runs (uses of the "
        "last few minutes are then forgotten)");
  }
  void* map = ::mmap(nullptr, expected_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, /*offset=*/0);
  if (map == MAP_FAILED) return Status::Unavailable(Errno("cannot map", path));
  // Every process keeps a shared flock while it has the file open. One that finds itself alone
  // clears the grant-change counter: a process that died inside a grant change left it raised,
  // which (safely) keeps every grant cache off until then.
  const bool alone = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  if (alone) {
    std::atomic_ref<std::uint64_t>(static_cast<std::uint64_t*>(map)[kInProgressWord])
        .store(0, std::memory_order_seq_cst);
  }
  if (::flock(fd, LOCK_SH) != 0) {
    ::munmap(map, expected_size);
    return Status::Unavailable(Errno("cannot lock", path));
  }
  auto registry = std::make_unique<MappedSingleUseRegistry>(
      path, fd, map, expected_size, h.slot_count, shards, options.sync_each_use);
  closer.fd = -1;  // the registry owns it now
  return std::unique_ptr<SingleUseRegistry>(std::move(registry));
}

Result<SingleUseBackend> ParseSingleUseBackend(std::string_view name) {
  if (name == "store") return SingleUseBackend::kStore;
  if (name == "mmap") return SingleUseBackend::kMappedFile;
  return Status::InvalidArgument("single-use backend " + Quoted(name) +
                                 " is unknown; use `store` or `mmap`");
}

std::string_view SingleUseBackendName(SingleUseBackend b) {
  return b == SingleUseBackend::kMappedFile ? "mmap" : "store";
}

Result<std::unique_ptr<SingleUseRegistry>> OpenSingleUseRegistry(
    const SingleUseConfig& config, const std::filesystem::path& data_dir) {
  if (config.backend == SingleUseBackend::kStore) return std::unique_ptr<SingleUseRegistry>();
  MappedSingleUseOptions o;
  o.path = data_dir / kSingleUseFileName;
  o.slots = config.slots;
  o.sync_each_use = config.sync_each_use;
  return OpenMappedSingleUseRegistry(o);
}

}  // namespace arbiter::grants
