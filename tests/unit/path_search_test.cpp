// execvp-style lookup inside fixture roots: symlink chains, skipped candidates,
// PATH problems.
#include "checks/facts/path_search.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

namespace {

std::vector<std::string> kinds(const std::vector<PathProblem>& problems) {
  std::vector<std::string> out;
  for (const PathProblem& p : problems) out.emplace_back(to_string(p.kind));
  return out;
}

}  // namespace

TEST_CASE("PATH splitting and glibc's default", "[python]") {
  CHECK(split_path_variable("/a:/b") == std::vector<std::string>{"/a", "/b"});
  CHECK(split_path_variable("/a::/b:") == std::vector<std::string>{"/a", "", "/b", ""});
  CHECK(split_path_variable("") == std::vector<std::string>{""});
  auto unset = make_search_path(std::nullopt);
  CHECK(unset.is_default);
  CHECK(unset.value == "/bin:/usr/bin");
  CHECK(unset.entries == std::vector<std::string>{"/bin", "/usr/bin"});
  auto set = make_search_path(test::kImagePath);
  CHECK_FALSE(set.is_default);
  CHECK(set.entries.size() == 7);
}

TEST_CASE("PATH problems: empty and relative warn, the rest informs", "[python]") {
  CHECK(lexical_path_problems(make_search_path("/usr/local/bin:/usr/bin")).empty());
  // The image's own PATH repeats /usr/local/bin: information, not a warning.
  auto image = lexical_path_problems(make_search_path(test::kImagePath));
  REQUIRE(image.size() == 1);
  CHECK(image[0].kind == PathProblemKind::duplicate_entry);
  CHECK(image[0].index == 2);
  CHECK_FALSE(image[0].warning);

  auto bad = lexical_path_problems(make_search_path(":/usr/bin:bin:./x:/usr/bin/::"));
  CHECK(kinds(bad) == std::vector<std::string>{"empty-entry", "relative-entry", "relative-entry",
                                               "duplicate-entry", "empty-entry", "empty-entry"});
  CHECK(bad[0].warning);
  CHECK(bad[1].warning);
  CHECK_FALSE(bad[3].warning);
  CHECK_THAT(bad[1].message, Catch::Contains("\"bin\" is relative"));

  auto unset = lexical_path_problems(make_search_path(std::nullopt));
  REQUIRE(unset.size() == 1);
  CHECK(unset[0].kind == PathProblemKind::unset);
  CHECK(unset[0].warning);

  FixtureRoot root;
  root.mkdir("/usr/bin").file("/opt/notadir", "x");
  RootFs fs = root.fs();
  auto io = path_problems(fs, make_search_path("/usr/bin:/nonexistent:/opt/notadir"));
  CHECK(kinds(io) == std::vector<std::string>{"missing-directory", "not-a-directory"});
  CHECK_FALSE(io[0].warning);
}

TEST_CASE("lookup: the image's python3 through its relative links", "[python]") {
  FixtureRoot root;
  test::add_image_python(root);
  RootFs fs = root.fs();
  auto path = make_search_path(test::kImagePath);
  auto python = find_command(fs, path, "python");
  REQUIRE(python.found());
  CHECK(python.entry == "/usr/local/bin");
  CHECK(python.entry_index == 0);
  CHECK(python.candidate == "/usr/local/bin/python");
  REQUIRE(python.chain.size() == 2);
  CHECK(python.chain[0].link == "/usr/local/bin/python");
  CHECK(python.chain[0].target == "python3");
  CHECK(python.chain[1].link == "/usr/local/bin/python3");
  CHECK(python.chain[1].target == "python3.11");
  CHECK(python.real_path == "/usr/local/bin/python3.11");
  CHECK(python.skipped.empty());

  auto missing = find_command(fs, path, "python2");
  CHECK(missing.outcome == LookupOutcome::not_found);
  CHECK_FALSE(find_command(fs, path, "").found());
}

