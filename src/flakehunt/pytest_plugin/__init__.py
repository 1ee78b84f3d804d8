"""The flakehunt pytest plugin: hunt a flaky test in-process (``pytest --flakehunt=N``).

Registered through the ``pytest11`` entry point, so it is loaded by every
pytest run where flakehunt is installed: this module only adds options and
imports nothing of flakehunt until ``--flakehunt`` or ``--flakehunt-compare``
asks for a hunt (docs/pytest.md).
"""

from __future__ import annotations

import pytest

from flakehunt.pytest_plugin.options import REP_FIXTURE, add_options


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--flakehunt*`` options."""
    add_options(parser)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the hunt when asked for; otherwise stay out of the way."""
    from flakehunt.pytest_plugin.options import hunt_options

    opts = hunt_options(config)
    if opts is None:
        return
    from flakehunt.pytest_plugin.plugin import FlakehuntPlugin

    config.pluginmanager.register(FlakehuntPlugin(config, opts), "flakehunt-hunt")


@pytest.fixture(name=REP_FIXTURE)
def _flakehunt_rep(request: pytest.FixtureRequest) -> object:
    """Carry one repetition's parameter (block, variant) into the test's callspec."""
    return getattr(request, "param", None)
