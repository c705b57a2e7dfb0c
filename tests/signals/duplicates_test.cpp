#include "arbiter/signals/duplicates.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <thread>

namespace arbiter::signals {
namespace {

const char* kOutage =
    "Since 09:40 our checkout page fails for every card payment with error 502 and customers "
    "cannot complete orders. We restarted the browser and tried several cards, nothing helps.";
const char* kOutageResent =
    "Hello team, since 09:40 our checkout page fails for every card payment with error 502 and "
    "customers cannot complete orders. We tried several cards, nothing helps. Regards, Kim";
const char* kOther =
    "I would like to change the delivery address of my order to my office in Munich, the parcel "
    "has not shipped yet according to the tracking page.";

TEST(DuplicateIndex, FindsResentCaseWithClusterSize) {
  DuplicateIndex index;
  ASSERT_TRUE(index.Add("c-1", kOutage));
  ASSERT_TRUE(index.Add("c-2", kOther));
  auto m = index.Query(kOutageResent);
  EXPECT_EQ(m.duplicate_of, "c-1");
  EXPECT_GE(m.similarity, 0.5);
  EXPECT_EQ(m.cluster_size, 1u);

  auto fresh = index.Add("c-9", "A question about VAT numbers on invoices for Spain");
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->is_duplicate());
  EXPECT_EQ(fresh->cluster_size, 1u);
  auto added = index.Add("c-3", kOutageResent);
  ASSERT_TRUE(added);
  EXPECT_EQ(added->duplicate_of, "c-1");
  EXPECT_EQ(added->cluster_size, 2u);  // c-1 and c-3
  EXPECT_EQ(index.Query(kOutage).cluster_size, 2u);
  EXPECT_FALSE(index
                   .Query("A completely unrelated question about invoices and VAT numbers in "
                          "Spain for the last quarter of the year")
                   .is_duplicate());
}

// The same request about different order numbers comes from different customers: not a duplicate.
// The same order number, or a resend that adds an identifier the open case lacks, still is.
TEST(DuplicateIndex, DifferentIdentifiersAreDifferentProblems) {
  DuplicateIndex index;
  ASSERT_TRUE(index.Add("c-1", "I don't know what I have to do to download my invoice #85632"));
  EXPECT_FALSE(
      index.Query("I don't know what I have to do to download my invoice #00108").is_duplicate());
  EXPECT_EQ(index.Query("i don't know what i have to do to download my invoice #85632, help")
                .duplicate_of,
            "c-1");
  ASSERT_TRUE(index.Add("c-2", kOutage));
  EXPECT_EQ(index.Query(std::string(kOutageResent) + " -- customer 448812").duplicate_of, "c-2");
  // The similarity itself ignores identifiers; the index applies the rule.
  EXPECT_GT(EstimatedSimilarity("I don't know what I have to do to download my invoice #85632",
                                "I don't know what I have to do to download my invoice #00108"),
            0.5);
}

TEST(DuplicateIndex, ClosedCasesLeaveTheIndex) {
  DuplicateIndex index;
  ASSERT_TRUE(index.Add("c-1", kOutage));
  ASSERT_TRUE(index.Add("c-3", kOutageResent));
  ASSERT_TRUE(index.Remove("c-1").ok());
  auto m = index.Query(kOutage);
  EXPECT_EQ(m.duplicate_of, "c-3");
  EXPECT_EQ(m.cluster_size, 1u);
  ASSERT_TRUE(index.Remove("c-3").ok());
  EXPECT_FALSE(index.Query(kOutage).is_duplicate());
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.Remove("c-3").code(), StatusCode::kNotFound);
}

