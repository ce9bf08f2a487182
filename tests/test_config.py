"""feeds.yaml loading: valid files, every kind of error with file, key and line, path resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.config import load_config, resolve_paths
from tracker.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str, name: str = "feeds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.exit_code == 2
    assert "\n" not in str(info.value), "config errors are one line"
    return info.value


def test_shipped_feeds_yaml_is_valid_and_real():
    config = load_config(ROOT / "feeds.yaml")
    assert 15 <= len(config.feeds) <= 30
    assert all(f.url.startswith("https://") for f in config.feeds)
    tags = {t for f in config.feeds for t in f.tags}
    assert {"regulator", "security", "tech-news"} <= tags
    assert config.settings.allow_private_networks is False
    assert "allegation-tracker" in config.settings.user_agent


def test_full_file_is_read_into_typed_records(tmp_path):
    (tmp_path / "local.xml").write_text("<rss/>")
    path = write(tmp_path, """\
settings:
  concurrency: 3
  total_timeout: 12.5
  min_host_delay: 0
  allow_private_networks: true
  database: data/my.db
  gazetteer: extra.yaml
feeds:
  - url: https://example.com/feed
    name: Example
    tags: [a, b]
    enabled: false
    fetch_articles: false
    respect_robots: false
    max_articles: 7
  - https://example.org/rss
  - url: local.xml
  - url: file:///srv/feed.xml
""")
    config = load_config(path)
    s = config.settings
    assert (s.concurrency, s.total_timeout, s.min_host_delay) == (3, 12.5, 0.0)
    assert s.allow_private_networks is True
    assert s.database == str(tmp_path / "data" / "my.db")
    assert s.gazetteer == (str(tmp_path / "extra.yaml"),)
    first = config.feeds[0]
    assert (first.url, first.name, first.tags, first.enabled) == (
        "https://example.com/feed", "Example", ("a", "b"), False)
    assert (first.fetch_articles, first.respect_robots, first.max_articles) == (False, False, 7)
    assert first.line == 9
    assert config.feeds[1].url == "https://example.org/rss" and config.feeds[1].line == 16
    assert config.feeds[2].url == str(tmp_path / "local.xml")  # relative to the file
    assert config.feeds[3].url == "file:///srv/feed.xml"
    assert config.feeds[1].fetch_articles is None  # None: use the global setting


@pytest.mark.parametrize("text, line, key, words", [
    ("feeds:\n  - url: [unclosed\n", 3, None, "YAML syntax error"),
    ("feeds:\n\t- url: x\n", 2, None, "YAML syntax error"),
    ("feeds:\n  - url: https://a.example/f\n    colour: red\n", 3, "feeds[0].colour",
     "unknown key"),
    ("settings:\n  concurency: 3\nfeeds: []\n", 2, "settings.concurency", "unknown setting"),
    ("feeds: []\nextra: 1\n", 2, "extra", "unknown top-level key"),
    ("feeds:\n  - url: https://a.example/f\n  - name: no url here\n", 3, "feeds[1].url",
     "missing"),
    ("feeds:\n  - url: https://a.example/f\n  - url: https://b.example/f\n    tags: 3\n", 4,
     "feeds[1].tags", "expected a list of strings, got int"),
    ("feeds:\n  - url: https://a.example/f\n    tags: [ok, 5]\n", 3, "feeds[0].tags",
     "expected a list of strings"),
    ("settings:\n  concurrency: many\nfeeds: []\n", 2, "settings.concurrency",
     "expected a whole number, got string"),
    ("settings:\n  concurrency: 0\nfeeds: []\n", 2, "settings.concurrency", "greater than 0"),
    ("settings:\n  allow_private_networks: yes please\nfeeds: []\n", 2,
     "settings.allow_private_networks", "expected true or false"),
    ("settings:\n  total_timeout: true\nfeeds: []\n", 2, "settings.total_timeout",
     "expected a number, got bool"),
    ("feeds:\n  - url: 42\n", 2, "feeds[0].url", "expected a non-empty string, got int"),
    ("feeds:\n  - url: ftp://a.example/f\n", 2, "feeds[0].url", "unsupported URL scheme"),
    ("feeds:\n  - url: https:///nohost\n", 2, "feeds[0].url", "has no host"),
    ("feeds:\n  - url: https://a.example/f\n  - url: https://a.example/f\n", 3, "feeds[1].url",
     "duplicate of feeds[0]"),
    ("feeds:\n  url: https://a.example/f\n", 2, "feeds", "expected a list of feeds"),
    ("feeds:\n  - url: https://a.example/f\n    enabled: 1\n", 3, "feeds[0].enabled",
     "expected true or false"),
    ("feeds:\n  - url: https://a.example/f\n    url: https://b.example/f\n", 3, "feeds[0].url",
     "duplicate key"),
    ("settings:\n  max_bytes: 5\n", 1, "feeds", "missing"),
    ("- just\n- a list\n", 1, None, "expected a mapping"),
])
def test_bad_file_names_file_key_and_line(tmp_path, text, line, key, words):
    path = write(tmp_path, text)
    error = config_error(path)
    assert error.path == str(path)
    assert error.line == line, str(error)
    assert error.key == key, str(error)
    assert words in str(error)
    assert str(error).startswith(f"{path}:{line}: ")


def test_message_format_matches_documented_example(tmp_path):
    feeds = "".join(f"  - url: https://f{i}.example/rss\n" for i in range(3))
    path = write(tmp_path, "# comment\n\nfeeds:\n" + feeds
                 + "  - url: https://x.example/rss\n    name: X\n    tags: 7\n")
    assert str(config_error(path)) == (
        f"{path}:9: feeds[3].tags: expected a list of strings, got int")


def test_missing_and_empty_files(tmp_path):
    error = config_error(tmp_path / "nope.yaml")
    assert "TRACKER_FEEDS" in str(error) and "feeds:" in str(error)
    error = config_error(write(tmp_path, "# nothing yet\n"))
    assert error.key == "feeds" and "empty" in str(error)
    error = config_error(write(tmp_path, b"\xff\xfe\x00bad".decode("latin-1")))
    assert str(tmp_path) in str(error)


def test_not_utf8_file_is_a_config_error(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_bytes(b"feeds:\n  - url: https://caf\xe9.example/\n")
    assert "cannot read" in str(config_error(path))


def test_empty_feed_list_and_null_settings_are_allowed(tmp_path):
    config = load_config(write(tmp_path, "settings:\nfeeds: []\n"))
    assert config.feeds == () and config.settings.concurrency > 0


def test_resolve_paths_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_paths(None, None) == ("tracker.db", "feeds.yaml")
    write(tmp_path, "settings:\n  database: from-settings.db\nfeeds: []\n")
    assert resolve_paths(None, None) == (str(tmp_path / "from-settings.db"), "feeds.yaml")
    other = write(tmp_path, "feeds: []\n", name="other.yaml")
    monkeypatch.setenv("TRACKER_FEEDS", str(other))
    assert resolve_paths(None, None) == ("tracker.db", str(other))
    monkeypatch.setenv("TRACKER_DB", "env.db")
    assert resolve_paths(None, None) == ("env.db", str(other))
    assert resolve_paths("opt.db", "opt.yaml") == ("opt.db", "opt.yaml")


def test_resolve_paths_tolerates_a_broken_feeds_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "feeds: [unclosed\n")
    assert resolve_paths(None, None) == ("tracker.db", "feeds.yaml")
