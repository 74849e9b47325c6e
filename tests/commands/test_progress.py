"""What a user sees while a deploy applies: a live bar on a terminal (tested through a
real pseudo-terminal, and through rich's forced-terminal console), one line per applied
resource with --verbose off a terminal, and a summary otherwise."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.commands.progress import ApplyProgress, ReadProgress
from apimsync.emulator import EmulatorProcess
from apimsync.output import Console
from apimsync.targets.applying import ApplyEvent
from apimsync.targets.calls import Retry
from apimsync.targets.reading import ReadProgress as Read
from tests.commands.test_sync import EXAMPLE, Instance, workdir

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SERVICES = ("terminal", "pipe", "verbose", "asked")


def plain(text: str) -> str:
    return ANSI.sub("", text)


# -- the display, on rich's forced-terminal console ------------------------------------


def terminal_console() -> tuple[Console, io.StringIO]:
    err = io.StringIO()
    return Console(out=io.StringIO(), err=err, terminal=True), err


def test_the_bar_counts_by_action_shows_retries_and_prints_failures_as_they_happen() -> None:
    console, err = terminal_console()
    events = [
        ApplyEvent("started", "/backends/one", "create"),
        ApplyEvent("applied", "/backends/one", "create"),
        ApplyEvent("started", "/apis/echo", "update"),
        ApplyEvent("retry", "/apis/echo", "update", "429 TooManyRequests; retrying", 2, 1.0),
        ApplyEvent("applied", "/apis/echo", "update"),
        ApplyEvent("started", "/apis/broken", "create"),
        ApplyEvent("failed", "/apis/broken", "create", "400 ValidationError: protocols"),
        ApplyEvent("started", "/tags/old", "delete"),
    ]
    with ApplyProgress(console, 4) as progress:
        for event in events:
            progress(event)
        shown_while_running = plain(err.getvalue())
        progress(ApplyEvent("applied", "/tags/old", "delete"))

    screen = plain(err.getvalue())
    assert "failed: create /apis/broken: 400 ValidationError: protocols" in shown_while_running
    final = screen.rsplit("\r", 1)[-1]
    assert re.search(r"Applied .*4/4 \+1 ~1 -1 failed 1 retries 1", final), final


def test_a_read_shows_lists_done_resources_and_requests() -> None:
    console, err = terminal_console()
    console.verbose = True
    with ReadProgress(console, "Reading svc") as shown:
        shown.progress(Read(3, 12, 40, 3))
        shown.retry(Retry("the list of apis", 2, 0.5, "503 ServiceUnavailable"))
        shown.progress(Read(12, 30, 95, 13))

    screen = plain(err.getvalue())
    assert "retry: the list of apis: 503 ServiceUnavailable; attempt 2 in 0.5 s" in screen
    assert re.search(r"Reading svc .*12/30 95 resources, 13 requests retries 1", screen)


def test_off_a_terminal_the_bar_draws_nothing() -> None:
    err = io.StringIO()
    console = Console(out=io.StringIO(), err=err, terminal=False)
    with ApplyProgress(console, 1) as progress:
        progress(ApplyEvent("started", "/backends/one", "create"))
        progress(ApplyEvent("applied", "/backends/one", "create"))

    assert err.getvalue() == ""


# -- a real deploy ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    folder = tmp_path_factory.mktemp("emulator")
    with EmulatorProcess(folder, services=SERVICES, latency_ms=15) as running:
        yield running


def run_on_a_terminal(
    command: list[str],
    env: dict[str, str],
    timeout: float = 120,
    *,
    answer: bytes = b"",
    expect: int = 0,
) -> str:
    """Run ``command`` with stdin, stdout and stderr on a pseudo-terminal; its screen output.
    ``answer`` is typed when it asks a question (a line ending in ``: ``)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        command, stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True
    )
    os.close(terminal)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
            if answer and data.rstrip(b" ").endswith(b":"):
                os.write(controller, answer)
                answer = b""
        elif process.poll() is not None:
            break
    process.wait(timeout=10)
    os.close(controller)
    assert process.returncode == expect, b"".join(chunks).decode(errors="replace")[-3000:]
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_a_deploy_on_a_terminal_shows_the_apply_as_it_happens(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    instance = Instance(emulator, "terminal")
    repo = workdir(tmp_path, EXAMPLE)
    env = {k: v for k, v in instance.env.items() if k != "CI"}
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")

    screen = run_on_a_terminal(
        [sys.executable, "-m", "apimsync", "deploy", "--dir", str(repo), "--yes"], env
    )

    lines = [plain(frame) for frame in re.split(r"\r|\n", screen)]
    frames = [frame for frame in lines if re.search(r"Appl(ying|ied) .*/26", frame)]
    counts = [int(m.group(1)) for f in frames if (m := re.search(r"(\d+)/26", f))]
    assert len(set(counts)) >= 3, frames  # redrawn as changes are applied
    assert counts == sorted(counts) and counts[-1] == 26
    assert any(re.search(r"create /(namedValues|apis|backends)/", f) for f in frames)
    assert re.search(r"Applied .*26/26 \+25 ~1 -0", frames[-1]), frames[-1]
    assert "Applied 26 changes" in screen


def test_off_a_terminal_a_deploy_prints_a_summary_or_a_line_per_resource(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    quiet_repo = workdir(tmp_path / "quiet", EXAMPLE)
    verbose_repo = workdir(tmp_path / "verbose", EXAMPLE)

    summary = Instance(emulator, "pipe").run("deploy", "--dir", quiet_repo, "--yes")
    verbose = Instance(emulator, "verbose").run("deploy", "--dir", verbose_repo, "--yes", "-v")

    assert "\x1b[" not in summary.stderr + verbose.stderr
    assert "applied:" not in summary.stderr and "Applying" not in summary.stderr
    assert summary.stdout.strip() == "Applied 26 changes (26 writes, 0 retries)."
    applied = [line for line in verbose.stderr.splitlines() if line.startswith("applied: ")]
    assert len(applied) == 26 and len(set(applied)) == 26


def test_no_at_the_prompt_cancels_with_the_exit_status_of_every_refusal(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    instance = Instance(emulator, "asked")
    repo = workdir(tmp_path, EXAMPLE)
    env = {k: v for k, v in instance.env.items() if k != "CI"}
    env.update(TERM="xterm-256color", COLUMNS="120")

    screen = run_on_a_terminal(
        [sys.executable, "-m", "apimsync", "deploy", "--dir", str(repo)],
        env,
        answer=b"n\r",
        expect=2,
    )

    assert "Apply these changes? [y/N]:" in screen
    assert "deploy cancelled; nothing was changed" in plain(screen)
    assert "Applying" not in screen
    assert "to add" in instance.run("plan", "--dir", repo).stdout  # nothing was applied


def test_no_color_draws_the_bar_without_colours() -> None:
    err = io.StringIO()
    console = Console(out=io.StringIO(), err=err, terminal=True, no_color=True)
    with ApplyProgress(console, 1) as progress:
        progress(ApplyEvent("failed", "/backends/one", "create", "400 ValidationError"))

    assert "Applied" in plain(err.getvalue())
    assert not re.search(r"\x1b\[[0-9;]*(3[0-9]|9[0-7])(;[0-9]+)*m", err.getvalue())
