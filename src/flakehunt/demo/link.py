"""The demo's link step: write an image through a shared mapping, hand off early.

``python -m flakehunt.demo.link OUT``: the parent maps OUT, writes the header,
takes ``flock(LOCK_EX)`` and forks; then it exits at once, like a linker whose
process is gone while its mapped stores have not all reached the file. The
child keeps the same open file (and so the lock) and writes the code pages,
then the guard table, through the same shared mapping, then exits. Whoever
opens OUT in between sees zero pages. Nothing random decides this: it is a
race between the child's stores and the next build step's start.

This models the story's kernel bug (a flush of mapped writes skipped under
load, so the loader read zeros). On Linux the page cache is unified, so the
demo stands the "not yet flushed" pages in with "not yet stored" ones. The
lock is how the writer says "in flight"; ``flakehunt flush`` waits for it
before fsync, as FlushFileBuffers waits for the mapped view's dirty pages.
"""

from __future__ import annotations

import argparse
import fcntl
import mmap
import os
import sys
import time

from flakehunt.demo.image import PAGE, Layout, encode_header, make_page

DEFAULT_CODE_PAGES = 116
DEFAULT_GUARD_PAGES = 12
DEFAULT_ROUNDS = 1200
DEFAULT_PAUSE = 0.0


def parse(argv: list[str]) -> argparse.Namespace:
    """Return the link step's options."""
    ap = argparse.ArgumentParser(prog="python -m flakehunt.demo.link", description=__doc__)
    ap.add_argument("output")
    ap.add_argument("--code-pages", type=int, default=DEFAULT_CODE_PAGES)
    ap.add_argument("--guard-pages", type=int, default=DEFAULT_GUARD_PAGES)
    ap.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                    help="hash rounds per page: the linker's work; more widens the window")
    ap.add_argument("--pause", type=float, default=DEFAULT_PAUSE,
                    help="seconds the late writer waits per page, as writes trickle to a busy disk")
    ap.add_argument("--seed", type=int, default=2016)
    ap.add_argument("--no-handoff", action="store_true",
                    help="write every page before exiting (no race: a correct linker)")
    return ap.parse_args(argv)


def write_pages(view: mmap.mmap, layout: Layout, rounds: int, pause: float = 0.0) -> None:
    """Store code pages, then guard pages, into the mapping in address order."""
    for page in range(1, layout.pages):
        view[page * PAGE : (page + 1) * PAGE] = make_page(layout, page, rounds)
        if pause > 0:
            time.sleep(pause)


def _detach_stdio() -> None:
    # The late writer must not hold the build's pipes open: a build system
    # waits for EOF on them, which would close the window by accident.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def main(argv: list[str] | None = None) -> int:
    """Link: header now, the rest from a child that outlives us."""
    opts = parse(sys.argv[1:] if argv is None else argv)
    layout = Layout(opts.code_pages, opts.guard_pages, opts.seed)
    fd = os.open(opts.output, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o755)
    # Held from before the handoff until the last store: the writer is "in flight".
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, layout.size)
    view = mmap.mmap(fd, layout.size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    view[0:PAGE] = encode_header(layout)
    if opts.no_handoff:
        write_pages(view, layout, opts.rounds)
        view.close()
        os.close(fd)
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            _detach_stdio()
            write_pages(view, layout, opts.rounds, opts.pause)
            view.close()
        finally:
            os._exit(0)  # closing the last fd releases the flock
    # Parent: the "linker" reports success while its stores are still arriving.
    # Exit at once, as a native linker would, without the interpreter's teardown.
    view.close()
    os.close(fd)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
