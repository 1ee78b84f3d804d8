"""Durable outputs: flush files, replace them atomically, write them through a mapping.

The story's fix: open the just-linked executable and flush it before it runs.
"""

from __future__ import annotations

from flakehunt.durable.atomic import atomic_write
from flakehunt.durable.flush import FlushedFile, FlushReport, flush
from flakehunt.durable.mapped import write_mapped

__all__ = ["FlushReport", "FlushedFile", "atomic_write", "flush", "write_mapped"]
