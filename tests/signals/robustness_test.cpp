// The scanner never crashes, hangs or produces invalid spans, whatever the bytes.
#include <gtest/gtest.h>

#include <random>

#include "arbiter/signals/duplicates.h"
#include "arbiter/signals/sensitivity.h"

namespace arbiter::signals {
namespace {

void ExpectValidSpans(std::string_view text, const ScanResult& r) {
  size_t last = 0;
  for (const auto& s : r.spans) {
    ASSERT_LE(last, s.begin);
    ASSERT_LT(s.begin, s.end);
    ASSERT_LE(s.end, text.size());
    last = s.end;
  }
}

TEST(ScannerRobustness, RandomBytesAndInvalidUtf8) {
  std::mt19937_64 rng(11);
  const std::string alphabet = "0123456789 +-().@:/_=abcdefABCDEF\xc3\xff\x80\n";
  for (int i = 0; i < 2000; ++i) {
    std::string s(static_cast<size_t>(rng() % 512), '\0');
    const bool biased = i % 2 == 0;  // half from a hostile alphabet, half fully random
    for (auto& ch : s) ch = biased ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng());
    const ScanResult r = ScanText(s);
    ExpectValidSpans(s, r);
    const std::string red = Redact(s, r.spans);
    (void)red;
  }
}

// Ten megabytes of pathological input of each shape is scanned in one linear pass.
TEST(ScannerRobustness, TenMegabyteBodies) {
  constexpr size_t kSize = 10u << 20;
  constexpr size_t kSmall = 1u << 20;  // the other shapes at 1 MB keep the suite fast under ASan
  const std::string shapes[] = {std::string(kSize, '@'),  std::string(kSmall, '1'),
                                std::string(kSmall, 'A'), std::string(kSmall, ':'),
                                std::string(kSmall, '-'), std::string(kSmall, '\xff')};
  for (const auto& s : shapes) {
    const ScanResult r = ScanText(s);
    ExpectValidSpans(s, r);
  }
  std::string mixed;
  while (mixed.size() < kSize) mixed += "a@b.co 4111 1111 1111 1111 pwd=Xy12ab!z 10.0.0.1 ";
  const ScanResult r = ScanText(mixed);
  ExpectValidSpans(mixed, r);
  EXPECT_GT(r.count(Kind::kCard), 100000u);
  DuplicateIndex index;
  ASSERT_TRUE(index.Add("big", mixed));  // only the first max_text_bytes are read
}

TEST(ScannerRobustness, UnterminatedConstructs) {
  for (std::string s :
       {"-----BEGIN RSA PRIVATE KEY-----\nabc", "eyJhbGciOi.eyJ", "+", "(",
        "::", "password:", "密码", "DE89", "ghp_", "a@", "@b.c", "1.2.3.", "2001:db8::g"}) {
    ExpectValidSpans(s, ScanText(s));
  }
}

}  // namespace
}  // namespace arbiter::signals
