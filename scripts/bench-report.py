#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-report.py [--intree] OUT LOG... : the report of `make bench` (scripts/bench).

Reads the "BENCH ..." lines of the guest logs (scripts/bench-guest.sh) and
writes OUT.md (ratios Rust/C with median and IQR over the interleaved
rounds) and OUT-latency.png (latency distributions, Rust against C). For
the profile phase (scripts/bench --profile) it writes the segments of a
wakeup per sample and the function graph of one wakeup of each. With
--intree (scripts/bench --intree) it writes OUT.md only: stock 7.3 against
7.3 with the in-tree series, per pair of boots.
"""
import re
import statistics
import sys
from collections import defaultdict

LINE = re.compile(r"BENCH (\w+)((?: [a-z_][a-z0-9_]*=[^ ]+)*)\s*$")
PROFILE_SEGMENTS = ("raise", "sched", "loop", "sleep")
IMPL_NAMES = {"c": "C (kernel smpboot)", "crs": "C on smpboot_rs", "rs": "Rust (smpboot_rs)"}


def parse(path):
    """The BENCH records of a log, and the function graph lines per sample."""
    recs = []
    graphs = defaultdict(list)
    with open(path, errors="replace") as f:
        for line in f:
            i = line.find("BENCH ")
            if i < 0:
                continue
            if line.startswith("BENCH profgraph impl=", i):
                impl, _, rest = line[i + len("BENCH profgraph impl="):].partition(" ")
                graphs[impl].append(rest.rstrip("\n"))
                continue
            if line.startswith("BENCH profgraph2 ", i):
                words = line[i + len("BENCH profgraph2 "):].rstrip("\n").split(" ", 2)
                graphs[tuple(w.split("=", 1)[1] for w in words[:2])].append(words[2])
                continue
            if line.startswith("BENCH profcalls ", i):
                words = line[i:].split()
                recs.append(("profcalls", {"impl": words[2].split("=", 1)[1],
                                           "calls": [int(w) for w in words[3:]]}))
                continue
            m = LINE.match(line[i:].rstrip())
            if not m:
                continue
            kv = dict(w.split("=", 1) for w in m.group(2).split())
            recs.append((m.group(1), kv))
    return recs, graphs


def accelerator(paths):
    """"QEMU KVM" or "QEMU TCG": what vm-run's banner in the logs says it ran."""
    accels = set()
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                m = re.match(r"vm-run: booting \S+ kernel, \d+ CPUs \((kvm|tcg)", line)
                if m:
                    accels.add(m.group(1))
    # Logs from before vm-run chose an accelerator ran under TCG.
    return "QEMU KVM" if accels == {"kvm"} else "QEMU TCG" if accels <= {"tcg"} else "QEMU KVM and TCG"


def quart(xs):
    xs = sorted(xs)
    if not xs:
        return (float("nan"),) * 3
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[1], q[0], q[2]


def hist_quantile(hist, p):
    """hist: {floor: count}; quantile p, interpolated linearly inside its
    bucket (buckets are 1/8 of a power of two wide: a bucket midpoint alone
    would make ratios jump by 7 - 14 % between neighbouring buckets)."""
    floors = sorted(hist)
    total = sum(hist.values())
    if not total:
        return float("nan")
    want = p * total
    acc = 0
    for f in floors:
        if hist[f] and acc + hist[f] >= want:
            width = 1 if f < 16 else 1 << (f.bit_length() - 4)
            return f + width * (want - acc) / hist[f]
        acc += hist[f]
    return float(floors[-1])


def cpu_count(cpus):
    """The vCPU count of a log's CPU-count string, to divide by (1 if it
    is not a number)."""
    return int(cpus) if cpus.isdigit() else 1


def fmt(x, unit=""):
    if x != x:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}{unit}"
    return f"{x:.3g}{unit}"


def ratio_row(name, c_vals, rs_vals, ratios, unit, note=""):
    med, q1, q3 = quart(ratios)
    flag = "" if med != med or med <= 1.05 else " **>1.05**"
    return (f"| {name} | {fmt(statistics.median(c_vals), unit) if c_vals else 'n/a'} | "
            f"{fmt(statistics.median(rs_vals), unit) if rs_vals else 'n/a'} | "
            f"{med:.3f}{flag} | {q1:.3f} – {q3:.3f} | {len(ratios)} | {note} |")


