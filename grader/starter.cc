// See starter.h.
#include "starter.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace kv::grader {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ::toupper);
  return out;
}

std::string cpp_string_literal(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Result<CutResult> cut_regions(std::string_view source, std::string_view lab_id,
                              std::string_view file_name) {
  const std::string begin_marker = "// " + upper(lab_id) + " BEGIN:";
  const std::string end_marker = "// " + upper(lab_id) + " END";
  CutResult out;
  bool inside = false;
  int begin_line = 0;
  int line_number = 0;
  size_t at = 0;
  while (at < source.size()) {
    size_t newline = source.find('\n', at);
    size_t end =
        newline == std::string_view::npos ? source.size() : newline + 1;
    std::string_view line = source.substr(at, end - at);
    at = end;
    ++line_number;
    std::string_view content = trim(line.substr(0, line.find('\n')));
    auto where = [&] { return fmt::format("{}:{}", file_name, line_number); };

    if (content.starts_with(begin_marker)) {
      if (inside)
        return Status::invalid_argument(
            fmt::format("{}: {} inside the region opened on line {}", where(),
                        begin_marker, begin_line));
      std::string_view hint = trim(content.substr(begin_marker.size()));
      if (hint.empty())
        return Status::invalid_argument(
            fmt::format("{}: a region needs a hint after BEGIN:", where()));
      inside = true;
      begin_line = line_number;
      out.text += line;
      std::string indentation(line.substr(0, line.find_first_not_of(" \t")));
      std::string message = fmt::format("{}: {}", lab_id, hint);
      out.text += fmt::format("{}throw kv::NotImplemented({});\n", indentation,
                              cpp_string_literal(message));
      out.hints.emplace_back(hint);
    } else if (content == end_marker) {
      if (!inside)
        return Status::invalid_argument(
            fmt::format("{}: {} without a BEGIN", where(), end_marker));
      inside = false;
      out.text += line;
    } else if (!inside) {
      out.text += line;
    }
  }
  if (inside)
    return Status::invalid_argument(
        fmt::format("{}:{}: region never closed with {}", file_name, begin_line,
                    end_marker));
  return out;
}

Result<std::vector<std::string>> make_starter(const LabInfo& lab,
                                              const std::filesystem::path& from,
                                              const std::filesystem::path& to) {
  namespace fs = std::filesystem;
  std::vector<std::string> hints;
  std::error_code ec;
  // Cut everything first, write after: a broken fence leaves no half copy.
  std::vector<std::pair<fs::path, std::string>> files;
  std::vector<fs::path> sources;
  for (const auto& entry : fs::recursive_directory_iterator(from, ec))
    if (entry.is_regular_file()) sources.push_back(entry.path());
  if (ec)
    return Status::io_error(
        fmt::format("reading {}: {}", from.string(), ec.message()));
  std::sort(sources.begin(), sources.end());
  for (const fs::path& source : sources) {
    fs::path relative = fs::relative(source, from);
    std::ifstream in(source, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    std::string ext = source.extension().string();
    if (ext == ".cc" || ext == ".h") {
      Result<CutResult> cut = cut_regions(text, lab.id, relative.string());
      if (!cut.ok()) return cut.status();
      for (const std::string& hint : cut.value().hints)
        hints.push_back(fmt::format("{}: {}", relative.string(), hint));
      text = std::move(cut.value().text);
    }
    files.emplace_back(relative, std::move(text));
  }
  for (const auto& [relative, text] : files) {
    fs::create_directories((to / relative).parent_path(), ec);
    std::ofstream out(to / relative, std::ios::binary);
    out << text;
    if (!out)
      return Status::io_error(
          fmt::format("writing {}", (to / relative).string()));
  }
  return hints;
}

}  // namespace kv::grader
