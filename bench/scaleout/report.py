#!/usr/bin/python3
"""Reads what bench/scaleout/run.sh measured (.cache/bench-scaleout/) and
prints results.json, or with --markdown the tables of bench/README.md.

Per run: wall seconds from the shell; for augur-beam runs also the phases
read from its --verbose log (Beam's timestamps, milliseconds):
  launch    process start to Beam's first line: opening the database,
            planning (glob, parquet_metadata), writing the job database
  staging   "Prepared job" to "Staged binary artifact": the worker binary
            sent to the job server (jobserver only; prism in-process
            stages nothing)
  submit    the rest until the job is RUNNING
  pipeline  RUNNING to the pipeline's end: worker start, model loads,
            splits, shuffle, merge
  finish    pipeline end to process exit: the final query over the merged
            partials, printing, exit
Medians over the rounds (round 0, the embedded engine's first run, only
gives the expected output)."""
import datetime
import json
import os
import re
import statistics
import sys

C = os.environ.get("C", ".cache/bench-scaleout")
CONFIGS = ["embedded", "prism_w1", "prism_w2", "jobserver_w1", "jobserver_w2", "process_w1", "process_w2"]
WORKLOADS = ["forest", "copy", "images", "tiny"]
UNIT = {"forest": "rows", "copy": "rows", "images": "images", "tiny": "rows"}


def ts(line):
    m = re.match(r"time=(\S+)Z ", line)
    if not m:
        return None
    return datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc).timestamp()


def beam_phases(log, t0, t1):
    marks = {}
    for line in open(log, errors="replace"):
        t = ts(line)
        if t is None:
            continue
        marks.setdefault("first", t)
        for key, pat in (("prepared", "Prepared job"), ("staged", "Staged binary artifact"),
                         ("running", "state: RUNNING"), ("done", "pipeline done!"), ("done", "pipeline completed")):
            if pat in line:
                marks.setdefault(key, t)
    if not {"first", "running", "done"} <= marks.keys():
        return None
    out = {"launch": marks["first"] - t0}
    if "staged" in marks and "prepared" in marks:
        out["staging"] = marks["staged"] - marks["prepared"]
    out["submit"] = marks["running"] - marks["first"] - out.get("staging", 0.0)
    out["pipeline"] = marks["done"] - marks["running"]
    out["finish"] = t1 - marks["done"]
    return {k: round(v, 3) for k, v in out.items()}


def med(xs):
    return round(statistics.median(xs), 3) if xs else None


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def rowrange():
    path = os.path.join(C, "rowrange.out")
    if not os.path.exists(path):
        return None
    times, q = {}, None
    for line in open(path):
        m = re.match(r"Run Time \(s\): real ([0-9.]+) user ([0-9.]+) sys ([0-9.]+)", line)
        if m and q:
            times.setdefault(q, []).append((float(m.group(1)), float(m.group(2)) + float(m.group(3))))
            q = None
        elif "," in line and not line.startswith("q,"):
            q = line.split(",")[0]
    out = {"rows": [int(os.environ.get("RG0", 0)), int(os.environ.get("RG1", 0))],
           "row_groups_in_file": int(os.environ.get("RGN", 0)),
           "file_bytes": int(os.environ.get("BIG_BYTES", 0))}
    for k, v in times.items():
        out[k + "_real_s"] = med([a for a, _ in v])
        out[k + "_cpu_s"] = med([b for _, b in v])
    for a, b in (("range", "whole"), ("same_rows_no_pushdown", "whole"), ("forest_range", "forest_whole")):
        if out.get(a + "_cpu_s") and out.get(b + "_cpu_s"):
            out[a + "_vs_" + b + "_cpu"] = round(out[a + "_cpu_s"] / out[b + "_cpu_s"], 3)
    for name in ("eighths", "whole"):
        p = load_json(os.path.join(C, "phases-big-%s.json" % name))
        if p:
            out["planner_" + name] = {"splits": p["splits"], "splits_seconds": round(p["splits_seconds"], 3),
                                      "split_seconds": [round(s["seconds"], 3) for s in p["split_times"]],
                                      "split_rows": [s["rows"] for s in p["split_times"]]}
    return out


