// The schema table is well formed, and docs/chips.md shows exactly the table the code validates against.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "chip_test_util.h"
#include "chips/schema.h"

namespace xpusim::chips::test {
namespace {

TEST(ChipSchema, RowsAreWellFormed) {
  std::set<std::string> paths;
  for (const SchemaField& field : chip_schema()) {
    SCOPED_TRACE(field.path);
    EXPECT_TRUE(paths.insert(field.path).second) << "duplicate row";
    EXPECT_FALSE(field.doc.empty());
    // Every nested key sits under a TABLE or TABLE_ARRAY row.
    const size_t dot = field.path.rfind('.');
    if (dot != std::string::npos) {
      std::string parent = field.path.substr(0, dot);
      const bool in_array = parent.ends_with("[]");
      if (in_array) parent.resize(parent.size() - 2);
      const SchemaField* parent_row = find_schema_field(parent);
      ASSERT_NE(parent_row, nullptr) << "no row for parent " << parent;
      EXPECT_EQ(parent_row->type, in_array ? FieldType::TABLE_ARRAY : FieldType::TABLE);
    }
    if (field.type == FieldType::ENUM) {
      EXPECT_FALSE(field.allowed.empty());
    }
    if (field.type == FieldType::NUMBER || field.type == FieldType::INTEGER) {
      EXPECT_LE(field.min, field.max);
    }
    // Units live in key names (STYLE 5): a key with a unit ends in a unit suffix.
    if (!field.unit.empty() && field.group != "capacity") {
      const bool suffixed =
          field.path.ends_with("_mhz") || field.path.ends_with("_gbps") || field.path.ends_with("_ns") ||
          field.path.ends_with("_us") || field.path.ends_with("_w") || field.path.ends_with("_byte") ||
          field.path.ends_with("_bit") || field.path.ends_with("_unit") || field.path.ends_with("_usd") ||
          field.path.find("peak_tflops.") != std::string::npos ||
          field.path.find("pj_per_mac.") != std::string::npos;
      EXPECT_TRUE(suffixed) << "unit '" << field.unit << "' is not in the key name";
    }
  }
}

TEST(ChipSchema, PrecisionAndFamilyRowsFollowTheirTables) {
  for (const auto& p : precision_table()) {
    EXPECT_NE(find_schema_field("compute.peak_tflops." + std::string(p.name)), nullptr) << p.name;
    EXPECT_NE(find_schema_field("energy.pj_per_mac." + std::string(p.name)), nullptr) << p.name;
    EXPECT_EQ(precision_from_name(p.name), p.precision);
  }
  const SchemaField* family = find_schema_field("family");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->allowed.size(), family_table().size());
  for (const auto& row : family_table()) EXPECT_EQ(family_from_name(row.name), row.family);
}

TEST(ChipSchema, DocsTableHasNotDrifted) {
  const std::filesystem::path doc = std::filesystem::path(XPUSIM_SOURCE_DIR) / "docs" / "chips.md";
  std::ifstream in(doc);
  ASSERT_TRUE(in) << doc;
  std::stringstream text;
  text << in.rdbuf();
  const bool up_to_date = replace_doc_table(text.str()) == text.str();
  EXPECT_TRUE(up_to_date) << "docs/chips.md is out of date: run `xpusim chips --schema-doc docs/chips.md`";
}

TEST(ChipSchema, DocsRewriteNeedsMarkers) {
  expect_error_of([] { (void)replace_doc_table("no markers here"); }, {"markers", "not found"});
  const std::string doc = std::string("intro\n") + std::string(kDocBeginMarker) + "\nOLD-TABLE-CONTENT\n" +
                          std::string(kDocEndMarker) + "\nafter\n";
  const std::string updated = replace_doc_table(doc);
  EXPECT_NE(updated.find("| `memory[].bandwidth_gbps` |"), std::string::npos);
  EXPECT_EQ(updated.find("OLD-TABLE-CONTENT"), std::string::npos);
  EXPECT_TRUE(updated.ends_with(std::string(kDocEndMarker) + "\nafter\n"));
}

}  // namespace
}  // namespace xpusim::chips::test