def profile_section(recs, graphs, cpus):
    """Markdown lines for the profile phase: segment medians per sample with
    per-round ratios against C, calls per wakeup, and one wakeup's graph."""
    seg = defaultdict(lambda: defaultdict(list))
    for k, kv in recs:
        if k == "prof":
            for name in PROFILE_SEGMENTS:
                seg[(kv["impl"], int(kv["round"]))][name].append(int(kv[name]))
    if not seg:
        return []
    mhz = next((kv["tsc_mhz"] for k, kv in recs if k == "profinfo"), "?")
    rounds = sorted({r for (i, r) in seg if all((m, r) in seg for m in ("c", "rs"))})
    lines = [f"## Profile of a local wakeup on CPU 1 ({cpus} vCPUs, TSC {mhz} MHz)", "",
             "Per round the median of each segment (ns, from the TSC); ratio = the sample's median "
             "over C's of the same round, median and IQR over the rounds.", "",
             "| segment | C | C on smpboot_rs | Rust | ratio C-on-smpboot_rs/C | IQR | ratio Rust/C | IQR "
             "| wakeups per sample |", "|---|---|---|---|---|---|---|---|---|"]
    for name in ("total",) + PROFILE_SEGMENTS:
        def med(impl, r):
            xs = seg[(impl, r)]
            vals = ([sum(t) for t in zip(*(xs[n] for n in PROFILE_SEGMENTS))] if name == "total"
                    else xs[name])
            return statistics.median(vals) if vals else float("nan")
        cells = [f"{statistics.median([med(i, r) for r in rounds]):,.0f}" if all((i, r) in seg for r in rounds)
                 else "n/a" for i in ("c", "crs", "rs")]
        ratio_cells = []
        for impl in ("crs", "rs"):
            rr = [med(impl, r) / med("c", r) for r in rounds if (impl, r) in seg and med("c", r) > 0]
            m, q1, q3 = quart(rr)
            ratio_cells += [f"{m:.3f}", f"{q1:.3f} – {q3:.3f}"]
        n = "/".join(str(sum(len(seg[(i, r)]["raise"]) for r in rounds)) for i in ("c", "crs", "rs"))
        lines.append(f"| {name} | " + " | ".join(cells + ratio_cells) + f" | {n} |")
    calls = {kv["impl"]: kv["calls"] for k, kv in recs if k == "profcalls"}
    if calls:
        lines += ["", "C functions the thread calls per wakeup (function graph; Rust functions "
                  "are not traced): " + "; ".join(
                      f"{IMPL_NAMES.get(i, i)} {statistics.median(v):.0f}" for i, v in sorted(calls.items()) if v)]
    lines += call_profile(recs, graphs)
    for impl in ("c", "crs", "rs"):
        if graphs.get(impl):
            lines += ["", f"One wakeup of {IMPL_NAMES[impl]}'s thread (function graph):", "", "```"]
            lines += graphs[impl] + ["```"]
    return lines


def states_section(recs, cpus):
    """Markdown lines: what each sample's threads add to CPU 1's hotplug
    states, per direction, from the cpuhp tracepoints (the states phase)."""
    smp = defaultdict(list)
    own = defaultdict(list)
    whole = defaultdict(list)
    unpaired = 0
    for k, kv in recs:
        if k == "states":
            key = (kv["impl"], int(kv["round"]), kv["dir"])
            smp[key].append((int(kv["kernel_ns"]) + int(kv["rs_ns"])) / 1e3)
            own[key].append(int(kv["rs_ns"]) / 1e3)
            whole[key].append(int(kv["all_ns"]) / 1e3)
            unpaired += int(kv["unpaired"])
    if not smp:
        return []
    ncyc = next((kv["cycles"] for k, kv in recs if k == "statesinfo"), "?")
    lines = ["", f"### CPU hotplug: the states' own time ({cpus} vCPUs; cpuhp tracepoints)", "",
             "CPU 1 offline then online, each state's callbacks timed from cpuhp_enter to cpuhp_exit "
             f"(TSC), {ncyc} cycles per configuration and round, configurations interleaved. "
             "*smpboot states*: the kernel's (threads:prepare, smpboot/threads:online) and "
             "smpboot_rs's (smpboot_rs:create, smpboot_rs:online). *Added*: the configuration's "
             "per-round median minus no module's of the same round. Ratio = Rust / C."
             + (f" {unpaired} callbacks had no cpuhp_enter in the trace and were left out." if unpaired else ""),
             "", "| metric | C (median) | Rust (median) | ratio Rust/C | IQR | rounds | notes |",
             "|---|---|---|---|---|---|---|"]

    def med(src, impl, r, d):
        return statistics.median(src[(impl, r, d)])

    for d, label in (("down", "offline"), ("up", "online")):
        rounds = sorted({r for (i, r, dd) in smp if dd == d
                         and all((x, r, d) in smp for x in ("none", "c", "rs"))})
        if not rounds:
            continue
        none = statistics.median(med(smp, "none", r, d) for r in rounds)
        add_c = [med(smp, "c", r, d) - med(smp, "none", r, d) for r in rounds]
        for impl, name in (("crs", "C on smpboot_rs (ksoftirqd_c_rs) in the Rust column: "), ("rs", "")):
            have = [r for r in rounds if (impl, r, d) in smp]
            if not have:
                continue
            c = [a for a, r in zip(add_c, rounds) if r in have]
            added = [med(smp, impl, r, d) - med(smp, "none", r, d) for r in have]
            ratios = [b / a for a, b in zip(c, added) if a > 0]
            own_part = statistics.median(med(own, impl, r, d) for r in have)
            lines.append(ratio_row(f"CPU 1 {label}: {name}smpboot states, added over no module", c, added,
                                   ratios, " µs",
                                   f"no module: {fmt(none, ' µs')}; in smpboot_rs's states: "
                                   f"{fmt(own_part, ' µs')}"
                                   + (f"; {len(c) - len(ratios)} rounds with C added <= 0 left out"
                                      if len(ratios) < len(c) else "")))
        c = [med(whole, "c", r, d) for r in rounds]
        rs = [med(whole, "rs", r, d) for r in rounds]
        lines.append(ratio_row(f"CPU 1 {label}: all states", c, rs, [b / a for a, b in zip(c, rs)], " µs",
                               f"no module: {fmt(statistics.median(med(whole, 'none', r, d) for r in rounds), ' µs')}"))
    return lines


