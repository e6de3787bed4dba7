#include "record.h"

#include <gtest/gtest.h>

#include <string>

namespace kv::lab02 {
namespace {

std::string encoded(const Record& record) {
  std::string out;
  encode_record(record, out);
  return out;
}

TEST(RecordTest, SetRoundTripsAnyBytes) {
  std::string key("k\0\r\n\xff", 5);
  std::string value(300, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i);
  std::string bytes = encoded({RecordType::kSet, key, value, 0});
  Record out;
  DecodeResult result = decode_record(bytes, out);
  ASSERT_EQ(result.status, Decoded::kOk) << result.reason;
  EXPECT_EQ(result.size, bytes.size());
  EXPECT_EQ(out.type, RecordType::kSet);
  EXPECT_EQ(out.key, key);
  EXPECT_EQ(out.value, value);
}

TEST(RecordTest, EmptyKeyAndValueRoundTrip) {
  Record out;
  std::string bytes = encoded({RecordType::kSet, "", "", 0});
  ASSERT_EQ(decode_record(bytes, out).status, Decoded::kOk);
  EXPECT_EQ(out.key, "");
  EXPECT_EQ(out.value, "");
}

TEST(RecordTest, DelAndEndRoundTrip) {
  Record out;
  ASSERT_EQ(
      decode_record(encoded({RecordType::kDel, "gone", "", 0}), out).status,
      Decoded::kOk);
  EXPECT_EQ(out.type, RecordType::kDel);
  EXPECT_EQ(out.key, "gone");
  ASSERT_EQ(
      decode_record(encoded({RecordType::kEnd, "", "", 1234567}), out).status,
      Decoded::kOk);
  EXPECT_EQ(out.type, RecordType::kEnd);
  EXPECT_EQ(out.count, 1234567u);
}

TEST(RecordTest, LayoutMatchesTheFormat) {
  std::string bytes = encoded({RecordType::kSet, "ab", "xyz", 0});
  // length = type (1) + key length (4) + key (2) + value (3)
  ASSERT_EQ(bytes.size(), 8u + 10u);
  EXPECT_EQ(bytes.substr(0, 4), std::string("\x0a\0\0\0", 4));
  EXPECT_EQ(bytes[8], 1);  // SET
  EXPECT_EQ(bytes.substr(9, 4), std::string("\x02\0\0\0", 4));
  EXPECT_EQ(bytes.substr(13), "abxyz");
}

TEST(RecordTest, EveryCutIsTruncated) {
  std::string bytes = encoded({RecordType::kSet, "key", "value", 0});
  Record out;
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_EQ(decode_record(bytes.substr(0, n), out).status,
              Decoded::kTruncated)
        << "cut at " << n;
}

TEST(RecordTest, EveryFlippedBitIsDetected) {
  const std::string bytes = encoded({RecordType::kSet, "key", "value", 0});
  Record out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      // A damaged length may also claim more bytes than there are.
      EXPECT_NE(decode_record(damaged, out).status, Decoded::kOk)
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(RecordTest, ImpossibleLengthsAreBad) {
  Record out;
  EXPECT_EQ(decode_record(std::string(16, '\0'), out).status, Decoded::kBad);
  std::string huge("\xff\xff\xff\x7f", 4);
  huge += std::string(8, 'x');
  EXPECT_EQ(decode_record(huge, out).status, Decoded::kBad);
}

TEST(RecordTest, FileHeaders) {
  std::string header = encode_file_header(FileKind::kLog, 7);
  ASSERT_EQ(header.size(), kFileHeaderBytes);
  EXPECT_TRUE(check_file_header(header, FileKind::kLog, 7));
  EXPECT_FALSE(check_file_header(header, FileKind::kLog, 8));
  EXPECT_FALSE(check_file_header(header, FileKind::kCheckpoint, 7));
  EXPECT_FALSE(check_file_header(header.substr(0, 15), FileKind::kLog, 7));
  EXPECT_TRUE(is_header_prefix("", FileKind::kLog, 7));
  EXPECT_TRUE(is_header_prefix(header.substr(0, 5), FileKind::kLog, 7));
  EXPECT_FALSE(is_header_prefix("junk", FileKind::kLog, 7));
}

}  // namespace
}  // namespace kv::lab02
