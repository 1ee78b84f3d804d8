"""What `flakehunt flush` prints."""

from __future__ import annotations

from pathlib import Path

from flakehunt.cli.flush import render_flush
from flakehunt.durable import FlushedFile, FlushReport


def test_summary_counts_files_bytes_directories_and_method() -> None:
    report = FlushReport(
        (
            FlushedFile(Path("a.exe"), 2048, 0.0, 0.004),
            FlushedFile(Path("b.dll"), 1024, 0.0, 0.001),
        ),
        (Path("/out"),),
        0.005,
        "fsync",
    )
    assert render_flush(report, verbose=False) == (
        "flushed 2 files, 3.0 KiB, 1 directory in 5ms (fsync)"
    )


def test_verbose_lists_files_and_waits_for_writers() -> None:
    report = FlushReport((FlushedFile(Path("app.exe"), 10, 0.25, 0.26),), (Path("/a"), Path("/b")),
                         0.26, "F_FULLFSYNC")
    lines = render_flush(report, verbose=True).splitlines()
    assert lines[0].startswith("app.exe  10 B  ")
    assert "waited 250ms for a writer" in lines[0]
    assert lines[1].startswith("flushed 1 file, 10 B, 2 directories in ")
    assert lines[1].endswith("(F_FULLFSYNC); 250ms waiting for writers")