def registration_states_section(recs, cpus):
    """Markdown lines: where a registration's time goes (the states phase's
    traced insmods): smpboot_rs's callbacks and the hand-offs of its online
    instance, against the kernel's smpboot, which runs no callback."""
    reg, _ = by_round(recs, "regstates")
    rounds = [r for r in reg if "c" in reg[r] and "rs" in reg[r]]
    if not rounds:
        return []
    ncpu = cpu_count(cpus)

    def ns(r, impl, key):
        return int(reg[r][impl][key])

    def med(impl, key):
        return statistics.median(ns(r, impl, key) for r in rounds) / 1e3 / ncpu

    rs_handoffs = [(ns(r, "rs", "online_span_ns") - ns(r, "rs", "online_ns")) / 1e3 / ncpu for r in rounds]
    diff = [(ns(r, "rs", "insmod_ns") - ns(r, "c", "insmod_ns")) / 1e3 / ncpu for r in rounds]
    return ["", f"### Where a registration's time goes ({cpus} vCPUs; cpuhp tracepoints over insmod)", "",
            "Each sample's insmod with smpboot_rs.ko loaded before, the cpuhp tracepoints on, "
            f"{len(rounds)} rounds interleaved; µs per CPU, median over the rounds. The online instance's "
            "hand-offs: its span (first callback's start to last one's end) less the callbacks' time. "
            "The instance is added without calls (the registering task starts the threads): its "
            "callbacks and hand-offs read 0 unless they come back.", "",
            "| per CPU | C | Rust |", "|---|---|---|",
            f"| insmod | {fmt(med('c', 'insmod_ns'), ' µs')} | {fmt(med('rs', 'insmod_ns'), ' µs')} |",
            f"| smpboot_rs:create callbacks (registering task) | – | {fmt(med('rs', 'create_ns'), ' µs')} |",
            f"| smpboot_rs:online callbacks (each CPU's hotplug thread) | – | {fmt(med('rs', 'online_ns'), ' µs')} |",
            f"| smpboot_rs:online hand-offs | – | {fmt(statistics.median(rs_handoffs), ' µs')} |",
            f"| insmod, Rust less C | | {fmt(statistics.median(diff), ' µs')} |",
            "", "Callbacks per insmod (Rust): create " + "/".join(str(reg[r]["rs"]["creates"]) for r in rounds)
            + ", online " + "/".join(str(reg[r]["rs"]["onlines"]) for r in rounds) + "."]


def call_profile(recs, graphs):
    """Markdown lines: the duration of a raise write, of insmod and of rmmod
    per sample, and the function graph of one of each."""
    durs = defaultdict(list)
    for k, kv in recs:
        if k == "profdur":
            durs[(kv["impl"], kv["what"])].append(int(kv["ns"]))
    if not durs:
        return []
    lines = ["", "### A raise write (`all 1000`), an insmod and an rmmod, traced (function graph)", "",
             "| call | C | C on smpboot_rs | Rust | Rust/C | calls per sample |", "|---|---|---|---|---|---|"]
    for what, label in (("write", "pwrite() of `all 1000` to raise, median"), ("insmod", "finit_module()"),
                        ("rmmod", "delete_module()")):
        med = {i: statistics.median(durs[(i, what)]) for i in ("c", "crs", "rs") if durs.get((i, what))}
        if "c" not in med:
            continue
        cells = [f"{med[i] / 1e3:,.1f} µs" if i in med else "n/a" for i in ("c", "crs", "rs")]
        ratio = f"{med['rs'] / med['c']:.3f}" if "rs" in med and med["c"] else "n/a"
        n = "/".join(str(len(durs.get((i, what), []))) for i in ("c", "crs", "rs"))
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {ratio} | {n} |")
    for key in sorted(k for k in graphs if isinstance(k, tuple)):
        impl, what = key
        lines += ["", f"{IMPL_NAMES.get(impl, impl)}, one {what}:", "", "```"] + graphs[key] + ["```"]
    return lines