TEST(DuplicateIndex, RejectsBadIds) {
  DuplicateIndex index;
  EXPECT_EQ(index.Add("", "x").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Add(std::string(300, 'a'), "x").error().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(index.Add("a", "x y z"));
  EXPECT_EQ(index.Add("a", "x y z").error().code(), StatusCode::kAlreadyExists);
  // Texts without words are stored (and removable) but match nothing.
  ASSERT_TRUE(index.Add("empty", "  ... !!! "));
  EXPECT_FALSE(index.Query("  ... !!! ").is_duplicate());
  EXPECT_TRUE(index.Remove("empty").ok());
}

// Adding an id that is open already is refused and changes nothing: callers (CaseSignals) add a
// case they may have added before and take kAlreadyExists as "known".
TEST(DuplicateIndex, AddOfAnOpenIdChangesNothing) {
  DuplicateIndex index;
  ASSERT_TRUE(index.Add("c-1", kOutage));
  ASSERT_TRUE(index.Add("c-2", kOutageResent));
  const size_t memory = index.MemoryBytes();
  EXPECT_EQ(index.Add("c-2", kOutage).error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(index.Add("c-1", "an unrelated text").error().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.MemoryBytes(), memory);
  EXPECT_EQ(index.Query(kOutage).cluster_size, 2u);
  ASSERT_TRUE(index.Remove("c-2").ok());
  EXPECT_EQ(index.Query(kOutage).cluster_size, 1u);
  EXPECT_FALSE(index.Contains("c-2"));
}

// Ids are found by hash and then by comparing the whole id: ids that share long prefixes (the
// load generator's `L-<16 digits>`) or differ only in length stay distinct through growth and
// backward-shift deletion.
TEST(DuplicateIndex, SimilarIdsStayDistinct) {
  DuplicateIndex index;
  constexpr int kN = 5000;
  auto id = [](int i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "L-%016d", i);
    return std::string(buf);
  };
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(index.Add(id(i), kOutage)) << i;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(index.Contains(id(i))) << i;
    ASSERT_FALSE(index.Contains(id(i) + "0")) << i;
    ASSERT_FALSE(index.Contains(id(i).substr(0, 17))) << i;
  }
  for (int i = 0; i < kN; i += 3) ASSERT_TRUE(index.Remove(id(i)).ok()) << i;
  for (int i = 0; i < kN; ++i) ASSERT_EQ(index.Contains(id(i)), i % 3 != 0) << i;
  for (int i = 0; i < kN; i += 3) ASSERT_TRUE(index.Add(id(i), kOutage)) << i;
  EXPECT_EQ(index.size(), static_cast<size_t>(kN));
  EXPECT_EQ(index.Query(kOutage).cluster_size, static_cast<std::uint32_t>(kN));
}

// Many adds and removes keep the tables consistent (backward-shift deletion), and memory stays
// within the budget of 300 bytes per case.
TEST(DuplicateIndex, ChurnKeepsTablesConsistentAndMemoryBounded) {
  DuplicateIndex index;
  std::mt19937_64 rng(3);
  auto text = [](size_t i) {
    std::string t = std::string("ticket ") + std::to_string(i) + " ";
    std::mt19937_64 r(i);
    for (int w = 0; w < 40; ++w) t += std::string("w") + std::to_string(r() % 5000) + " ";
    return t;
  };
  constexpr size_t kN = 6000;
  for (size_t i = 0; i < kN; ++i)
    ASSERT_TRUE(index.Add(std::string("case-") + std::to_string(i), text(i)));
  for (size_t i = 0; i < kN; i += 2)
    ASSERT_TRUE(index.Remove(std::string("case-") + std::to_string(i)).ok());
  for (size_t i = 1; i < kN; i += 98) {
    auto m = index.Query(text(i));
    EXPECT_EQ(m.duplicate_of, std::string("case-") + std::to_string(i));
    EXPECT_DOUBLE_EQ(m.similarity, 1.0);
  }
  for (size_t i = 0; i < kN; i += 194)
    EXPECT_NE(index.Query(text(i)).duplicate_of, std::string("case-") + std::to_string(i));
  EXPECT_EQ(index.size(), kN / 2);
  EXPECT_LE(index.MemoryBytes() / kN, 300u);
}

// An outage storm of identical reports stays cheap and counts as one cluster.
TEST(DuplicateIndex, StormOfIdenticalReports) {
  DuplicateIndex index;
  ASSERT_TRUE(index.Add("first", kOutage));
  for (int i = 0; i < 3000; ++i) {
    auto m = index.Add(std::string("storm-") + std::to_string(i), kOutage);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->cluster_size, static_cast<std::uint32_t>(i + 2));
  }
  auto q = index.Query(kOutageResent);
  EXPECT_TRUE(q.is_duplicate());
  EXPECT_EQ(q.cluster_size, 3001u);
  for (int i = 0; i < 3000; ++i)
    ASSERT_TRUE(index.Remove(std::string("storm-") + std::to_string(i)).ok());
  EXPECT_EQ(index.Query(kOutage).duplicate_of, "first");
  EXPECT_EQ(index.Query(kOutage).cluster_size, 1u);
  EXPECT_EQ(index.size(), 1u);
}

TEST(DuplicateIndex, ConcurrentQueriesAndUpdates) {
  DuplicateIndex index;
  ASSERT_TRUE(index.Add("base", kOutage));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&index, t] {
      for (int i = 0; i < 200; ++i) {
        if (t == 0) {
          const std::string id = std::string("w") + std::to_string(i);
          (void)index.Add(id, kOther);
          (void)index.Remove(id);
        } else {
          EXPECT_EQ(index.Query(kOutage).duplicate_of, "base");
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(index.size(), 1u);
}

}  // namespace
}  // namespace arbiter::signals
