"""Import numpy without the BLAS thread pool flakehunt never uses.

numpy's wheels bundle OpenBLAS, which starts one thread per CPU when it is
loaded; each spins for about 0.1 s waiting for work before it sleeps. flakehunt
multiplies no matrices, and on a 2-core machine that spin took ~0.1 s of CPU
from the first runs of every campaign. The thread count is read from the
environment once, at load: set it for the import only, in the C environment
(``os.putenv``), so no child ever inherits it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

_KNOBS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Around the first import of numpy: one BLAS thread, unless the user chose."""
    if "numpy" in sys.modules:
        yield
        return
    keys = [k for k in _KNOBS if k not in os.environ]
    for k in keys:
        os.putenv(k, "1")
    try:
        yield
    finally:
        for k in keys:
            os.unsetenv(k)
