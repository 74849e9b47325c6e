"""The console: a status line on a terminal goes away once something else is said, and
leaves the terminal as it found it (cursor shown)."""

from __future__ import annotations

import io

from apimsync.output import Console


def test_a_status_line_is_replaced_by_the_next_message_and_the_cursor_comes_back() -> None:
    err = io.StringIO()
    console = Console(out=io.StringIO(), err=err, terminal=True)

    console.status("Reading branch 'master' ...")
    console.info("Branch 'master' (at 0123456789ab):")
    console.status("Validating branch 'master' ... 3s")
    console.close()

    text = err.getvalue()
    assert text.count("\x1b[?25l") == text.count("\x1b[?25h") == 2  # hidden, shown again
    erase = "\x1b[1A\x1b[2K"  # up to the status line, erase it
    assert f"{erase}Branch 'master' (at 0123456789ab):\n" in text
    assert text.endswith(erase)


def test_off_a_terminal_a_status_is_a_plain_line() -> None:
    err = io.StringIO()
    console = Console(out=io.StringIO(), err=err, terminal=False)

    console.status("Reading branch 'master' ...")
    console.close()

    assert err.getvalue() == "Reading branch 'master' ...\n"


def test_a_note_is_said_once_per_run_however_often_it_comes() -> None:
    err = io.StringIO()
    console = Console(out=io.StringIO(), err=err, terminal=False)

    for _ in range(3):  # demo and deploy plan several times in one run
        console.note("note: https://x does not serve portal-signup settings; not planned")
    console.note("note: another")

    assert err.getvalue().count("portal-signup") == 1
    assert "note: another" in err.getvalue()
