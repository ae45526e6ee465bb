"""Section 4 of the benchmarks: what the static binary is made of.

`size` and `nm` read the unstripped binary. The per-origin breakdown re-runs
the binary's own link command (from `ninja -t commands` in its build
directory, which only reads the build files) with -Wl,-Map into a temporary
file, and sums the input sections the linker kept by the archive or object
they came from. The header-only libraries (nlohmann_json, CLI11) and the std
templates are instantiated inside pycheck's own objects: with
-ffunction-sections each function is its own section, named after the
function, so they are told apart by the demangled name."""
import os
import re
import shlex
import subprocess
import tempfile

from bench_tools import log, run

# The first pattern that matches an input file (archive or object) names its origin.
ORIGINS = [
    (r"libcurl\.a", "libcurl"),
    (r"libmbed(tls|x509|crypto)\.a", "mbedTLS"),
    (r"libcares\.a", "c-ares"),
    (r"libzstd\.a", "zstd"),
    (r"liblzma\.a", "lzma"),
    (r"liblz4\.a", "lz4"),
    (r"/libz\.a", "zlib"),
    (r"lib(std|sup)c\+\+\.a", "libstdc++ (archive)"),
    (r"libgcc(_eh)?\.a|crtbegin|crtend", "libgcc"),
    (r"/(libc|libm(-[\d.]+)?|libpthread|libc_nonshared|libmvec|libdl|librt)\.a|/crt[1in]\.o|/[Sr]crt1\.o",
     "glibc"),
    (r"libpycheck_lib\.a|CMakeFiles/pycheck\.dir", "pycheck"),
]
SYMBOL_SECTION = re.compile(
    r"^\.(?:text(?:\.unlikely|\.startup|\.hot|\.exit)?|rodata|data\.rel\.ro(?:\.local)?|"
    r"data\.rel(?:\.local)?|data|bss|tdata|tbss|gcc_except_table)\.(_Z\S+)$")
NOT_IN_FILE = {".bss", ".tbss"}


def origin_of(path):
    for pattern, name in ORIGINS:
        if re.search(pattern, path):
            return name
    return "other: " + os.path.basename(path.split("(")[0])


def template_origin(demangled):
    if demangled.startswith("nlohmann::") or " nlohmann::" in demangled[:40]:
        return "nlohmann_json (templates in pycheck objects)"
    if demangled.startswith("CLI::") or " CLI::" in demangled[:40]:
        return "CLI11 (in pycheck objects)"
    if re.match(r"^(\S+ )?(std|__gnu_cxx)::", demangled):
        return "std templates (in pycheck objects)"
    return "pycheck"


def link_with_map(build_dir, workdir):
    """Re-runs pycheck's link with a map file; returns (map path, linked binary)."""
    result = run(["ninja", "-C", build_dir, "-t", "commands", "pycheck"])
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"ninja -t commands: {result.stderr.strip()}")
    last = result.stdout.strip().splitlines()[-1]
    link = next((part for part in last.split(" && ") if " -o pycheck " in f" {part} "), None)
    if link is None:
        raise RuntimeError("no link command for pycheck in the build directory")
    argv = shlex.split(link)
    out = os.path.join(workdir, "pycheck.relinked")
    map_file = os.path.join(workdir, "pycheck.map")
    argv[argv.index("-o") + 1] = out
    argv.append(f"-Wl,-Map={map_file}")
    result = run(argv, cwd=build_dir)
    if result.returncode != 0:
        raise RuntimeError(f"relink failed: {result.stderr.strip()[-400:]}")
    return map_file, out


def parse_map(map_file):
    """[(input section, size, input file)] the linker kept in the file.

    GNU ld's map, after "Linker script and memory map": output sections at
    column 0, input sections at column 1; a long name is alone on its line and
    its address, size and file follow on the next."""
    pieces = []
    in_map = False
    output_in_file = False
    pending_output = pending_input = None

    def hex_pair(parts):
        return len(parts) >= 2 and parts[0].startswith("0x") and parts[1].startswith("0x")

    def is_in_file(name, address):
        return int(address, 16) != 0 and name not in NOT_IN_FILE

    for line in open(map_file, errors="replace"):
        if not in_map:
            in_map = line.startswith("Linker script and memory map")
            continue
        parts = line.split()
        if not parts:
            continue
        if not line[0].isspace():  # an output section (or LOAD/OUTPUT lines)
            pending_input = None
            pending_output = parts[0] if len(parts) == 1 else None
            output_in_file = hex_pair(parts[1:]) and is_in_file(parts[0], parts[1])
            continue
        if pending_output is not None:
            output_in_file = hex_pair(parts) and is_in_file(pending_output, parts[0])
            pending_output = None
            continue
        if line.startswith(" ") and not line.startswith("  "):  # an input section
            pending_input = None
            if parts[0].startswith("*("):
                continue
            if len(parts) >= 3 and hex_pair(parts[1:]):
                if output_in_file:
                    pieces.append((parts[0], int(parts[2], 16), " ".join(parts[3:])))
            elif len(parts) == 1:
                pending_input = parts[0]
            continue
        if pending_input and len(parts) >= 3 and hex_pair(parts) and output_in_file:
            pieces.append((pending_input, int(parts[1], 16), " ".join(parts[2:])))
        pending_input = None
    return pieces


