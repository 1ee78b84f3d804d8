"""Git for bisect: the commits to search, and throw-away worktrees to test them in.

The user's working tree is never touched: every probe checks its commit out
with ``git worktree add --detach`` under a temporary directory, removed after.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from flakehunt.errors import EnvironmentProblem, InputError, UsageError


def git(repo: Path, *args: str) -> str:
    """Run git in *repo* and return its output; raise InputError when it fails."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise EnvironmentProblem("git is not installed", "install git") from None
    if proc.returncode != 0:
        msg = proc.stderr.strip().splitlines()
        raise InputError(
            f"git {' '.join(args)}: {msg[-1] if msg else f'exit {proc.returncode}'}",
            "run flakehunt bisect inside the git repository, with revisions it knows",
        )
    return proc.stdout


def repo_root(path: Path) -> Path:
    """Return the top of the repository containing *path*."""
    return Path(git(path, "rev-parse", "--show-toplevel").strip())


def resolve(repo: Path, rev: str) -> str:
    """Return the full commit id of *rev*."""
    return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()


def commits_between(repo: Path, old: str, new: str) -> list[str]:
    """Return [old, ..., new]: the first-parent ancestry path, oldest first."""
    old_sha, new_sha = resolve(repo, old), resolve(repo, new)
    if old_sha == new_sha:
        raise UsageError("both ends of the search are the same commit", "give two commits")
    ok = subprocess.run(
        ["git", "-C", str(repo), "merge-base", "--is-ancestor", old_sha, new_sha],
        capture_output=True,
        check=False,
    )
    if ok.returncode != 0:
        raise UsageError(
            f"{old} is not an ancestor of {new}",
            "the older commit comes first: with --fixed, --bad is the older one",
        )
    out = git(
        repo, "rev-list", "--first-parent", "--ancestry-path", "--reverse", f"{old_sha}..{new_sha}"
    )
    return [old_sha, *out.split()]


def subjects(repo: Path, shas: list[str]) -> dict[str, str]:
    """Return sha -> 'short-sha subject' for display."""
    out = git(repo, "log", "--no-walk=unsorted", "--format=%H %h %s", *shas)
    labels = {}
    for line in out.splitlines():
        sha, _, rest = line.partition(" ")
        labels[sha] = rest
    return labels


def show_stat(repo: Path, sha: str) -> str:
    """Return ``git show --stat`` of a commit."""
    return git(repo, "show", "--stat", "--format=medium", "--no-color", sha)


class Worktrees:
    """One detached worktree at a time under a temporary directory; removed on close."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.root = Path(tempfile.mkdtemp(prefix="flakehunt-bisect-"))
        self.current: tuple[str, Path] | None = None
        self._count = 0

    def checkout(self, sha: str) -> tuple[Path, bool]:
        """Return a worktree at *sha* and whether it was just created."""
        if self.current is not None and self.current[0] == sha:
            return self.current[1], False
        self._drop()
        self._count += 1
        path = self.root / f"w{self._count}-{sha[:12]}"
        git(self.repo, "worktree", "add", "--detach", "--force", str(path), sha)
        self.current = (sha, path)
        return path, True

    def _drop(self) -> None:
        if self.current is None:
            return
        _, path = self.current
        self.current = None
        subprocess.run(
            ["git", "-C", str(self.repo), "worktree", "remove", "--force", str(path)],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        """Remove the worktree, the temporary directory, and git's record of them."""
        self._drop()
        shutil.rmtree(self.root, ignore_errors=True)
        subprocess.run(
            ["git", "-C", str(self.repo), "worktree", "prune"], capture_output=True, check=False
        )

    def __enter__(self) -> Worktrees:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
