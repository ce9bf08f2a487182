"""Crash safety: a run killed with SIGKILL (or stopped with Ctrl-C) loses nothing stored.

Each case runs `tracker run` in a subprocess against a loopback site whose pages
answer slowly, kills it at a chosen point, checks the database, then re-runs to
completion and checks that every article is there exactly once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.support.httpserver import loopback  # noqa: F401  (fixture)

N_ARTICLES = 24


def _page(i: int) -> str:
    return (f"<html><head><title>Story {i}: regulator fines company {i}</title></head><body>"
            f"<article><h1>Story {i}</h1>"
            + "".join(f"<p>Paragraph {j} of story {i}: the Federal Trade Commission said on "
                      f"Monday that Example Corp {i} misled customers about fees, and Example "
                      f"Corp {i} denied the claims in a statement.</p>" for j in range(4))
            + "</article></body></html>")


def _feed(base: str) -> str:
    items = "".join(
        f"<item><title>Story {i}</title><link>{base}/a/{i}.html</link>"
        f"<guid>story-{i}</guid></item>" for i in range(N_ARTICLES))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title>'
            f"<link>{base}</link><description>d</description>{items}</channel></rss>")


@pytest.fixture
def slow_site(loopback, tmp_path):  # noqa: F811
    loopback.route("/feed.xml", body=_feed(loopback.base), content_type="application/rss+xml")
    for i in range(N_ARTICLES):
        loopback.route(f"/a/{i}.html", body=_page(i), content_type="text/html", delay=0.15)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("settings:\n  allow_private_networks: true\n  min_host_delay: 0\n"
                     "  respect_robots: false\n  per_host: 2\n  concurrency: 2\n"
                     f"feeds:\n  - url: {loopback.url('/feed.xml')}\n    name: slow\n")
    return feeds


def _start(feeds, db) -> subprocess.Popen:
    env = {**os.environ, "TRACKER_NO_PROGRESS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", "run", "--feeds", str(feeds), "--db", str(db),
         "--no-nlp"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def _articles(db) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet


def _wait_for(db, n: int, proc: subprocess.Popen, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while _articles(db) < n:
        assert proc.poll() is None, "the run finished before the kill point"
        assert time.monotonic() < deadline, f"fewer than {n} articles after {limit}s"
        time.sleep(0.05)


def _check_complete(db) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == N_ARTICLES
        assert conn.execute("SELECT COUNT(DISTINCT content_hash) FROM articles").fetchone()[0] \
            == N_ARTICLES
        fts = conn.execute("SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH 'misled'"
                           ).fetchone()[0]
        assert fts == N_ARTICLES
        # every article went through the incidents step, even those a killed run stored
        assert conn.execute("SELECT COUNT(DISTINCT article_id) FROM article_signatures"
                            ).fetchone()[0] == N_ARTICLES


@pytest.mark.parametrize("kill_after", [0, 3, 15])
def test_sigkill_at_any_point_then_rerun_completes(slow_site, tmp_path, kill_after):
    db = tmp_path / "crash.db"
    proc = _start(slow_site, db)
    try:
        if kill_after:
            _wait_for(db, kill_after, proc)
        else:
            time.sleep(0.5)  # during start-up, migrations and the feed fetch
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The kernel dropped the run lock with the process: the next run starts at once.
    rerun = _start(slow_site, db)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    _check_complete(db)


@pytest.mark.parametrize("validator", ["etag", "same bytes"])
def test_entries_a_killed_run_queued_are_fetched_by_the_next_despite_an_unchanged_feed(
        slow_site, loopback, tmp_path, validator):  # noqa: F811
    """The killed run recorded the feed (its ETag, the hash of its bytes) before all of its
    entries were stored; the next run must not take the feed's "nothing new" for an answer."""
    loopback.route("/feed.xml", body=_feed(loopback.base), content_type="application/rss+xml",
                   etag='"v1"' if validator == "etag" else None)
    db = tmp_path / "etag.db"
    proc = _start(slow_site, db)
    try:
        _wait_for(db, 3, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _articles(db) < N_ARTICLES
    rerun = _start(slow_site, db)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert "The previous run did not finish, so every feed was read in full" in out
    _check_complete(db)
    # once a run has finished, an unchanged feed costs nothing again
    third = _start(slow_site, db)
    out, err = third.communicate(timeout=60)
    assert third.returncode == 0, err
    assert "0/1 feeds fetched, 1 unchanged" in out, out


def test_ctrl_c_stops_cleanly_with_a_summary(slow_site, tmp_path):
    db = tmp_path / "int.db"
    proc = _start(slow_site, db)
    try:
        _wait_for(db, 2, proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "interrupted" in out and "Traceback" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        summary = conn.execute("SELECT summary FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert '"interrupted": true' in summary
    rerun = _start(slow_site, db)
    rerun.communicate(timeout=120)
    _check_complete(db)


def test_second_run_exits_at_once_while_one_runs(slow_site, tmp_path):
    db = tmp_path / "lock.db"
    first = _start(slow_site, db)
    try:
        _wait_for(db, 1, first)
        t0 = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "tracker", "run", "--feeds", str(slow_site), "--db", str(db)],
            capture_output=True, text=True, timeout=60)
        assert second.returncode == 3
        assert "another `tracker run`" in second.stderr
        assert time.monotonic() - t0 < 15
        first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    _check_complete(db)


def test_sigkill_with_nlp_workers_leaves_no_orphans(slow_site, tmp_path):
    feeds = tmp_path / "workers.yaml"
    feeds.write_text(slow_site.read_text().replace("settings:\n", "settings:\n  nlp_workers: 2\n"))
    db = tmp_path / "workers.db"
    env = {**os.environ, "TRACKER_NO_PROGRESS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "run", "--feeds", str(feeds),
                             "--db", str(db)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    try:
        _wait_for(db, 2, proc, limit=90)
        children = [int(p) for p in subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()]
        assert children, "no worker processes were started"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    alive = children
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in alive if _running(pid)]
    assert not alive, f"worker processes outlived the killed run: {alive}"
    rerun = _start(slow_site, db)
    rerun.communicate(timeout=120)
    _check_complete(db)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
