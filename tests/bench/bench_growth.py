"""Section 3 of the benchmarks: how a check's cost grows with the size of what it
reads (dpkg database, PATH, extension modules, CA bundle), on generated inputs
in copy-on-write views of the base root. Which checks read each input is found
out, not assumed: every check runs alone under strace first."""
import glob
import math
import os
import re
import shutil

from bench_tools import (RootVariant, callgrind, fmt_ir, hyperfine, log, read_env_file,
                         strace_paths, write_env_file)

PATH_MARKER = "/pycheck-bench-path"
HOST_DPKG = "/var/lib/dpkg"


class Dimension:
    def __init__(self, key, label, sizes, marker, build):
        self.key, self.label, self.sizes = key, label, sizes
        self.marker = re.compile(marker)
        self.build = build  # (variant, n, env, workdir) -> (env file, description)


# ---- generated inputs --------------------------------------------------------

def split_stanzas(text):
    return [s.strip("\n") for s in re.split(r"\n\s*\n", text) if s.strip()]


def stanza_field(stanza, name):
    match = re.search(rf"^{name}: *(.*)$", stanza, re.M)
    return match.group(1).strip() if match else ""


_host_packages = None


def host_packages():
    """Real installed stanzas of this machine, with their file lists, as templates.

    Python packages are left out: a generated `python3.11-bench7` must not look
    like a second interpreter to the checks whose cost is being measured."""
    global _host_packages
    if _host_packages is None:
        _host_packages = []
        for stanza in split_stanzas(open(os.path.join(HOST_DPKG, "status")).read()):
            name, arch = stanza_field(stanza, "Package"), stanza_field(stanza, "Architecture")
            if not name or "installed" not in stanza_field(stanza, "Status") or "python" in name:
                continue
            lists = [os.path.join(HOST_DPKG, "info", f"{name}:{arch}.list"),
                     os.path.join(HOST_DPKG, "info", f"{name}.list")]
            found = next((p for p in lists if os.path.exists(p)), None)
            list_text = open(found).read() if found else ""
            _host_packages.append((name, stanza, list_text, found is not None and ":" in found))
    return _host_packages


def build_dpkg(variant, n, env, workdir):
    """/var/lib/dpkg/status with n stanzas (the root's own first) and a .list file
    for every generated package, as a system with n packages has."""
    status = variant.file("/var/lib/dpkg/status")
    own = split_stanzas(open(status).read())[:n]
    templates = host_packages()
    stanzas = list(own)
    info = variant.file("/var/lib/dpkg/info")
    for k in range(n - len(own)):
        name, stanza, list_text, with_arch = templates[k % len(templates)]
        new_name = f"{name}-bench{k}"
        stanzas.append(re.sub(r"^Package: .*$", f"Package: {new_name}", stanza, count=1, flags=re.M))
        arch = stanza_field(stanza, "Architecture")
        list_name = f"{new_name}:{arch}.list" if with_arch else f"{new_name}.list"
        # Same number and length of lines as the real list, under a prefix no
        # check asks about: reading and matching cost as much, no verdict changes.
        moved = "".join(f"/opt/pycheck-bench/{k}{line}\n" for line in list_text.splitlines())
        with open(os.path.join(info, list_name), "w") as f:
            f.write(moved)
    with open(status, "w") as f:
        f.write("\n\n".join(stanzas) + "\n")
    return None, f"{len(own)} of the root's stanzas + {n - len(own)} copied from this machine's"


def build_path(variant, n, env, workdir):
    """PATH with n entries: n - k empty directories first, then the image's k."""
    real = env["PATH"].split(":")
    made = [f"{PATH_MARKER}/{i:05d}" for i in range(max(0, n - len(real)))]
    for entry in made:
        os.makedirs(variant.file(entry))
    env_file = os.path.join(workdir, f"path-{n}.env")
    write_env_file(env_file, dict(env, PATH=":".join(made + real)))
    return env_file, f"{len(made)} empty directories before the image's {len(real)}"