def main():
    runs = []
    with open(os.path.join(C, "runs.tsv")) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(header, line.rstrip("\n").split("\t")))
            if r["round"] == "0":
                continue
            r["seconds"], r["units"], r["load1"] = float(r["seconds"]), int(r["units"]), float(r["load1"])
            r["start"], r["end"] = float(r["start"]), float(r["end"])
            if r["config"] != "embedded":
                r["phases"] = beam_phases(r["stderr"], r["start"], r["end"])
            runs.append(r)
    res = {"built_from": os.environ.get("BUILT_FROM", ""), "rows": int(os.environ.get("ROWS", 0)), "images": int(os.environ.get("IMAGES", 0)),
           "files": int(os.environ.get("FILES", 0)), "rounds": int(os.environ.get("ROUNDS", 0)),
           "cpus": os.cpu_count(), "workloads": {}}
    for w in WORKLOADS:
        rw = [r for r in runs if r["workload"] == w]
        if not rw:
            continue
        emb = med([r["seconds"] for r in rw if r["config"] == "embedded"])
        wl = {"unit": UNIT[w], "units": rw[0]["units"], "configs": {}}
        for cfg in CONFIGS:
            rc = [r for r in rw if r["config"] == cfg]
            if not rc:
                continue
            secs = med([r["seconds"] for r in rc])
            e = {"median_seconds": secs, "seconds": [r["seconds"] for r in rc],
                 "per_s": round(rc[0]["units"] / secs, 1), "load1": [r["load1"] for r in rc]}
            if emb:
                e["vs_embedded"] = round(emb / secs, 3)
                e["overhead"] = round(secs / emb - 1, 3)
            ph = [r["phases"] for r in rc if r.get("phases")]
            if ph:
                e["phases_median"] = {k: med([p[k] for p in ph if k in p]) for k in ph[0]}
            wl["configs"][cfg] = e
        res["workloads"][w] = wl
    res["phases_in_process"] = {}
    for w in WORKLOADS:
        p = load_json(os.path.join(C, "phases-%s.json" % w))
        if p:
            p["split_seconds"] = [round(s["seconds"], 3) for s in p.pop("split_times")]
            res["phases_in_process"][w] = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in p.items()}
    res["row_range_split"] = rowrange()
    extras = load_json(os.path.join(C, "extras.json"))
    if extras:
        res.update(extras)
    res["sizes_bytes"] = {k: size(os.path.join(C, v)) for k, v in (
        ("augur_binary", "augur"), ("augur_beam_binary", "augur-beam"), ("prism_binary", "prism"),
        ("worker_pool_binary", "container"), ("forest_model", "forest.joblib"), ("augur_database", "bench.db"))}
    res["sizes_bytes"]["resnet18_model"] = size(".cache/onnx-models/resnet18.onnx")
    try:
        pool = open(os.path.join(C, "logs", "pool.log")).read()
        res["worker_pool_workers_started"] = pool.count("starting worker")
        res["jobserver_jobs"] = len([r for r in runs if r["config"].startswith("jobserver")])
    except OSError:
        pass
    if "--markdown" in sys.argv:
        markdown(res)
    else:
        print(json.dumps(res, indent=1))


def markdown(res):
    for w, wl in res["workloads"].items():
        print("\n%s (%d %s)\n" % (w, wl["units"], wl["unit"]))
        print("| configuration | median s | %s/s | vs embedded | runs (s) | phases (median s) |" % wl["unit"])
        print("|---|---:|---:|---:|---|---|")
        for cfg, e in wl["configs"].items():
            ph = ", ".join("%s %.2f" % kv for kv in e.get("phases_median", {}).items())
            print("| %s | %.2f | %s | %.2fx | %s | %s |" % (cfg, e["median_seconds"], format(round(e["per_s"]), ","),
                                                         e.get("vs_embedded", 0), ", ".join("%.1f" % s for s in e["seconds"]), ph))
    print()
    print(json.dumps(res["phases_in_process"], indent=1))
    print(json.dumps(res["row_range_split"], indent=1))
    print(json.dumps({k: res.get(k) for k in ("planning", "model_rss_kb")}, indent=1))


if __name__ == "__main__":
    main()
