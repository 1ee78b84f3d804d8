"""atomic_write survives a SIGKILL at any point: the file is the old or the new version."""

from __future__ import annotations

import os
import random
import signal
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from flakehunt.durable import atomic_write

SIZE = 256 * 1024
KILLS = 150


def version(n: int) -> bytes:
    """Return a self-checking version *n*: header, body, CRC of both."""
    body = bytes([n % 251]) * SIZE
    head = struct.pack("<Q", n) + body
    return head + struct.pack("<I", zlib.crc32(head))


def read_version(data: bytes) -> int | None:
    """Return the version number of a complete file, or None if torn or truncated."""
    if len(data) != 8 + SIZE + 4:
        return None
    (crc,) = struct.unpack_from("<I", data, len(data) - 4)
    if zlib.crc32(data[:-4]) != crc:
        return None
    return int(struct.unpack_from("<Q", data)[0])


def naive_write(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        for i in range(0, len(data), 4096):
            fh.write(data[i : i + 4096])


def kill_at_random_points(
    target: Path, write: Callable[[Path, bytes], None], seed: int
) -> list[int | None]:
    """Fork writers that rewrite *target* forever; SIGKILL each at a seeded random moment."""
    rng = random.Random(seed)
    write(target, version(0))
    seen: list[int | None] = []
    for _ in range(KILLS):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the writer: signal readiness, then write new versions until killed
            os.close(r)
            try:
                os.write(w, b"1")
                n = 1
                while True:
                    write(target, version(n))
                    n += 1
            finally:
                os._exit(1)
        os.close(w)
        os.read(r, 1)
        os.close(r)
        time.sleep(rng.uniform(0, 0.004))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        seen.append(read_version(target.read_bytes()))
    return seen


def test_atomic_write_leaves_old_or_new_after_sigkill(tmp_path: Path) -> None:
    seen = kill_at_random_points(tmp_path / "state.bin", atomic_write, seed=8)
    assert None not in seen
    assert len(set(seen)) > 1  # the kills did land after some replaces


def test_the_same_kills_tear_a_naive_write(tmp_path: Path) -> None:
    # Control: the schedule is able to catch a writer mid-file, so the test above can fail.
    seen = kill_at_random_points(tmp_path / "state.bin", naive_write, seed=8)
    assert seen.count(None) >= 10