TEST_CASE("lookup: candidates execvp passes over", "[python]") {
  FixtureRoot root;
  root.file("/a/python3", "#!/bin/sh\n", 0644)    // no x bit: EACCES, go on
      .mkdir("/b/python3")                        // a directory: EACCES, go on
      .symlink("/c/python3", "/nowhere/python3")  // dangling: ENOENT, go on
      .fifo("/d/python3")                         // not a regular file
      .executable("/e/bin/python3.12")
      .symlink("/e/python3", "bin/python3.12");
  RootFs fs = root.fs();
  auto found = find_command(fs, make_search_path("/a:/b:/c:/d:/missing:/e"), "python3");
  REQUIRE(found.found());
  CHECK(found.entry == "/e");
  CHECK(found.entry_index == 5);
  CHECK(found.real_path == "/e/bin/python3.12");
  REQUIRE(found.skipped.size() == 4);
  CHECK(found.skipped[0].candidate == "/a/python3");
  CHECK_THAT(found.skipped[0].reason, Catch::Contains("not executable (mode 0644)"));
  CHECK(found.skipped[1].reason == "is a directory");
  CHECK_THAT(found.skipped[2].reason, Catch::Contains("dangling symlink (-> /nowhere/python3)"));
  CHECK_THAT(found.skipped[3].reason, Catch::Contains("FIFO"));
}

TEST_CASE("lookup: a symlink loop ends the search, as ELOOP does in execvp", "[python]") {
  FixtureRoot root;
  root.symlink("/a/python3", "loop1").symlink("/a/loop1", "loop2").symlink("/a/loop2", "loop1");
  root.executable("/b/python3");
  RootFs fs = root.fs();
  auto lookup = find_command(fs, make_search_path("/a:/b"), "python3");
  CHECK(lookup.outcome == LookupOutcome::stopped);
  CHECK(lookup.candidate == "/a/python3");
  CHECK_THAT(lookup.error, Catch::Contains("symbolic links"));
}

TEST_CASE("lookup: links are resolved inside the root", "[python]") {
  FixtureRoot root;
  // Absolute targets are re-anchored at the root; ../.. above "/" stays at "/".
  root.executable("/usr/bin/python3.11")
      .symlink("/x/bin/python3", "/usr/bin/python3.11")
      .symlink("/y/bin/python3", "../../../../../../usr/bin/python3.11")
      .symlink("/usrmerged/bin", "../usr/bin");
  RootFs fs = root.fs();
  auto absolute = find_command(fs, make_search_path("/x/bin"), "python3");
  REQUIRE(absolute.found());
  CHECK(absolute.real_path == "/usr/bin/python3.11");
  auto escaping = find_command(fs, make_search_path("/y/bin"), "python3");
  REQUIRE(escaping.found());
  CHECK(escaping.real_path == "/usr/bin/python3.11");
  REQUIRE(escaping.chain.size() == 1);
  CHECK(escaping.chain[0].target == "../../../../../../usr/bin/python3.11");
  // A PATH entry that is itself a link (usrmerge's /bin -> usr/bin).
  auto merged = find_command(fs, make_search_path("/usrmerged/bin"), "python3.11");
  REQUIRE(merged.found());
  CHECK(merged.candidate == "/usrmerged/bin/python3.11");
  CHECK(merged.chain.at(0).link == "/usrmerged/bin");
  CHECK(merged.real_path == "/usr/bin/python3.11");
}

TEST_CASE("lookup: empty and relative entries are not searched", "[python]") {
  FixtureRoot root;
  root.executable("/python3").executable("/bin/python3").executable("/usr/bin/python3");
  RootFs fs = root.fs();
  auto lookup = find_command(fs, make_search_path(":bin:/usr/bin"), "python3");
  REQUIRE(lookup.found());
  CHECK(lookup.real_path == "/usr/bin/python3");
  REQUIRE(lookup.skipped.size() == 2);
  CHECK(lookup.skipped[0].candidate == "python3");
  CHECK(lookup.skipped[1].candidate == "bin/python3");
  CHECK_THAT(lookup.skipped[0].reason, Catch::Contains("working directory"));

  // Names with a slash are not searched; absolute ones are resolved in the root.
  auto direct = find_command(fs, make_search_path("/nothing"), "/usr/bin/python3");
  CHECK(direct.found());
  CHECK(find_command(fs, make_search_path("/usr/bin"), "./python3").outcome ==
        LookupOutcome::stopped);
  auto program = resolve_program(fs, "/usr/bin/python3");
  CHECK(program.found());
  CHECK(resolve_program(fs, "/usr/bin/nothing").outcome == LookupOutcome::not_found);
}

TEST_CASE("lookup: PATH unset searches /bin then /usr/bin", "[python]") {
  FixtureRoot root;
  root.executable("/usr/local/bin/python3").executable("/usr/bin/python3");
  RootFs fs = root.fs();
  auto lookup = find_command(fs, make_search_path(std::nullopt), "python3");
  REQUIRE(lookup.found());
  CHECK(lookup.candidate == "/usr/bin/python3");
}
