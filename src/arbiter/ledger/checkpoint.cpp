#include "arbiter/ledger/checkpoint.h"

#include <charconv>

namespace arbiter::ledger {
namespace {

Status Bad(std::string_view why) {
  return Status::InvalidArgument("malformed checkpoint: " + std::string(why));
}

}  // namespace

std::string FormatCheckpointBody(std::string_view origin, std::uint64_t size, ByteView root) {
  std::string out(origin);
  out += '\n';
  out += std::to_string(size);
  out += '\n';
  out += Base64Encode(root);
  out += '\n';
  return out;
}

std::string Checkpoint::Format() const {
  std::string out = FormatCheckpointBody(origin, size, root);
  for (const std::string& e : extensions) {
    out += e;
    out += '\n';
  }
  return out;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  if (text.empty() || text.back() != '\n') return Bad("text must end with a newline");
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    const size_t nl = text.find('\n', pos);
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (lines.size() < 3) return Bad("expected origin, size and root lines");
  Checkpoint cp;
  if (lines[0].empty()) return Bad("line 1: empty origin");
  cp.origin = std::string(lines[0]);
  const std::string_view size = lines[1];
  if (size.empty() || (size.size() > 1 && size[0] == '0')) {
    return Bad("line 2: size `" + std::string(size.substr(0, 32)) + "` is not a canonical number");
  }
  const auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), cp.size);
  if (ec != std::errc() || ptr != size.data() + size.size()) {
    return Bad("line 2: size `" + std::string(size.substr(0, 32)) + "` is not a canonical number");
  }
  auto root = Base64Decode(lines[2]);
  if (!root) return Bad("line 3: root is not base64");
  auto hash = HashFromBytes(*root);
  if (!hash) return Bad("line 3: root has " + std::to_string(root->size()) + " bytes, expected 32");
  cp.root = *hash;
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return Bad("line " + std::to_string(i + 1) + ": empty extension line");
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

Result<SignedCheckpoint> OpenCheckpoint(std::string_view note,
                                        std::span<const NoteVerifierKey> verifiers,
                                        std::string_view origin) {
  ARBITER_TRY(OpenedNote opened, OpenNote(note, verifiers));
  ARBITER_TRY(Checkpoint cp, ParseCheckpoint(opened.text));
  if (!origin.empty() && cp.origin != origin) {
    return Status::InvalidArgument("checkpoint origin `" + cp.origin + "` is not `" +
                                   std::string(origin) + "`");
  }
  return SignedCheckpoint{std::move(cp), std::string(note)};
}

}  // namespace arbiter::ledger