def by_round(recs, kind):
    """{round: {impl: record}} of the BENCH records of one kind, and
    smpboot_rs.ko's own record (impl=core) of that kind."""
    rounds = defaultdict(dict)
    core = None
    for k, kv in recs:
        if k == kind:
            if kv["impl"] == "core":
                core = kv
            else:
                rounds[int(kv["round"])][kv["impl"]] = kv
    return rounds, core


def memory_section(recs, cpus):
    """Markdown lines: what each sample's registration keeps, by call site."""
    kept, _ = by_round(recs, "mem")
    sites = defaultdict(lambda: defaultdict(list))
    for k, kv in recs:
        if k == "memsite":
            sites[kv["impl"]][kv["site"]].append((int(kv["bytes"]), int(kv["n"])))
    if not kept:
        return []
    ncpu = cpu_count(cpus)
    lines = ["", f"### What a registration keeps ({cpus} vCPUs; kmem, percpu and task tracepoints over insmod)", "",
             "Slab objects (kmalloc, kmem_cache) and per-CPU areas (alloc_percpu, a module's "
             "DEFINE_PER_CPU: bytes over all possible CPUs) allocated by insmod and not freed a second "
             "after it (MEM_SETTLE), but for the insmod process's address space (a CPU's lazy TLB use keeps it "
             "past the process in some rounds), and the tasks it created that did not exit; smpboot_rs.ko loaded "
             "before. vmalloc'd memory is not traced.", "",
             "| sample | slab bytes | per CPU | per-CPU area bytes | threads | rounds |", "|---|---|---|---|---|---|"]
    for impl in ("c", "rs"):
        t = [kept[r][impl] for r in kept if impl in kept[r]]
        if t:
            def med(key):
                return statistics.median(int(kv[key]) for kv in t)
            lines.append(f"| {IMPL_NAMES[impl]} | {med('slab_bytes'):,.0f} | {med('slab_bytes') / ncpu:,.0f} | "
                         f"{med('percpu_bytes'):,.0f} | {med('tasks'):.0f} | {len(t)} |")
    for impl in ("c", "rs"):
        if sites.get(impl):
            rows = sorted(((max(v)[0], max(v)[1], s) for s, v in sites[impl].items()), reverse=True)
            lines += ["", f"{IMPL_NAMES[impl]}, by cache and call site (largest round):", "", "```"]
            lines += [f"{b:>8} B {n:>4}x  {s}" for b, n, s in rows[:25]] + ["```"]
    return lines


def scaling_section(scaling):
    """scaling: {(metric, unit): {ncpu: {impl: median}}}, from the logs of
    each vCPU count. A cost linear in the CPU count has the same slope
    (added cost per added CPU) between each pair of counts: a fixed part
    (exec, module loading) makes the cost per CPU fall, not the slope."""
    counts = sorted({n for by_n in scaling.values() for n in by_n})
    if len(counts) < 2:
        return []
    steps = list(zip(counts, counts[1:]))
    lines = ["", "### Scaling with the CPU count (registration phase)", "",
             "Median of each count's rounds; slope = added cost per added CPU between two counts. "
             "Linear: the slopes are equal (last / first 1.00); above 1, the cost grows faster "
             "than the CPU count.", "",
             "| metric | impl | " + " | ".join(f"{n} vCPUs" for n in counts) + " | "
             + " | ".join(f"slope {a}→{b}" for a, b in steps) + " | last / first slope |",
             "|---|---|" + "---|" * (len(counts) + len(steps) + 1)]
    if len(steps) < 2:
        lines[3] = "Median of each count's rounds; slope = added cost per added CPU. Three counts show whether it is linear."
    for (metric, unit), by_n in scaling.items():
        for impl in ("c", "crs", "rs"):
            vals = [by_n.get(n, {}).get(impl) for n in counts]
            if any(v is None for v in vals):
                continue
            slopes = [(vals[j + 1] - vals[j]) / (b - a) for j, (a, b) in enumerate(steps)]
            growth = slopes[-1] / slopes[0] if len(steps) > 1 and slopes[0] > 0 else float("nan")
            lines.append(f"| {metric} | {IMPL_NAMES[impl]} | " + " | ".join(fmt(v, unit) for v in vals)
                         + " | " + " | ".join(fmt(x, unit) for x in slopes) + f" | {fmt(growth)} |")
    return lines


def hotplug_cycles(recs):
    """{round: {impl: [cycle ms, ...]}} of the hotplug phase."""
    hp = defaultdict(lambda: defaultdict(list))
    for k, kv in recs:
        if k == "hotplug":
            hp[int(kv["round"])][kv["impl"]].append(int(kv["ns"]) / 1e6)
    return hp


def latency_hists(recs):
    """{(mode, impl, round): {floor: count}} of the latency phase."""
    lat = defaultdict(lambda: defaultdict(int))
    for k, kv in recs:
        if k == "latency":
            lat[(kv["mode"], kv["impl"], int(kv["round"]))][int(kv["floor"])] += int(kv["n"])
    return lat


