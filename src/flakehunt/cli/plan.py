"""``flakehunt plan``: how many runs a question needs."""

from __future__ import annotations

import json

import click

from flakehunt.errors import UsageError
from flakehunt.status import ExitStatus


def parse_rate(text: str, option: str) -> float:
    """Parse "3.5%" or "0.035" into 0.035; refuse a bare 3.5 (percent or fraction?)."""
    s = text.strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a rate", "write it as 3.5% or 0.035") from None
    if not s.endswith("%") and value >= 1:
        raise UsageError(f"{option}: {text!r} is ambiguous", f"write {s}% for a percentage")
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"{option}: a rate must lie between 0% and 100%, not {text}")
    return value


@click.command(
    "plan",
    help=(
        "How many runs a question needs. "
        "--baseline 3.5% --target 0.5%: runs per arm to show the target is better; "
        "--below 0.5% [--after K]: clean runs to claim a rate below 0.5%."
    ),
)
@click.option("--baseline", metavar="RATE", help="Failure rate of the baseline, e.g. 3.5%.")
@click.option(
    "--target", metavar="RATE", help="Failure rate the mitigation should reach, e.g. 0.5%."
)
@click.option("--power", type=float, default=0.8, show_default=True, help="Chance of detecting it.")
@click.option(
    "--alpha",
    type=float,
    default=0.05,
    show_default=True,
    help="Chance of declaring a difference when there is none (split over both directions).",
)
@click.option("--one-sided", is_flag=True, help="Spend all of --alpha on the one direction asked.")
@click.option("--below", metavar="RATE", help="Clean runs needed to claim a rate below RATE.")
@click.option(
    "--after", type=int, metavar="K", help="With --below: the bound reached after K clean runs."
)
@click.option("--confidence", type=float, default=0.95, show_default=True, help="With --below.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def plan(
    baseline: str | None,
    target: str | None,
    power: float,
    alpha: float,
    one_sided: bool,
    below: str | None,
    after: int | None,
    confidence: float,
    as_json: bool,
) -> int:
    """Translate the options, ask stats.plan, print the renderer's text."""
    from flakehunt.report import plan_text
    from flakehunt.stats import plan as core

    if below is not None and (baseline is not None or target is not None):
        raise UsageError("--below asks a different question from --baseline/--target", "use one")
    try:
        if below is not None:
            answer_b = core.runs_below(parse_rate(below, "--below"), confidence, after)
            out = (
                json.dumps(plan_text.to_dict(answer_b), indent=2) + "\n"
                if as_json
                else plan_text.render_below(answer_b)
            )
        else:
            if baseline is None or target is None:
                raise UsageError(
                    "plan needs --baseline and --target, or --below",
                    "e.g. flakehunt plan --baseline 3.5% --target 0.5%",
                )
            if after is not None:
                raise UsageError("--after goes with --below")
            if not 0.0 < alpha < 1.0:
                raise UsageError(f"--alpha must be between 0 and 1, not {alpha}")
            one = alpha if one_sided else alpha / 2
            two = None if one_sided else alpha
            answer = core.runs_for_difference(
                parse_rate(baseline, "--baseline"), parse_rate(target, "--target"), power, one
            )
            out = (
                json.dumps(plan_text.to_dict(answer, two), indent=2) + "\n"
                if as_json
                else plan_text.render_comparison(answer, two)
            )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    click.echo(out, nl=False)
    return int(ExitStatus.OK)
