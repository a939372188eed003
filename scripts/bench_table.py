#!/usr/bin/env python3
"""Prints lossfn_bench's JSON output (--benchmark_out_format=json) as a table.

Each lossfn case's label says which same-run baseline it is measured against and
which libtorch case is its peer ("vs base/r2w1/f32/1e7 torch/mse/forward_backward/f32/1e7").
Times are medians of CPU time when the run has repetitions (else the single run).

  % of base : baseline time / case time over the same bytes: the share of the
              machine's limit (memory bandwidth, or exp/log throughput) the case reaches
  x torch   : libtorch time / case time (> 1: lossfn is faster)

Usage: bench_table.py RUN.json [RUN2.json ...] [--filter REGEX] [--markdown]
(several runs of the same cases: one time / % / x torch column group per run)
"""
import argparse
import json
import re
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows, medians = {}, {}
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        t = b["cpu_time"] * UNIT_NS[b.get("time_unit", "ns")]
        entry = {"ns": t, "label": b.get("label", ""), "bps": b.get("bytes_per_second")}
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = entry
        else:
            rows.setdefault(name, entry)  # first repetition, used when no aggregates
    rows.update(medians)
    return data.get("context", {}), rows


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json", nargs="+", help="one run, or several runs of the same cases side by side")
    ap.add_argument("--filter", default="")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    runs = [load(path) for path in args.json]
    context, rows = runs[0]
    pattern = re.compile(args.filter)

    several = len(runs) > 1
    header = ["case", "GB/s", "baseline"]
    for i in range(len(runs)):
        tag = f" #{i + 1}" if several else ""
        header += ["time" + tag, "% of base" + tag, "x torch" + tag]
    table = []
    for name, r in rows.items():
        if name.startswith(("base/", "torch/")) or not pattern.search(name):
            continue
        refs = r["label"].split()[1:] if r["label"].startswith("vs ") else []
        base = refs[0] if refs else None
        peer = refs[1] if len(refs) > 1 else None
        row = [name, f"{r['bps'] / 1e9:.1f}" if r["bps"] else "", base or ""]
        for _, run in runs:
            c = run.get(name)
            b = run.get(base) if base else None
            p = run.get(peer) if peer else None
            row += [
                fmt_time(c["ns"]) if c else "",
                f"{100 * b['ns'] / c['ns']:.0f}%" if b and c else "",
                f"{p['ns'] / c['ns']:.1f}" if p and c else "",
            ]
        table.append(row)
    if context:
        print(f"# {context.get('host_name', '')}: {context.get('num_cpus', '?')} CPUs at "
              f"{context.get('mhz_per_cpu', '?')} MHz, {context.get('date', '')}")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *table)] if table else [len(h) for h in header]
        for row in [header] + table:
            print("  ".join(str(x).ljust(w) if i in (0, 2) else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