def throughput_rounds(recs):
    """Per round and implementation: writer-bound items/s, the fed threads'
    CPU ns per item, and saturated ns per item."""
    tp = defaultdict(dict)
    thread_cpu = defaultdict(dict)
    saturated = defaultdict(dict)
    for k, kv in recs:
        if k in ("throughput", "saturated"):
            r, impl, items = int(kv["round"]), kv["impl"], int(kv["items"])
            if items <= 0:
                continue
            if k == "saturated":
                saturated[r][impl] = int(kv["ns"]) / items
                continue
            tp[r][impl] = items / (int(kv["ns"]) / 1e9)
            if "thread_ns" in kv:
                thread_cpu[r][impl] = int(kv["thread_ns"]) / items
    return tp, thread_cpu, saturated


def intree_boot(recs):
    """One boot of `scripts/bench --intree`: {metric: value}. The boot
    times as they are, hotplug the median of the boot's cycles, the other
    timings the median of its rounds; the softirq counts summed."""
    med = statistics.median
    m = {}
    for k, kv in recs:
        if k == "boot":
            m["smp"] = float(kv["smp_s"]) * 1e3
            m["init"] = float(kv["init_s"]) * 1e3
    hp = hotplug_cycles(recs)
    for impl in ("none", "c"):
        cycles = [x for r in hp for x in hp[r].get(impl, [])]
        if cycles:
            m[("hotplug", impl)] = med(cycles)
    si = [kv for k, kv in recs if k == "softirq"]
    if si:
        for q in ("p50", "p99"):
            m[("softirq", q)] = med(int(kv[q + "_ns"]) / 1e3 for kv in si)
        for key in ("n", "by_irq", "busy"):
            m[("softirq", key)] = sum(int(kv[key]) for kv in si)
    lat = latency_hists(recs)
    for mode, impl in {(mode, impl) for mode, impl, _ in lat}:
        hists = [h for (mo, i, _), h in lat.items() if (mo, i) == (mode, impl)]
        for p, q in ((0.5, "p50"), (0.99, "p99")):
            m[("latency", mode, impl, q)] = med(hist_quantile(h, p) / 1e3 for h in hists)
    tp, _, saturated = throughput_rounds(recs)
    for impl in ("c", "rs"):
        for name, d in (("throughput", tp), ("saturated", saturated)):
            vals = [d[r][impl] for r in d if impl in d[r]]
            if vals:
                m[(name, impl)] = med(vals)
    return m


def write_table(f, title, intro, vmm, info, cols, rows):
    """The report's head and its table of ratio_row()s; cols: the names of
    the baseline, of the compared and of the repetitions."""
    base, other, reps = cols
    f.write(f"# {title}\n\n")
    f.write(intro + (" Under TCG only ratios within one run mean anything." if "TCG" in vmm else "")
            + "\n\n")
    f.write("\n".join(info) + "\n\n")
    f.write(f"| metric | {base} (median) | {other} (median) | ratio {other}/{base} | IQR | {reps} | notes |\n")
    f.write("|---|---|---|---|---|---|---|\n")
    f.write("\n".join(rows) + "\n")


