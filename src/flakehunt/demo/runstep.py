"""The demo's run step: load the image just linked and "execute" it.

``python -m flakehunt.demo.runstep OUT``: maps OUT read-only and checks its
pages in address order, as a loader faulting them in would. It fails in the
story's two ways: zeroed or torn code is an access violation (0xC0000005;
here death by SIGSEGV), a zeroed guard table is a Control Flow Guard fail
fast (0xC0000409 STATUS_STACK_BUFFER_OVERRUN; here death by SIGABRT).
With ``--dump DIR`` the bytes it saw are kept, like a crash dump's code bytes.
"""

from __future__ import annotations

import argparse
import mmap
import os
import signal
import sys
from pathlib import Path

from flakehunt.demo.image import PAGE, Finding, FormatProblem, Verdict, decode_header, inspect

BAD_IMAGE = 2


def parse(argv: list[str]) -> argparse.Namespace:
    """Return the run step's options."""
    ap = argparse.ArgumentParser(prog="python -m flakehunt.demo.runstep", description=__doc__)
    ap.add_argument("image")
    ap.add_argument("--dump", metavar="DIR", help="on a crash, save the bytes seen in DIR")
    ap.add_argument("--remove", action="store_true", help="delete the image after a clean run")
    return ap.parse_args(argv)


def message(verdict: Verdict, total_pages: int) -> str:
    """Return the crash line printed before dying, in the story's vocabulary."""
    where = f"page {verdict.page} (offset 0x{verdict.page * PAGE:x})"
    if verdict.finding is Finding.ZERO_CODE:
        return (f"access violation (0xC0000005): executing zero bytes at {where}; "
                f"{verdict.zero_pages} of {total_pages} pages are zero")
    if verdict.finding is Finding.TORN_CODE:
        return f"access violation (0xC0000005): invalid instructions at {where}"
    return (f"fail fast (0xC0000409 STATUS_STACK_BUFFER_OVERRUN): guard table {where} "
            f"marks the call target invalid; {verdict.zero_pages} pages are zero")


def die(sig: int) -> None:
    """Die by *sig* with its default action, as a crashing native program would."""
    sys.stderr.flush()
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    os._exit(128 + sig)  # only if the signal was somehow survived


def main(argv: list[str] | None = None) -> int:
    """Load and check the image; exit 0, or die like the story's crashes."""
    opts = parse(sys.argv[1:] if argv is None else argv)
    path = Path(opts.image)
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < PAGE:
                raise FormatProblem(f"{size} bytes is shorter than a header")
            with mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ) as view:
                seen = bytes(view)  # one snapshot, as the loader's page faults would take
    except (OSError, FormatProblem) as exc:
        print(f"runstep: cannot load {path}: {exc}", file=sys.stderr)
        return BAD_IMAGE
    try:
        layout = decode_header(seen[:PAGE])
    except FormatProblem as exc:
        print(f"runstep: {path} is not an image: {exc}", file=sys.stderr)
        return BAD_IMAGE
    if len(seen) != layout.size:
        print(f"runstep: {path} is {len(seen)} bytes, header says {layout.size}", file=sys.stderr)
        return BAD_IMAGE
    verdict = inspect(seen, layout)
    if verdict.finding is Finding.OK:
        if opts.remove:
            path.unlink(missing_ok=True)
        return 0
    print(f"runstep: {path.name}: {message(verdict, layout.pages)}", file=sys.stderr)
    if opts.dump:
        dump = Path(opts.dump)
        dump.mkdir(parents=True, exist_ok=True)
        (dump / f"{path.name}.seen").write_bytes(seen)
    die(signal.SIGSEGV if verdict.finding is not Finding.ZERO_GUARD else signal.SIGABRT)
    return 1


if __name__ == "__main__":
    sys.exit(main())
