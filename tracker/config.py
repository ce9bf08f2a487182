"""Configuration stage: read feeds.yaml into typed Settings and FeedConfig records.

The YAML is composed into a node graph (not loaded straight into dicts) so that
every error can name the file, the key path and the line, e.g.
``feeds.yaml:12: feeds[3].tags: expected a list of strings, got int``.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from tracker.errors import ConfigError
from tracker.records import Config, FeedConfig, Settings

DEFAULT_DB = "tracker.db"
DEFAULT_FEEDS = "feeds.yaml"

_FEED_KEYS = ("url", "name", "tags", "enabled", "fetch_articles", "respect_robots",
              "max_articles")
_SETTINGS_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_SETTINGS_HINTS = typing.get_type_hints(Settings)
_FEED_HINTS = typing.get_type_hints(FeedConfig)
# Settings that must be strictly positive (a zero timeout or concurrency would hang or fail).
_POSITIVE = {"connect_timeout", "read_timeout", "total_timeout", "max_bytes", "max_redirects",
             "concurrency", "per_host", "max_articles_per_feed", "max_articles", "nlp_workers"}
_NON_NEGATIVE = {"min_host_delay", "max_redirects", "quiet_feed_max_hours"}
_PATH_SETTINGS = {"database", "gazetteer", "taxonomy"}


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list",
            dict: "mapping"}.get(type(value), type(value).__name__)


def _node_type_name(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "scalar"


class _Reader:
    """Turns composed YAML nodes into Python values, raising ConfigError with file, key and line."""

    def __init__(self, path: str, loader: yaml.SafeLoader):
        self.path = path
        self.loader = loader

    def fail(self, node: yaml.Node | None, key: str | None, message: str) -> typing.NoReturn:
        line = node.start_mark.line + 1 if node is not None else None
        raise ConfigError(message, path=self.path, line=line, key=key)

    def scalar(self, node: yaml.Node, key: str) -> object:
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, key, f"expected a single value, got a {_node_type_name(node)}")
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.fail(node, key, f"cannot read value: {exc}")

    def mapping(self, node: yaml.Node,
                key: str | None) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, key, f"expected a mapping (key: value lines), got a "
                                 f"{_node_type_name(node)}")
        items, seen = [], {}
        for knode, vnode in node.value:
            name = self.scalar(knode, key or "(top level)")
            if not isinstance(name, str):
                self.fail(knode, key, f"keys must be strings, got {_type_name(name)} {name!r}")
            if name in seen:
                where = f"{key}.{name}" if key else name
                self.fail(knode, where, f"duplicate key (first set on line {seen[name]})")
            seen[name] = knode.start_mark.line + 1
            items.append((name, knode, vnode))
        return items

    def typed(self, node: yaml.Node, key: str, hint: object) -> object:
        """Read `node` as a value of the dataclass field type `hint`."""
        optional = False
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            optional = len(args) < len(typing.get_args(hint))
            hint = args[0]
        if typing.get_origin(hint) is tuple:
            return self.string_list(node, key)
        value = self.scalar(node, key)
        if value is None and optional:
            return None
        if hint is bool:
            if not isinstance(value, bool):
                self.fail(node, key, f"expected true or false, got {_type_name(value)} {value!r}")
            return value
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(node, key, f"expected a whole number, got {_type_name(value)} {value!r}")
        elif hint is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.fail(node, key, f"expected a number, got {_type_name(value)} {value!r}")
            value = float(value)
        elif hint is str:
            if not isinstance(value, str) or not value.strip():
                self.fail(node, key, f"expected a non-empty string, got {_type_name(value)} "
                                     f"{value!r}")
            return value.strip()
        name = key.rsplit(".", 1)[-1]
        if name in _POSITIVE and value <= 0 and not (name in _NON_NEGATIVE and value == 0):
            self.fail(node, key, f"must be greater than 0, got {value!r}")
        if name in _NON_NEGATIVE and value < 0:
            self.fail(node, key, f"must not be negative, got {value!r}")
        return value

    def string_list(self, node: yaml.Node, key: str) -> tuple[str, ...]:
        if isinstance(node, yaml.ScalarNode):
            value = self.scalar(node, key)
            if isinstance(value, str) and value.strip():
                return (value.strip(),)
            self.fail(node, key, f"expected a list of strings, got {_type_name(value)}")
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, key, f"expected a list of strings, got a {_node_type_name(node)}")
        out = []
        for i, item in enumerate(node.value):
            value = self.scalar(item, f"{key}[{i}]")
            if not isinstance(value, str) or not value.strip():
                self.fail(item, key, f"expected a list of strings, got {_type_name(value)} "
                                     f"{value!r} at position {i}")
            out.append(value.strip())
        return tuple(out)


def _resolve_local(value: str, base: Path) -> str:
    """A relative path in feeds.yaml is relative to the file itself, not the working directory."""
    path = Path(os.path.expanduser(value))
    return str(path if path.is_absolute() else (base / path).resolve())


def _feed_url(reader: _Reader, node: yaml.Node, key: str, base: Path) -> str:
    url = reader.typed(node, key, str)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            reader.fail(node, key, f"URL {url!r} has no host name")
        return url
    if scheme == "file":
        return url
    if scheme and len(scheme) > 1:  # one letter is a Windows drive, not a scheme
        reader.fail(node, key, f"unsupported URL scheme {scheme!r} in {url!r}: use http(s)://, "
                               "file:// or a local file path")
    return _resolve_local(url, base)


def _read_settings(reader: _Reader, node: yaml.Node, base: Path) -> Settings:
    values: dict[str, object] = {}
    for name, knode, vnode in reader.mapping(node, "settings"):
        key = f"settings.{name}"
        if name not in _SETTINGS_FIELDS:
            reader.fail(knode, key, "unknown setting; known settings: "
                                    + ", ".join(sorted(_SETTINGS_FIELDS)))
        value = reader.typed(vnode, key, _SETTINGS_HINTS[name])
        if name in _PATH_SETTINGS and value is not None:
            value = (tuple(_resolve_local(v, base) for v in value) if isinstance(value, tuple)
                     else _resolve_local(value, base))
        values[name] = value
    settings = Settings(**values)
    if settings.total_timeout < settings.connect_timeout:
        reader.fail(node, "settings.total_timeout",
                    "must be at least settings.connect_timeout")
    return settings


def _read_feed(reader: _Reader, node: yaml.Node, index: int, base: Path) -> FeedConfig:
    key = f"feeds[{index}]"
    if isinstance(node, yaml.ScalarNode):  # a bare URL is shorthand for {url: ...}
        return FeedConfig(url=_feed_url(reader, node, f"{key}.url", base),
                          line=node.start_mark.line + 1)
    values: dict[str, object] = {}
    for name, knode, vnode in reader.mapping(node, key):
        if name not in _FEED_KEYS:
            reader.fail(knode, f"{key}.{name}", "unknown key; a feed takes "
                                                + ", ".join(_FEED_KEYS))
        if name == "url":
            values["url"] = _feed_url(reader, vnode, f"{key}.url", base)
        else:
            values[name] = reader.typed(vnode, f"{key}.{name}", _FEED_HINTS[name])
    if "url" not in values:
        reader.fail(node, f"{key}.url", "missing: every feed needs a `url:`")
    return FeedConfig(line=node.start_mark.line + 1, **values)


def load_config(path: str | os.PathLike) -> Config:
    """Read and validate a feeds file; raise ConfigError naming file, key and line if wrong."""
    path_str = os.fspath(path)
    file = Path(path_str)
    if not file.is_file():
        raise ConfigError(
            f"feeds file not found ({file.resolve()}); create one with a `feeds:` list of "
            "`- url: ...` entries, or point TRACKER_FEEDS / --feeds at an existing file",
            path=path_str)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the feeds file: {exc}", path=path_str) from exc
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ConfigError(f"YAML syntax error: {problem}", path=path_str,
                          line=mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:  # e.g. a control character the YAML reader refuses
        raise ConfigError(f"YAML error: {' '.join(str(exc).split())}", path=path_str) from exc
    finally:
        if loader is not None:
            loader.dispose()
    reader = _Reader(path_str, loader)
    base = file.resolve().parent
    if root is None:
        raise ConfigError("the file is empty; it needs a top-level `feeds:` list",
                          path=path_str, key="feeds")
    settings, feeds = Settings(), ()
    found_feeds = False
    for name, knode, vnode in reader.mapping(root, None):
        if name == "settings":
            if not (isinstance(vnode, yaml.ScalarNode) and vnode.tag.endswith(":null")):
                settings = _read_settings(reader, vnode, base)
        elif name == "feeds":
            found_feeds = True
            if not isinstance(vnode, yaml.SequenceNode):
                reader.fail(vnode, "feeds", f"expected a list of feeds (`- url: ...`), got a "
                                            f"{_node_type_name(vnode)}")
            feeds = tuple(_read_feed(reader, item, i, base) for i, item in enumerate(vnode.value))
        else:
            reader.fail(knode, name, "unknown top-level key; expected `feeds:` and `settings:`")
    if not found_feeds:
        reader.fail(root, "feeds", "missing: the file needs a top-level `feeds:` list")
    seen: dict[str, int] = {}
    for i, feed in enumerate(feeds):
        if feed.url in seen:
            raise ConfigError(f"duplicate of feeds[{seen[feed.url]}] ({feed.url})",
                              path=path_str, line=feed.line, key=f"feeds[{i}].url")
        seen[feed.url] = i
    return Config(path=path_str, settings=settings, feeds=feeds)


def resolve_paths(db: str | None, feeds: str | None) -> tuple[str, str]:
    """Return (database path, feeds path) from options, environment, settings and defaults.

    Feeds: `--feeds`, then TRACKER_FEEDS, then feeds.yaml. Database: `--db`, then
    TRACKER_DB, then `settings.database` in the feeds file (relative to that file),
    then tracker.db. A missing or broken feeds file is not an error here: the
    command that needs the feeds reports it through load_config.
    """
    feeds_path = feeds or os.environ.get("TRACKER_FEEDS") or DEFAULT_FEEDS
    db_path = db or os.environ.get("TRACKER_DB")
    if not db_path and Path(feeds_path).is_file():
        try:
            db_path = load_config(feeds_path).settings.database
        except ConfigError:
            db_path = None
    return db_path or DEFAULT_DB, feeds_path