def intree_main(out, paths):
    """The report of `scripts/bench --intree`: stock 7.3 against 7.3 with
    the in-tree series, the i-th boot of one paired with the i-th of the
    other (scripts/bench alternates them)."""
    boots = {"c": [], "rust": []}
    info = []
    for path in paths:
        recs, _ = parse(path)
        kv = next((kv for k, kv in recs if k == "info"), {})
        smpboot = kv.get("smpboot", "?")
        if smpboot not in boots:
            sys.exit(f"bench-report: {path}: no smpboot= in its info line")
        boots[smpboot].append(intree_boot(recs))
        info.append(f"- `{path}`: {kv.get('cpus', '?')} vCPUs, kernel {kv.get('kernel', '?')}, "
                    f"smpboot: {'Rust (in-tree series)' if smpboot == 'rust' else 'C (stock)'}")
    pairs = list(zip(boots["c"], boots["rust"]))
    if not pairs:
        sys.exit("bench-report: --intree needs boots of both kernels")
    rows = []

    def row(name, key, unit, note="", per_time=False, control=None):
        """control: the key of the same metric of ksoftirqd_rs, which is
        smpboot_rs.ko on both kernels; the ratio of the two in one boot
        leaves out what moves a whole boot."""
        have = [(a[key], b[key]) for a, b in pairs if key in a and key in b]
        if not have:
            return
        stock, patched = [a for a, _ in have], [b for _, b in have]
        ratios = [a / b if per_time else b / a for a, b in have]
        if control:
            rel = [(a[key] / a[control]) / (b[key] / b[control]) if per_time
                   else (b[key] / b[control]) / (a[key] / a[control])
                   for a, b in pairs if all(k in d for k in (key, control) for d in (a, b))]
            m, q1, q3 = quart(rel)
            note = f"against the control, boot by boot: {m:.3f} (IQR {q1:.3f} – {q3:.3f})"
        rows.append(ratio_row(name, stock, patched, ratios, unit, note))

    row("boot: kernel start to SMP up (every CPU online)", "smp", " ms")
    row("boot: kernel start to userspace (/init)", "init", " ms")
    row("hotplug cycle cpu1, no module", ("hotplug", "none"), " ms",
        "the kernel's own threads parked and unparked")
    row("hotplug cycle cpu1, ksoftirqd_c loaded", ("hotplug", "c"), " ms")
    for q in ("p50", "p99"):
        row(f"the kernel's ksoftirqd: wakeup latency, {q}; control: ksoftirqd_rs local",
            ("softirq", q), " µs", control=("latency", "local", "rs", q))
    n, by_irq, busy = (sum(b.get(("softirq", key), 0) for b in boots["c"] + boots["rust"])
                       for key in ("n", "by_irq", "busy"))
    if n:
        info.append(f"- the kernel's ksoftirqd: raises it ran {n}, that an interrupt exit "
                    f"ran first {by_irq}, that found the last one unhandled {busy}")
    for impl, what in (("c", "ksoftirqd_c (the kernel's smpboot API)"),
                       ("rs", "control: ksoftirqd_rs (smpboot_rs.ko on both)")):
        vs_rs = impl != "rs"
        for mode in ("local", "remote", "irq"):
            for q in ("p50", "p99"):
                row(f"{what}: wakeup latency {mode}, {q}", ("latency", mode, impl, q), " µs",
                    control=vs_rs and ("latency", mode, "rs", q))
        row(f"{what}: throughput, writer-bound, items/s; ratio is time per item",
            ("throughput", impl), "/s", per_time=True, control=vs_rs and ("throughput", "rs"))
        row(f"{what}: throughput, saturated, time per item", ("saturated", impl), " ns",
            control=vs_rs and ("saturated", "rs"))

    vmm = accelerator(paths)
    with open(out + ".md", "w") as f:
        write_table(f, f"smpboot_rs in-tree benchmark ({out.rsplit('/', 1)[-1]})",
                    "Stock 7.3 (C smpboot) against 7.3 with the in-tree series (every per-CPU hotplug "
                    f"thread on the Rust smpboot), release kernels, {vmm}. Ratio = patched / stock "
                    "(cost: lower is better for the series), median and interquartile range over "
                    f"{len(pairs)} pairs of boots, each value the median of a boot's rounds (of "
                    "its cycles for hotplug; one each for the boot times).",
                    vmm, info, ("stock", "patched", "pairs"), rows)


