"""Command-line interface: a thin layer over the library (one module per command group).

Exit codes: 0 success (a run that completed, even with some failed feeds);
1 nothing could be fetched or a storage error; 2 usage or configuration error;
3 another run holds the database.
"""

from __future__ import annotations

import os

# One BLAS thread per process: spaCy's small matrices gain nothing from more,
# and with worker processes on a busy machine the extra threads only contend.
# Set before numpy is first imported; a value the user chose is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import importlib  # noqa: E402

import click

from tracker import __version__

# Command modules register themselves on `main`; a module that is missing or
# broken must not take the other commands down with it.
COMMAND_MODULES = ("run", "analyze", "search", "serve", "digest", "export", "incidents")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tracker")
def main() -> None:
    """Track allegations against companies in industry news.

    \b
    Quick start:
      tracker demo                 # offline demo: sample feeds into tracker.db
      tracker run                  # fetch every feed in feeds.yaml
      tracker search "distillation" --company Alibaba
    """


for _name in COMMAND_MODULES:
    try:
        importlib.import_module(f"tracker.cli.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"tracker.cli.{_name}":
            raise