def dynload_dir(variant):
    found = glob.glob(variant.file("/usr/local/lib/python3*/lib-dynload"))
    if not found:
        raise RuntimeError("no /usr/local/lib/python3*/lib-dynload in the base root")
    return found[0]


def build_dynload(variant, n, env, workdir):
    """lib-dynload with n modules: the real ones, then copies under new names."""
    where = dynload_dir(variant)
    real = sorted(f for f in os.listdir(where) if f.endswith(".so"))
    for name in real[n:]:
        os.unlink(os.path.join(where, name))
    for k in range(n - len(real)):
        source = real[k % len(real)]
        suffix = source.split(".", 1)[1]  # cpython-311-x86_64-linux-gnu.so
        shutil.copyfile(os.path.join(where, source), os.path.join(where, f"_bench{k:05d}.{suffix}"))
    return None, f"{min(n, len(real))} real + {max(0, n - len(real))} copies"


CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def build_certs(variant, n, env, workdir):
    """The CA bundle with n certificates: the real ones repeated in order."""
    bundle = variant.file(CA_BUNDLE)
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                        open(bundle).read(), re.S)
    if not blocks:
        raise RuntimeError(f"no certificates in {CA_BUNDLE} of the base root")
    os.unlink(bundle)  # a new file, never a write through into a shared one
    with open(bundle, "w") as f:
        for k in range(n):
            f.write(blocks[k % len(blocks)])
    return None, f"{len(blocks)} real certificates repeated"


def dimensions(quick):
    return [
        Dimension("dpkg", "dpkg status + info/*.list, packages", [100, 1000, 10000],
                  r'/var/lib/dpkg(/info)?>, "(status|info|[^"]*\.list)"', build_dpkg),
        Dimension("path", "PATH entries", [10, 100, 1000] if quick else [10, 100, 1000, 10000],
                  re.escape(PATH_MARKER.lstrip("/")), build_path),
        Dimension("dynload", "lib-dynload extension modules", [10, 100, 1000],
                  r"lib-dynload", build_dynload),
        Dimension("certs", "certificates in the CA bundle", [150, 1500, 15000],
                  re.escape(os.path.basename(CA_BUNDLE)), build_certs),
    ]


# ---- the verdict ---------------------------------------------------------------

def growth_verdict(sizes, costs, unit="Ir", flat=1.02, band=(0.75, 1.25)):
    """'linear', 'superlinear (n^e)', or 'constant' from a cost series.

    The exponent compares what the last step added with what the one before
    added, measured from the first point, so fixed costs (start-up, the rest of
    the check) cancel: 1 means each item costs the same, 2 quadratic; within
    `band` counts as linear. A series whose last point is within `flat` of its
    first does not grow."""
    points = [(n, c) for n, c in zip(sizes, costs) if c is not None]
    if len(points) < 2:
        return "—"
    (n0, c0), (nl, cl) = points[0], points[-1]
    if cl <= c0 * flat:
        return "constant (does not grow)"
    if len(points) < 3:
        return "grows (too few points for a verdict)"
    n1, c1 = points[-2]
    if c1 <= c0:
        return "linear (first steps flat)"
    exponent = math.log((cl - c0) / (c1 - c0)) / math.log((nl - n0) / (n1 - n0))
    per_item = (cl - c0) / (nl - n0)
    # Below the band the fixed part still dominates the first step (or noise does).
    kind = ("linear" if band[0] <= exponent <= band[1] else
            "superlinear" if exponent > band[1] else "sublinear")
    per_item = f"{per_item:,.0f} Ir" if unit == "Ir" else f"{per_item * 1000:,.2f} µs"
    return f"{kind} (n^{exponent:.2f}; {per_item} per item)"


def step_ratios(costs):
    pairs = zip(costs, costs[1:])
    return " ".join("—" if a is None or b is None or a == 0 else f"{b / a:.1f}×" for a, b in pairs)


# ---- the section -----------------------------------------------------------------