def main():
    if len(sys.argv) > 3 and sys.argv[1] == "--intree":
        intree_main(sys.argv[2], sys.argv[3:])
        return
    if len(sys.argv) < 3 or sys.argv[1].startswith("-"):
        sys.exit("usage: " + __doc__.splitlines()[0])  # not an OUT named "--help"
    out = sys.argv[1]
    rows = []
    info = []
    lat_pooled = {}
    profile = []
    scaling = defaultdict(dict)
    vmm = accelerator(sys.argv[2:])
    for path in sys.argv[2:]:
        recs, graphs = parse(path)
        cpus = next((kv["cpus"] for k, kv in recs if k == "info"), "?")
        kern = next((kv["kernel"] for k, kv in recs if k == "info"), "?")
        info.append(f"- `{path}`: {cpus} vCPUs, kernel {kern}")

        # 1. Hotplug: per round, the median cycle of each configuration.
        hp = hotplug_cycles(recs)
        med = {r: {c: statistics.median(v) for c, v in d.items()} for r, d in hp.items()}
        # Only rounds of all three (scripts/bench --intree runs no rs).
        rounds = [r for r in med if all(c in med[r] for c in ("none", "c", "rs"))]
        if rounds:
            add_c = [med[r]["c"] - med[r]["none"] for r in rounds]
            add_rs = [med[r]["rs"] - med[r]["none"] for r in rounds]
            none = [med[r]["none"] for r in rounds]
            ncyc = sum(len(hp[r]["rs"]) for r in rounds)
            rows.append(ratio_row(f"hotplug cycle cpu1, total ({cpus} vCPUs)",
                                  [med[r]["c"] for r in rounds], [med[r]["rs"] for r in rounds],
                                  [med[r]["rs"] / med[r]["c"] for r in rounds], " ms",
                                  f"no module: {fmt(statistics.median(none), ' ms')}; {ncyc} cycles each"))
            ratios = [a / b for a, b in zip(add_rs, add_c) if b > 0]
            rows.append(ratio_row(f"hotplug cycle, added over no module ({cpus} vCPUs)",
                                  add_c, add_rs, ratios, " ms",
                                  f"{len(add_c) - len(ratios)} rounds with C added <= 0 left out"
                                  if len(ratios) < len(add_c) else "per-round medians minus no module"))

        # 2. Latency: per round and implementation a histogram.
        lat = latency_hists(recs)
        for mode in ("local", "remote", "irq"):
            keys = sorted(r for (m, i, r) in lat if m == mode and i == "c")
            keys = [r for r in keys if (mode, "rs", r) in lat]
            if not keys:
                continue
            for p, pname in ((0.5, "median"), (0.99, "p99")):
                c = [hist_quantile(lat[(mode, "c", r)], p) / 1e3 for r in keys]
                rs = [hist_quantile(lat[(mode, "rs", r)], p) / 1e3 for r in keys]
                pool = {}
                for impl in ("c", "rs"):
                    h = defaultdict(int)
                    for r in keys:
                        for f, n in lat[(mode, impl, r)].items():
                            h[f] += n
                    pool[impl] = h
                    lat_pooled[(cpus, mode, impl)] = h
                n_c = sum(pool["c"].values())
                n_rs = sum(pool["rs"].values())
                crs_keys = [r for r in keys if (mode, "crs", r) in lat]
                if crs_keys:
                    crs = [hist_quantile(lat[(mode, "crs", r)], p) / 1e3 for r in crs_keys]
                    c2 = [hist_quantile(lat[(mode, "c", r)], p) / 1e3 for r in crs_keys]
                    rows.append(ratio_row(f"wakeup latency {mode}, {pname}: C on smpboot_rs "
                                          f"(ksoftirqd_c_rs) in the Rust column ({cpus} vCPUs)",
                                          c2, crs, [b / a for a, b in zip(c2, crs)], " µs"))
                rows.append(ratio_row(f"wakeup latency {mode}, {pname} ({cpus} vCPUs)", c, rs,
                                      [b / a for a, b in zip(c, rs)], " µs",
                                      f"pooled: C {fmt(hist_quantile(pool['c'], p) / 1e3, ' µs')} "
                                      f"(n={n_c}), Rust {fmt(hist_quantile(pool['rs'], p) / 1e3, ' µs')} "
                                      f"(n={n_rs})"))

        # 3. Throughput, per round. Writer-bound ("throughput"): items per
        # second at the writer, and the fed threads' CPU time per item.
        # Consumer-bound ("saturated"): the threads' time per item when work
        # never runs out.
        tp, thread_cpu, saturated = throughput_rounds(recs)
        for other in ("crs", "rs"):
            what = "C on smpboot_rs (ksoftirqd_c_rs) in the Rust column " if other == "crs" else ""

            def both(d):
                rounds = [r for r in d if "c" in d[r] and other in d[r]]
                return [d[r]["c"] for r in rounds], [d[r][other] for r in rounds]

            c, o = both(tp)
            if c:
                rows.append(ratio_row(f"throughput, writer-bound, items/s; ratio is time per item "
                                      f"{what}({cpus} vCPUs)", c, o, [a / b for a, b in zip(c, o)], "/s",
                                      "" if what else "a writer on CPU 0 raising 1000 items on the "
                                      "others in turn"))
            c, o = both(thread_cpu)
            if c:
                rows.append(ratio_row(f"throughput, writer-bound, the fed threads' CPU time per item "
                                      f"{what}({cpus} vCPUs)", c, o, [b / a for a, b in zip(c, o)], " ns",
                                      "" if what else "the threads' process CPU clocks"))
            c, o = both(saturated)
            if c:
                rows.append(ratio_row(f"throughput, saturated, time per item {what}({cpus} vCPUs)",
                                      c, o, [b / a for a, b in zip(c, o)], " ns",
                                      "" if what else "TP_BURST (1000) writes of 1,000,000 items "
                                      "to CPU 1, timed until drained"))

        # 4./5. Registration, unregistration, memory.
        reg, core = by_round(recs, "reg")
        percpu = {kv["impl"]: int(kv["bytes"]) for k, kv in recs if k == "percpu"}
        rounds = [r for r in reg if "c" in reg[r] and "rs" in reg[r]]
        ncpu = cpu_count(cpus)
        if rounds:
            for key, label, scale, unit in (
                    ("insmod_ns", "insmod (register, threads up)", 1e6, " ms"),
                    ("load_ns", "insmod: loading, exec to module_load", 1e6, " ms"),
                    ("init_ns", "insmod: init, module_load to exit", 1e6, " ms"),
                    ("rmmod_ns", "rmmod (unregister)", 1e6, " ms"),
                    ("exit_ns", "rmmod: exit, exec to module_free", 1e6, " ms"),
                    ("free_ns", "rmmod: free_module, module_free to exit", 1e6, " ms")):
                if not all(key in reg[r][impl] for r in rounds for impl in reg[r]):
                    continue  # a log from before the split
                c = [int(reg[r]["c"][key]) / scale for r in rounds]
                rs = [int(reg[r]["rs"][key]) / scale for r in rounds]
                note = (f"per CPU: C {fmt(statistics.median(c) / ncpu, unit)}, "
                        f"Rust {fmt(statistics.median(rs) / ncpu, unit)}")
                have = [r for r in rounds if "crs" in reg[r]]
                if have:
                    crs = [int(reg[r]["crs"][key]) / int(reg[r]["c"][key]) for r in have]
                    m, q1, q3 = quart(crs)
                    note += f"; C on smpboot_rs / C: {m:.3f} (IQR {q1:.3f} – {q3:.3f})"
                rows.append(ratio_row(f"{label} ({cpus} vCPUs)", c, rs,
                                      [b / a for a, b in zip(c, rs)], unit, note))
                if key in ("insmod_ns", "rmmod_ns"):
                    scaling[(label, unit)][ncpu] = {
                        impl: statistics.median(int(reg[r][impl][key]) / scale for r in rounds
                                                if impl in reg[r])
                        for impl in ("c", "crs", "rs") if any(impl in reg[r] for r in rounds)}
            if core:
                info.append(f"  - smpboot_rs.ko itself: insmod {int(core['insmod_ns']) / 1e6:.1f} ms")
        kept, core_kept = by_round(recs, "mem")
        mem_rounds = [r for r in kept if "c" in kept[r] and "rs" in kept[r]]
        if mem_rounds:
            pcpu = {impl: statistics.median(int(kept[r][impl]["percpu_bytes"]) for r in mem_rounds)
                    for impl in ("c", "rs")}
            for key, label, note in (
                    ("slab_bytes", "slab kept per CPU after insmod",
                     f"kmem tracepoints; the samples' own per-CPU data is in neither: C {percpu.get('ksoftirqd_c', '?')} B "
                     f"per CPU in its static per-CPU area (per-CPU areas kept: C {pcpu['c']:,.0f} B, "
                     f"Rust {pcpu['rs']:,.0f} B), Rust {percpu.get('ksoftirqd_rs', '?')} B in one vmalloc'd array"),
                    ("tasks", "threads kept per CPU after insmod",
                     "tasks created by insmod that did not exit (task_newtask, sched_process_exit); "
                     "each has a kernel stack")):
                c = [int(kept[r]["c"][key]) / ncpu for r in mem_rounds]
                rs = [int(kept[r]["rs"][key]) / ncpu for r in mem_rounds]
                unit = " B" if key == "slab_bytes" else ""
                rows.append(ratio_row(f"{label} ({cpus} vCPUs)", c, rs,
                                      [b / a for a, b in zip(c, rs) if a > 0], unit, note))
                if key == "slab_bytes":
                    scaling[("slab kept after insmod", unit)][ncpu] = {
                        impl: statistics.median(int(kept[r][impl][key]) for r in mem_rounds)
                        for impl in ("c", "rs")}
        if core_kept:
            info.append(f"  - smpboot_rs.ko's load keeps: slab {int(core_kept['slab_bytes']):,} B, per-CPU areas "
                        f"{int(core_kept['percpu_bytes']):,} B, threads {core_kept['tasks']}")

        profile += profile_section(recs, graphs, cpus)
        profile += states_section(recs, cpus)
        profile += registration_states_section(recs, cpus)
        profile += memory_section(recs, cpus)

    profile += scaling_section(scaling)

    with open(out + ".md", "w") as f:
        write_table(f, f"smpboot_rs benchmark ({out.rsplit('/', 1)[-1]})",
                    "ksoftirqd_rs (Rust on smpboot_rs) against ksoftirqd_c (C on the kernel's smpboot), "
                    f"{vmm}, release kernel. Ratio = Rust / C (cost: lower is better for Rust), "
                    "median and interquartile range over interleaved rounds.",
                    vmm, info, ("C", "Rust", "rounds"), rows)
        if profile:
            f.write("\n" + "\n".join(profile) + "\n")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench-report: no matplotlib; no plot", file=sys.stderr)
        return
    modes = [m for m in ("local", "remote", "irq") if any(k[1] == m for k in lat_pooled)]
    if not modes:
        return
    fig, axes = plt.subplots(len(modes), 1, figsize=(8, 3 * len(modes)), squeeze=False)
    for ax, mode in zip(axes[:, 0], modes):
        for (cpus, m, impl), h in sorted(lat_pooled.items()):
            if m != mode:
                continue
            total = sum(h.values())
            fl = sorted(h)
            xs = [f / 1e3 for f in fl]
            ys = [h[f] / total for f in fl]
            label = {"c": "C (kernel smpboot)", "rs": "Rust (smpboot_rs)"}[impl]
            ax.step(xs, ys, where="post", label=f"{label}, median {hist_quantile(h, 0.5) / 1e3:.0f} µs, "
                    f"p99 {hist_quantile(h, 0.99) / 1e3:.0f} µs")
        ax.set_xscale("log")
        ax.set_title(f"wakeup latency, {mode} raise ({cpus} vCPUs, {vmm})")
        ax.set_xlabel("raise to start of handling (µs)")
        ax.set_ylabel("fraction of raises")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out + "-latency.png", dpi=100)


if __name__ == "__main__":
    main()
