"""Offline demo: sample feeds and pages, a loopback server for them, and their gold labels."""

from tracker.demo.server import DemoServer, demo_feeds_yaml

__all__ = ["DemoServer", "demo_feeds_yaml"]
