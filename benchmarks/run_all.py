"""Run every benchmark under benchmarks/ and write benchmarks/results.md (`make bench`).

Each benchmark runs as its own subprocess, one after another (they time
themselves; running two at once on a small machine would only measure the
contention). Sizes default to what fits a 2-core machine in under 10 minutes
a benchmark. A benchmark's figures are ratios measured within its own run,
so they hold on a busy or slow machine where the raw seconds do not.

A benchmark reports by printing a last line ``RESULT {json}`` with `ratios`
and `targets` (see benchmarks/common.py); the table is built from those. A
script that prints a JSON object as its last line instead is read the same
way; any other output goes into results.md verbatim (its last 60 lines).

Logs (stdout, stderr, exit code, time) are kept in benchmarks/out/logs/, so
results.md can be rebuilt from them without running anything again.

    .venv/bin/python benchmarks/run_all.py                      # everything (make bench)
    .venv/bin/python benchmarks/run_all.py --only nlp_throughput end_to_end
    .venv/bin/python benchmarks/run_all.py --quick               # smoke sizes, seconds each
    .venv/bin/python benchmarks/run_all.py --from-logs           # rebuild results.md only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import OUT_DIR, machine  # noqa: E402

LOG_DIR = OUT_DIR / "logs"
NOT_BENCHMARKS = {"common.py", "run_all.py", "__init__.py"}

# Default arguments per benchmark: sizes that fit a 2-core machine in < 10 minutes each.
# Scripts not listed here run with no arguments. VARIANTS run a script again with other
# arguments, reported under "name[label]".
DEFAULT_ARGS: dict[str, list[str]] = {
    "nlp_throughput": [],
    "end_to_end": [],
    # The sizes with NLP too: 1,000 vs 10,000 articles (about 8 minutes of NLP in
    # one process, hence the longer allowance in TIMEOUTS).
    "memory": ["--nlp-small", "1000", "--nlp-large", "10000"],
    "article_body": ["--json"],
    # The 1M database is built once (minutes) and reused from benchmarks/out/search/.
    "search_bench": [
        "--sizes",
        "100000,1000000",
        "--rounds",
        "40",
        "--keep",
        str(OUT_DIR / "search"),
    ],
    # 1M articles takes far longer than 10 minutes to build on 2 cores; 100k shows the shape.
    "export_memory": ["--articles", "100000"],
    "incidents_bench": ["--json"],
}
# Seconds allowed where the default --timeout is too short for the default sizes.
TIMEOUTS: dict[str, float] = {"memory": 2400}
# OpenBLAS starts a thread per core in every process; on a small shared machine those
# threads fight the NLP workers (and each other) for the cores.
VARIANTS: dict[str, list[tuple[str, list[str]]]] = {
    "nlp_throughput": [("blas1", ["--blas-threads", "1"])],
    # settings.nlp_workers: 2 (extraction and NLP in two worker processes)
    "end_to_end": [("workers2", ["--nlp-workers", "2"])],
}
QUICK_ARGS: dict[str, list[str]] = {
    "nlp_throughput": ["--articles", "12", "--rounds", "1"],
    "end_to_end": [
        "--articles",
        "30",
        "--feeds",
        "2",
        "--min-latency",
        "0.0",
        "--max-latency",
        "0.02",
    ],
    "memory": ["--small", "30", "--large", "90", "--nlp-small", "5", "--nlp-large", "10"],
    "article_body": ["--json", "--repeat", "1"],
    "search_bench": ["--sizes", "2000,4000", "--rounds", "3"],
    "export_memory": [
        "--articles",
        "2000",
        "--db",
        str(OUT_DIR / "quick" / "export.db"),
        "--out",
        str(OUT_DIR / "quick" / "export"),
    ],
    "incidents_bench": ["--json", "--no-demo", "--orders", "1"],
}
TAIL_LINES = 60


def discover() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.name not in NOT_BENCHMARKS)


def keys(names: list[str]) -> list[str]:
    """Report keys: each script, then its variants as "name[label]"."""
    return [k for n in names for k in [n] + [f"{n}[{label}]" for label, _ in VARIANTS.get(n, [])]]


def script_of(key: str) -> str:
    return key.split("[", 1)[0]


def run_one(name: str, args: list[str], timeout: float) -> dict:
    """Run one benchmark (script or "script[variant]"); keep its output; return the meta record."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(HERE / f"{script_of(name)}.py"), *args]
    print(f"== {name} {' '.join(args)}", flush=True)
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=HERE.parent)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc = "timeout"
        out = (
            exc.stdout.decode(errors="replace")
            if isinstance(exc.stdout, bytes)
            else (exc.stdout or "")
        )
        err = (
            exc.stderr.decode(errors="replace")
            if isinstance(exc.stderr, bytes)
            else (exc.stderr or "")
        )
        err += f"\n(stopped after {timeout:.0f} s; raise --timeout to let it finish)"
    seconds = round(time.perf_counter() - started, 1)
    (LOG_DIR / f"{name}.log").write_text(out, encoding="utf-8")
    (LOG_DIR / f"{name}.err").write_text(err, encoding="utf-8")
    meta = {"rc": rc, "seconds": seconds, "args": args}
    (LOG_DIR / f"{name}.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    print(f"   exit {rc} in {seconds} s", flush=True)
    return meta


def parse_result(stdout: str) -> dict | None:
    """The benchmark's RESULT line, or a last line that is a JSON object, else None."""
    lines = [ln for ln in stdout.strip().splitlines() if ln.strip()]
    for line in reversed(lines):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    if lines:
        try:
            obj = json.loads(lines[-1])
        except json.JSONDecodeError:
            pass
        else:
            return obj if isinstance(obj, dict) else None
        try:  # pretty-printed JSON: the whole output is one object
            obj = json.loads(stdout)
        except json.JSONDecodeError:
            return None
        return obj if isinstance(obj, dict) else None
    return None


def met(value, target: str) -> str:
    if value is None or not isinstance(target, str):
        return "?"
    op, _, bound = target.partition(" ")
    try:
        b = float(bound)
    except ValueError:
        return "?"
    ok = value <= b if op == "<=" else value >= b if op == ">=" else None
    return "?" if ok is None else ("yes" if ok else "**no**")


def adapt(name: str, res: dict) -> dict:
    """Ratios and targets for scripts that report in their own shape."""
    if "ratios" in res:
        return res
    if script_of(name) == "article_body" and "results" in res:
        f1 = res["results"].get("tracker", {}).get("f1")
        base = res["results"].get("trafilatura", {}).get("f1")
        return {
            **res,
            "ratios": {
                "body_f1 (tracker)": f1,
                "body_f1 (trafilatura)": base,
                "time_vs_trafilatura": res.get("time_ratio"),
            },
            "targets": {"body_f1 (tracker)": ">= 0.97", "time_vs_trafilatura": "<= 1.2"},
        }
    return res


def loadavg(res: dict):
    host = res.get("machine")
    return host.get("loadavg", "?") if isinstance(host, dict) else "?"


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


NOTES_HEADING = "## What bounds the missed targets"


def readme_section(heading: str) -> str:
    """The text under `heading` in benchmarks/README.md (up to the next level-2 heading)."""
    readme = HERE / "README.md"
    if not readme.exists():
        return ""
    text = readme.read_text(encoding="utf-8")
    start = text.find(heading + "\n")
    if start < 0:
        return ""
    body = text[start + len(heading) :]
    end = body.find("\n## ")
    return (body if end < 0 else body[:end]).strip()


def render(names: list[str], host: dict) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (`benchmarks/run_all.py`) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "Each figure is a ratio of two measurements taken in the same run of the same "
        "benchmark, so it stays meaningful when the machine is slow or shared; raw numbers follow.",
        "",
        "## Machine",
        "",
        f"- CPU: {host['cpu']} — {host['cores']} cores ({host['usable_cores']} usable)",
        f"- Memory: {host['memory_gib']} GiB; {host['os']}; Python {host['python']}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in host["packages"].items()),
        f"- Load average when the report was written: {host['loadavg']} "
        "(other work on the machine makes wall times noisy; each benchmark records its own)",
        "",
        "## Figures",
        "",
        "| benchmark | figure | measured | target | met |",
        "|---|---|---|---|---|",
    ]
    sections, tails = [], []
    for name in names:
        log = LOG_DIR / f"{name}.log"
        if not log.exists():
            lines.append(f"| {name} | (not run) | | | |")
            continue
        out = log.read_text(encoding="utf-8")
        err = (
            (LOG_DIR / f"{name}.err").read_text(encoding="utf-8")
            if (LOG_DIR / f"{name}.err").exists()
            else ""
        )
        meta_path = LOG_DIR / f"{name}.meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        try:
            res = parse_result(out)
        except json.JSONDecodeError:
            res = None
        res = adapt(name, res) if res else None
        if res and res.get("ratios"):
            targets = res.get("targets", {})
            for key, value in res["ratios"].items():
                target = targets.get(key, "")
                verdict = met(value, target) if target else ""
                lines.append(f"| {name} | {key} | {fmt(value)} | {target} | {verdict} |")
            raw = {
                k: v
                for k, v in res.items()
                if k not in ("ratios", "targets", "machine", "benchmark")
            }
            sections += [
                f"### {name}",
                "",
                f"Command: `benchmarks/{script_of(name)}.py {' '.join(meta.get('args', []))}` "
                "— exit "
                f"{meta.get('rc', '?')}, {meta.get('seconds', '?')} s; load average at the end "
                f"{loadavg(res)}.",
                "",
                "```",
                *[ln for ln in out.splitlines() if not ln.startswith("RESULT ")][-TAIL_LINES:],
                "```",
                "",
                "<details><summary>raw numbers (JSON)</summary>",
                "",
                "```json",
                json.dumps(raw, indent=1, sort_keys=True),
                "```",
                "</details>",
                "",
            ]
        else:
            status = "failed" if meta.get("rc") not in (0, None) else "no ratios reported"
            lines.append(f"| {name} | ({status}: output below) | | | |")
            tail = out.rstrip().splitlines() + (
                ["--- stderr ---"] + err.rstrip().splitlines()[-20:]
                if meta.get("rc") not in (0, None) and err.strip()
                else []
            )
            tails += [
                f"### {name}",
                "",
                f"Command: `benchmarks/{script_of(name)}.py {' '.join(meta.get('args', []))}` "
                "— exit "
                f"{meta.get('rc', '?')}, {meta.get('seconds', '?')} s. "
                f"Output (last {TAIL_LINES} lines):",
                "",
                "```",
                *tail[-TAIL_LINES:],
                "```",
                "",
            ]
    lines += ["", "## Details", "", *sections]
    if tails:
        lines += ["## Other benchmarks' output (verbatim)", "", *tails]
    analysis = readme_section(NOTES_HEADING)
    if analysis:
        lines += [NOTES_HEADING, "", f"(From benchmarks/README.md.) {analysis}", ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    ap.add_argument("--skip", nargs="+", metavar="NAME", default=[], help="do not run these")
    ap.add_argument(
        "--quick", action="store_true", help="smoke sizes (seconds each), for checking the scripts"
    )
    ap.add_argument("--timeout", type=float, default=900, help="seconds allowed per benchmark")
    ap.add_argument("--no-variants", action="store_true", help="skip the extra VARIANTS runs")
    ap.add_argument(
        "--from-logs", action="store_true", help="rebuild results.md from benchmarks/out/logs"
    )
    ap.add_argument(
        "--output",
        type=Path,
        help="default: benchmarks/results.md (benchmarks/out/quick/results.md with --quick)",
    )
    ap.add_argument(
        "--logs",
        type=Path,
        help="log folder (default: benchmarks/out/logs, benchmarks/out/quick with --quick)",
    )
    args = ap.parse_args(argv)
    global LOG_DIR
    LOG_DIR = args.logs or (OUT_DIR / "quick" if args.quick else LOG_DIR)
    output = args.output or (LOG_DIR / "results.md" if args.quick else HERE / "results.md")

    names = discover()
    unknown = [n for n in (args.only or []) + args.skip if n not in names]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(names)}",
            file=sys.stderr,
        )
        return 2
    chosen = [n for n in (args.only or names) if n not in args.skip]
    failures = 0
    if not args.from_logs:
        table = QUICK_ARGS if args.quick else DEFAULT_ARGS
        for name in chosen:
            runs = [(name, table.get(name, []))]
            if not args.quick and not args.no_variants:
                runs += [(f"{name}[{label}]", extra) for label, extra in VARIANTS.get(name, [])]
            for key, run_args in runs:
                timeout = args.timeout if args.quick else max(args.timeout, TIMEOUTS.get(name, 0))
                meta = run_one(key, run_args, timeout)
                failures += meta["rc"] != 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(keys(names), machine()), encoding="utf-8")
    print(f"wrote {output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
