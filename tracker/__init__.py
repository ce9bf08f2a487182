"""The allegation tracker: watch industry news, keep a searchable record of allegations."""

__version__ = "0.1.0"
