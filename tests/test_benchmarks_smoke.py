"""Smoke tests: each benchmark script runs at a tiny size and reports its RESULT line.

These check that the scripts work, not the numbers: benchmarks are run by `make bench`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

pytestmark = pytest.mark.timeout(300)


def _result(stdout: str) -> dict:
    lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"no RESULT line in:\n{stdout[-2000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


def test_news_site_serves_feeds_pages_and_304():
    import httpx
    from common import NewsSite, generate_article

    site = NewsSite(12, 3, min_latency=0.0, max_latency=0.01).start()
    try:
        feeds = site.feed_urls()
        assert len(feeds) == 3
        r = httpx.get(feeds[0])
        assert r.status_code == 200 and r.text.count("<item>") == 4
        assert httpx.get(feeds[0], headers={"If-None-Match": r.headers["etag"]}).status_code == 304
        page = httpx.get(site.base + generate_article(5).path)
        assert page.status_code == 200 and generate_article(5).paragraphs[1][:40] in page.text
        assert httpx.get(site.base + "/nope").status_code == 404
    finally:
        site.stop()


def test_generated_articles_are_deterministic_and_varied():
    from common import generate_article

    a, b = generate_article(3), generate_article(3)
    assert a == b
    texts = {generate_article(i).text for i in range(50)}
    assert len(texts) == 50
    assert all(100 < len(generate_article(i).text.split()) < 600 for i in range(50))
    # Distinct stories must not look like copies (copy detection would link them).
    grams = []
    for i in range(30):
        w = generate_article(i).text.lower().split()
        grams.append({" ".join(w[j : j + 5]) for j in range(len(w) - 4)})
    worst = max(
        len(a & b) / min(len(a), len(b)) for k, a in enumerate(grams) for b in grams[k + 1 :]
    )
    assert worst < 0.5


def test_nlp_throughput_tiny(capsys):
    import nlp_throughput

    res = nlp_throughput.main(["--articles", "20", "--rounds", "1", "--batch-size", "8"])
    assert res["articles"] == 20 and res["words"] > 0
    assert res["ratios"]["tracker_vs_plain_spacy"] > 0 and res["ratios"]["two_workers_vs_one"] > 0
    assert _result(capsys.readouterr().out)["benchmark"] == "nlp_throughput"


def test_end_to_end_tiny(capsys):
    import end_to_end

    res = end_to_end.main(
        ["--articles", "12", "--feeds", "2", "--min-latency", "0", "--max-latency", "0.01"]
    )
    assert (
        res["stored"] == 12
        and res["first_run"]["new"] == 12
        and res["first_run"]["pages_failed"] == 0
    )
    assert res["rerun_304_new"] == 0 and res["rerun_no_etag_new"] == 0
    assert res["ratios"]["total_vs_analyze_only"] > 0
    assert _result(capsys.readouterr().out)["benchmark"] == "end_to_end"


def test_memory_tiny(capsys):
    import memory

    res = memory.main(["--small", "10", "--large", "30", "--nlp-small", "3", "--nlp-large", "6"])
    assert res["runs"]["no_nlp_large"]["new"] == 30 and res["runs"]["nlp_small"]["new"] == 3
    assert set(res["ratios"]) == {"no_nlp_30_vs_10", "nlp_6_vs_3"}
    assert _result(capsys.readouterr().out)["benchmark"] == "memory"


def test_run_all_runs_a_benchmark_and_writes_the_table(tmp_path):
    out = tmp_path / "results.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run_all.py"),
            "--quick",
            "--only",
            "end_to_end",
            "--logs",
            str(tmp_path / "logs"),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    md = out.read_text()
    assert "## Machine" in md and "| end_to_end | total_vs_analyze_only |" in md
    assert "| nlp_throughput | (not run) |" in md


def test_run_all_rejects_unknown_names(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--only", "nosuch", "--logs", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown benchmark(s): nosuch" in proc.stderr


def test_run_all_keeps_output_of_scripts_without_a_result_line(tmp_path, monkeypatch):
    import run_all

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "article_body.log").write_text("article-body benchmark skipped: no data\n")
    (logs / "article_body.meta.json").write_text(json.dumps({"rc": 0, "seconds": 0.1, "args": []}))
    monkeypatch.setattr(run_all, "LOG_DIR", logs)
    md = run_all.render(["article_body"], run_all.machine())
    assert "| article_body | (no ratios reported: output below) |" in md
    assert "article-body benchmark skipped: no data" in md
    assert run_all.met(1.3, "<= 1.25") == "**no**" and run_all.met(1.8, ">= 1.7") == "yes"
