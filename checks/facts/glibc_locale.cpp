#include "checks/facts/glibc_locale.h"

#include "agent/core/text.h"

namespace pycheck {
namespace {

constexpr std::size_t kArchiveListCap = 50;

// Keeps the first read the deadline stopped.
void note_timeout(const Error& e, std::optional<Error>& timeout) {
  if (e.timed_out() && !timeout) timeout = e;
}

}  // namespace

GlibcLocales::GlibcLocales(const RootFs& fs, const std::optional<std::string>& locpath)
    : fs_(fs), reader_(fs) {
  if (locpath) {
    for (std::string_view dir : split(*locpath, ':')) {
      if (!dir.empty()) dirs_.emplace_back(dir);  // empty LOCPATH entries are skipped, as argz does
    }
  }
  dirs_.emplace_back(kLocaleDir);
  use_archive_ = !locpath.has_value();
  if (use_archive_) load_archive();
  load_aliases();
}

LocaleLookup GlibcLocales::find(std::string_view name, const LocaleCategory& cat) const {
  LocaleLookup out;
  if (is_builtin_locale(name)) {
    out.found = LocaleFound{"builtin", "", "C", "ANSI_X3.4-1968", std::nullopt};
    return out;
  }
  if (!is_valid_locale_name(name)) {
    out.notes.push_back("not a valid locale name (glibc refuses it)");
    return out;
  }
  const std::optional<std::string> alias = aliases_.expand(name);
  if (use_archive_ && archive_) {
    if ((out.found = from_archive(name, cat, out))) return out;
    if (alias && (out.found = from_archive(*alias, cat, out))) {
      out.found->alias = alias;
      return out;
    }
  }
  const std::string dir_name = alias.value_or(std::string(name));
  const LocaleNameParts parts = split_locale_name(dir_name);
  for (const std::string& variant : locale_directory_variants(dir_name)) {
    for (const std::string& dir : dirs_) {
      const std::string locale_dir = path_normalize(dir + "/" + variant);
      std::string file = locale_dir + "/" + std::string(cat.name);
      auto info = fs_.stat(file);
      if (!info) {
        note_timeout(info.error(), out.timeout);
        continue;
      }
      std::optional<std::uint64_t> size = info->size;
      if (info->type == FileType::directory) {
        file += "/SYS_" + std::string(cat.name);
        size.reset();
      }
      auto read = reader_.file_codeset(file, size, cat);
      if (!read) {
        note_timeout(read.error(), out.timeout);
        if (!read.missing()) out.notes.push_back(read.error().message);
        continue;
      }
      const Result<std::string>& codeset = *read;
      if (!codeset) {  // glibc skips bad data and tries the next name
        out.notes.push_back(codeset.error().message);
        continue;
      }
      // glibc takes the first loadable file, then rejects it if the codeset differs.
      if (parts.codeset && !codesets_match(*parts.codeset, *codeset)) {
        out.notes.push_back(file + " has codeset " + *codeset + ", not " + *parts.codeset);
        return out;
      }
      out.found = LocaleFound{"directory", locale_dir, variant, *codeset, alias};
      return out;
    }
  }
  return out;
}

json GlibcLocales::archive_details() const {
  json d = {{"path", kLocaleArchivePath}};
  if (!use_archive_) {
    d["searched"] = false;
    d["reason"] = "LOCPATH is set: glibc does not read the archive";
    return d;
  }
  d["present"] = archive_present_;
  if (!archive_error_.empty()) d["error"] = archive_error_;
  if (archive_) {
    std::vector<std::string> names = archive_->names();
    d["serial"] = archive_->serial();
    d["locale_count"] = names.size();
    d["locales_truncated"] = names.size() > kArchiveListCap;
    if (names.size() > kArchiveListCap) names.resize(kArchiveListCap);
    d["locales"] = names;
  }
  return d;
}

json GlibcLocales::alias_details() const {
  json d = {{"path", kLocaleAliasPath}, {"present", alias_present_}, {"aliases", aliases_.size()}};
  if (!alias_error_.empty()) d["error"] = alias_error_;
  return d;
}

std::optional<LocaleFound> GlibcLocales::from_archive(std::string_view name,
                                                      const LocaleCategory& cat,
                                                      LocaleLookup& lookup) const {
  const std::string key = archive_lookup_name(name);
  const ArchiveLocale* locale = archive_->find(key);
  if (locale == nullptr) return std::nullopt;
  std::string codeset;
  const std::string what = std::string(kLocaleArchivePath) + " (" + key + ")";
  auto read = reader_.archive_codeset(*locale, cat, archive_size_, what);
  if (!read) {  // the archive could be read a moment ago: say so, the codeset stays unknown
    note_timeout(read.error(), lookup.timeout);
    lookup.notes.push_back(read.error().message);
  } else if (!*read) {  // glibc treats the entry as absent and goes on
    lookup.notes.push_back(read->error().message);
    return std::nullopt;
  } else {
    codeset = **read;
  }
  return LocaleFound{"archive", std::string(kLocaleArchivePath), key, codeset, std::nullopt};
}

void GlibcLocales::load_archive() {
  auto info = fs_.stat(kLocaleArchivePath);
  if (!info) {
    note_timeout(info.error(), timeout_);
    if (!info.missing()) archive_error_ = info.error().message;
    return;
  }
  archive_present_ = true;
  archive_size_ = info->size;
  auto read = read_locale_archive(fs_, info->size);
  if (!read) {
    note_timeout(read.error(), timeout_);
    archive_error_ = read.error().message;
    return;
  }
  if (!*read) {
    archive_error_ = std::string(kLocaleArchivePath) + ": " + read->error().message;
    return;
  }
  archive_ = std::move(*read).value();
}

void GlibcLocales::load_aliases() {
  auto text = fs_.read_file(kLocaleAliasPath, 1u << 20);
  if (!text) {
    note_timeout(text.error(), timeout_);
    if (!text.missing()) alias_error_ = text.error().message;
    return;
  }
  alias_present_ = true;
  aliases_ = parse_locale_alias(*text);
}

}  // namespace pycheck