def section_kind(section):
    for prefix, kind in ((".text", "text"), (".rodata", "rodata"), (".data.rel.ro", "rodata"),
                         (".eh_frame", "unwind"), (".gcc_except_table", "unwind")):
        if section == prefix or section.startswith(prefix + "."):
            return kind
    return "other"


def demangle_all(names):
    if not names:
        return {}
    result = subprocess.run(["c++filt"], input="\n".join(names) + "\n", capture_output=True, text=True)
    return dict(zip(names, result.stdout.splitlines()))


def breakdown(pieces):
    """origin -> {"text", "rodata", "unwind", "other", "total"} in bytes."""
    mangled = sorted({m.group(1) for section, _, path in pieces
                      if origin_of(path) == "pycheck" and (m := SYMBOL_SECTION.match(section))})
    demangled = demangle_all(mangled)
    table = {}
    for section, size, path in pieces:
        origin = origin_of(path) if section != "*fill*" else "alignment padding"
        if origin == "pycheck":
            m = SYMBOL_SECTION.match(section)
            if m:
                origin = template_origin(demangled.get(m.group(1), m.group(1)))
        kind = section_kind(section)
        entry = table.setdefault(origin, {"text": 0, "rodata": 0, "unwind": 0, "other": 0, "total": 0})
        entry[kind] += size
        entry["total"] += size
    return table


def size_sections(table, binary):
    unstripped = binary + ".unstripped"
    target = unstripped if os.path.exists(unstripped) else binary
    rows = [["stripped", f"{os.path.getsize(binary):,} bytes",
             f"{os.path.getsize(binary) / 1048576:.2f} MiB"]]
    if target != binary:
        rows.append(["unstripped", f"{os.path.getsize(target):,} bytes",
                     f"{os.path.getsize(target) / 1048576:.2f} MiB"])
    berkeley = run(["size", target]).stdout.splitlines()
    if len(berkeley) == 2:
        names, values = berkeley[0].split(), berkeley[1].split()
        rows += [[f"size: {n}", f"{int(v):,} bytes", ""] for n, v in zip(names[:3], values[:3])]
    table.section("4. binary size", ["", "bytes", ""], rows)

    symbols = run(["nm", "--size-sort", "--reverse-sort", "-C", "-S", target]).stdout.splitlines()
    top = []
    for line in symbols[:25]:
        parts = line.split(None, 3)
        if len(parts) == 4:
            top.append([f"{int(parts[1], 16):,}", parts[2], parts[3][:140]])
    table.section(f"4b. largest symbols (nm --size-sort -C, {os.path.basename(target)})",
                  ["bytes", "type", "symbol"], top)

    build_dir = os.path.dirname(os.path.abspath(binary))
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        table.section("4c. size by origin", None, [["needs the build directory next to the binary"]])
        return
    with tempfile.TemporaryDirectory(prefix="pycheck-bench-map.") as workdir:
        try:
            map_file, relinked = link_with_map(build_dir, workdir)
        except (RuntimeError, OSError) as e:
            log(f"size: {e}")
            table.section("4c. size by origin", None, [[f"could not relink with a map: {e}"]])
            return
        parts = breakdown(parse_map(map_file))
        relinked_size = os.path.getsize(relinked)
    total = sum(e["total"] for e in parts.values())
    rows = [[origin, f"{e['total']:,}", f"{100 * e['total'] / total:.1f} %", f"{e['text']:,}",
             f"{e['rodata']:,}", f"{e['unwind']:,}", f"{e['other']:,}"]
            for origin, e in sorted(parts.items(), key=lambda kv: -kv[1]["total"])]
    rows.append(["total (sections in the file)", f"{total:,}", "100 %", "", "", "", ""])
    same = relinked_size == os.path.getsize(target)
    notes = ["bytes the linker kept (after --gc-sections), by the archive or object they came "
             "from; .bss takes no file space and is left out; sizes are before the linker merges "
             "duplicate strings and unwind entries, so the total is slightly above the file's",
             "text = .text; rodata = .rodata + .data.rel.ro; unwind = .eh_frame + "
             ".gcc_except_table; other = .data, TLS, init arrays, ...",
             f"from a relink with -Wl,-Map in {build_dir}: {relinked_size:,} bytes "
             + ("(same size as the unstripped binary)" if same else
                f"(the unstripped binary has {os.path.getsize(target):,}: the build dir's "
                "objects changed since; figures are for the relink)")]
    table.section("4c. size by origin", ["origin", "bytes", "share", "text", "rodata", "unwind", "other"],
                  rows, notes)
