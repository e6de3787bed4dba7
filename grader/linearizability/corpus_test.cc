// The checker against histories nobody here wrote: Jepsen's runs against
// etcd (one register each) and porcupine's many-key kv histories, with the
// verdicts Knossos and porcupine established (grader/testdata/
// linearizability/, its README says where they come from). Every verdict
// must be reproduced.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "checker.h"

namespace kv::linearizability {
namespace {

struct Listed {
  std::string file;
  bool linearizable = false;
};

std::vector<Listed> listed() {
  std::vector<Listed> out;
  std::ifstream in(std::string(KVLAB_CORPUS_DIR) + "/verdicts.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Listed l;
    std::string verdict;
    if (fields >> l.file >> verdict) {
      l.linearizable = verdict == "true";
      out.push_back(l);
    }
  }
  return out;
}

class CorpusTest : public ::testing::TestWithParam<Listed> {};

TEST_P(CorpusTest, VerdictReproduced) {
  const Listed& l = GetParam();
  Result<History> history =
      read_history(std::string(KVLAB_CORPUS_DIR) + "/" + l.file);
  ASSERT_TRUE(history.ok()) << history.status().to_string();
  ASSERT_FALSE(history.value().operations.empty());
  std::unique_ptr<Model> model =
      l.file.starts_with("kv/") ? kv_model() : register_model();
  CheckResult result = check(history.value(), *model);
  EXPECT_EQ(result.verdict,
            l.linearizable ? Verdict::kLinearizable : Verdict::kNotLinearizable)
      << l.file << ": " << result.summary;
}

INSTANTIATE_TEST_SUITE_P(Listed, CorpusTest, ::testing::ValuesIn(listed()),
                         [](const ::testing::TestParamInfo<Listed>& info) {
                           std::string name = info.param.file;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return name;
                         });

TEST(CorpusListTest, EveryFileIsListed) {
  EXPECT_EQ(listed().size(), 56u);  // 52 etcd + 4 kv
}

}  // namespace
}  // namespace kv::linearizability