def find_readers(binary, base, base_env, check_ids, dims, workdir):
    """check ids reading each dimension's input, from strace of each check alone."""
    env_file = os.path.join(workdir, "discover.env")
    env = read_env_file(base_env)
    write_env_file(env_file, dict(env, PATH=f"{PATH_MARKER}/0:{env['PATH']}"))
    readers = {d.key: [] for d in dims}
    for cid in check_ids:
        trace = strace_paths([binary, "--root", base, "--env-file", env_file, "--check", cid,
                              "--timeout", "60s"])
        for d in dims:
            if d.marker.search(trace):
                readers[d.key].append(cid)
    return readers


def measure_point(settings, binary, cg_binary, variant, env_file, checks):
    """{check: (Ir or None, ms)} for each check alone on one generated input."""
    common = ["--root", variant.path, "--env-file", env_file]
    ir = {cid: None for cid in checks}
    if not settings.quick:
        for cid in checks:
            ir[cid] = callgrind([cg_binary] + common + ["--check", cid, "--timeout", "600s"], timeout=600)
    times = hyperfine({cid: [binary] + common + ["--check", cid, "--timeout", "60s"] for cid in checks},
                      settings.series_runs, 1)
    # Quick mode has only wall times for the verdict: the fastest run is the
    # least disturbed by other work on the machine.
    statistic = "min_ms" if settings.quick else "median_ms"
    return {cid: (ir[cid], times[cid][statistic]) for cid in checks}


def growth_sections(table, settings, binary, cg_binary, base, base_env, check_ids, workdir):
    dims = dimensions(settings.quick)
    log("growth: which checks read what (strace of each check alone)")
    readers = find_readers(binary, base, base_env, check_ids, dims, workdir)
    env = read_env_file(base_env)
    rows = []
    inputs = []
    width = max(len(d.sizes) for d in dims)
    for d in dims:
        checks = readers[d.key]
        if not checks:
            rows.append([d.label, "no check reads it"])
            continue
        points = []
        described = []
        for n in d.sizes:
            log(f"growth: {d.key} n={n}: {', '.join(checks)}")
            with RootVariant(base, f"{d.key}-{n}") as variant:
                env_file, how = d.build(variant, n, env, workdir)
                described.append(f"{n:,}: {how}")
                points.append(measure_point(settings, binary, cg_binary, variant, env_file or base_env,
                                            checks))
        pad = [""] * (width - len(d.sizes))
        rows.append([d.label, "", "n"] + [f"{n:,}" for n in d.sizes] + pad + ["", ""])
        for cid in checks:
            ir = [p[cid][0] for p in points]
            ms = [p[cid][1] for p in points]
            if settings.quick:
                rows.append(["", cid, "ms min"] + [f"{v:.2f}" for v in ms] + pad +
                            [step_ratios(ms), growth_verdict(d.sizes, ms, "ms", 1.10, (0.5, 1.5))])
                continue
            rows.append(["", cid, "Ir"] + [fmt_ir(v) for v in ir] + pad +
                        [step_ratios(ir), growth_verdict(d.sizes, ir)])
            rows.append(["", "", "ms"] + [f"{v:.2f}" for v in ms] + pad + [step_ratios(ms), ""])
        inputs.append(f"{d.label}: " + "; ".join(described))
    header = ["input", "check (reads it)", ""] + [""] * width + \
        ["ratio per step", "verdict (from ms: quick mode)" if settings.quick else "verdict (from Ir)"]
    if settings.quick:
        how = (f"ms = the fastest of {settings.series_runs} runs (hyperfine); quick mode (CI) skips "
               "callgrind here, so the verdict comes from wall times and is noisy (linear = n^0.5 "
               "to n^1.5); the full mode's verdict from Ir is the reliable one")
    else:
        how = (f"Ir from callgrind, ms = hyperfine median of {settings.series_runs} runs; "
               "linear = n^0.75 to n^1.25")
    notes = ["each check alone (--check ID, --root on a copy-on-write view of the base root); "
             "figures include the fixed start-up cost, which the verdict's exponent cancels out",
             how, "readers found with strace -f -y of each check alone on the base root"] + inputs
    table.section("3. how cost grows with the input", header, rows, notes)
