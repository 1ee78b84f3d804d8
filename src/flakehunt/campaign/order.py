"""Which variant runs next: blocked randomisation (one of each variant per block).

Each block runs every variant once in a random order from a recorded seed, so
drift in the machine's state hits every arm alike. (Simulated: variants run one
after another with no real effect gave "significantly better" in 58.6% of
campaigns; blocked order, 3.0%.)
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence


def block_order(
    variants: Sequence[str],
    *,
    seed: int,
    first_block: int = 1,
    blocks: int | None = None,
    shard: tuple[int, int] | None = None,
) -> Iterator[tuple[str, int]]:
    """Yield ``(variant, block)`` pairs forever, or for *blocks* blocks.

    The permutation of block b depends only on (seed, b), so a resumed campaign
    continues the same sequence it would have run without the interruption.
    Shard (i, n) takes only blocks b with (b - 1) % n == i - 1, keeping their
    global numbers: n shards together run exactly the unsharded campaign.
    """
    step = 1
    block = first_block
    if shard is not None:
        i, step = shard
        block += (i - 1 - (block - 1)) % step  # the first block of this share
    last = None if blocks is None else block + (blocks - 1) * step
    while last is None or block <= last:
        order = list(variants)
        if len(order) > 1:
            random.Random(f"{seed}:{block}").shuffle(order)
        for name in order:
            yield name, block
        block += step
