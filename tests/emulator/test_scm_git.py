"""The scm git endpoint: the stock git client over HTTPS smart HTTP, with minted passwords.

Clone, fetch and push work with a password from ``POST .../users/git/token``; a wrong,
forged, expired or missing password gets 401 with a Basic challenge; the password shows
up in no log, no output, no ``.git/config`` and no command line; and the management
API's fault injection and latency leave the git endpoint alone.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from pathlib import Path

import pytest
from azure.mgmt.apimanagement import ApiManagementClient

from apimsync.emulator import Connection, EmulatorProcess
from apimsync.emulator.store import Store
from apimsync.emulator.tokens import mint_git_password, new_key

from .conftest import RawClient, make_client
from .scmgit import GitClient, mint_password


def _scm_url(client: ApiManagementClient, rg: str, svc: str) -> str:
    return str(client.api_management_service.get(rg, svc).scm_url)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _info_refs(raw: RawClient, url: str, authorization: str | None) -> tuple[int, str | None]:
    headers = {"Authorization": authorization} if authorization else {}
    answer = raw.call(
        "GET", "", headers=headers, auth=False, absolute=url + "/info/refs?service=git-upload-pack"
    )
    return answer.status, answer.header("WWW-Authenticate")


def _key(data_dir: Path, svc: str) -> str:
    store = Store(data_dir / "state.sqlite3")
    try:
        row = store.get(svc, "tenant/gitAccess")
        assert row is not None
        return str(row.props["_primaryKey"])
    finally:
        store.close()


def test_clone_push_and_fetch(
    client: ApiManagementClient, conn: Connection, rg: str, svc: str, tmp_path: Path
) -> None:
    url = _scm_url(client, rg, svc)
    assert url == f"{conn.endpoint}/scm/{svc}"
    git = GitClient(conn, mint_password(client, rg, svc), tmp_path / "home")
    first = git.clone(url, tmp_path / "first")
    (first / "README.md").write_text("pushed by a test\n", encoding="utf-8")
    pushed = git.commit_all(first, "First")
    git.run("push", "--quiet", "origin", f"HEAD:refs/heads/{tmp_path.name}", cwd=first)
    second = git.clone(url, tmp_path / "second", branch=tmp_path.name)
    assert git.head(second) == pushed
    assert (second / "README.md").read_text(encoding="utf-8") == "pushed by a test\n"
    (second / "more.txt").write_text("more\n", encoding="utf-8")
    newer = git.commit_all(second, "Second")
    git.run("push", "--quiet", "origin", f"HEAD:refs/heads/{tmp_path.name}", cwd=second)
    git.run("fetch", "--quiet", "origin", cwd=first)
    assert git.run("rev-parse", f"origin/{tmp_path.name}", cwd=first).strip() == newer


def _refused(emulator: EmulatorProcess, svc: str, kind: str) -> str:
    key = _key(emulator.data_dir, svc)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    return {
        "wrong": "not-a-password",
        "forged": mint_git_password("git", later, new_key()),
        "expired": mint_git_password("git", dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), key),
        "other-user": mint_git_password("integration", later, key),
        "missing": "",
    }[kind]


@pytest.mark.parametrize("kind", ["wrong", "forged", "expired", "other-user", "missing"])
def test_bad_passwords_are_refused(
    client: ApiManagementClient,
    conn: Connection,
    emulator: EmulatorProcess,
    raw: RawClient,
    rg: str,
    svc: str,
    tmp_path: Path,
    kind: str,
) -> None:
    url = _scm_url(client, rg, svc)
    password = _refused(emulator, svc, kind)
    status, challenge = _info_refs(raw, url, _basic("apim", password) if password else None)
    assert status == 401
    assert challenge is not None and challenge.startswith("Basic ")
    git = GitClient(conn, password, tmp_path / "home")
    refused = git.execute("ls-remote", url)
    assert refused.returncode != 0
    assert "Authentication failed" in refused.stderr


def test_only_basic_auth_as_apim_is_accepted(
    client: ApiManagementClient, conn: Connection, raw: RawClient, rg: str, svc: str
) -> None:
    url = _scm_url(client, rg, svc)
    password = mint_password(client, rg, svc)
    assert _info_refs(raw, url, _basic("apim", password))[0] == 200
    assert _info_refs(raw, url, _basic("someone", password))[0] == 401
    assert _info_refs(raw, url, f"Bearer {conn.token}")[0] == 401
    assert _info_refs(raw, url, "Basic !!!")[0] == 401
    assert _info_refs(raw, url.replace(f"/scm/{svc}", "/scm/nope"), None)[0] == 404


def test_the_password_leaks_nowhere(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    with EmulatorProcess(data, mode="subprocess", services=("leaky",)) as running:
        conn = running.connection
        client = make_client(conn, None)
        rg = conn.resource_group
        password = mint_password(client, rg, "leaky")
        url = _scm_url(client, rg, "leaky")
        git = GitClient(conn, password, tmp_path / "home")
        work = git.clone(url, tmp_path / "work")
        (work / "a.txt").write_text("a\n", encoding="utf-8")
        git.commit_all(work, "A")
        git.run("push", "--quiet", "origin", "HEAD:refs/heads/master", cwd=work)
        git.run("fetch", "--quiet", cwd=work)
        wrong = GitClient(conn, password[:-6] + "AAAAA=", tmp_path / "wrong")
        assert wrong.execute("ls-remote", url).returncode != 0
    secrets = (password, base64.b64encode(f"apim:{password}".encode()).decode("ascii"))
    captured = capfd.readouterr()
    places = {
        "emulator.log": (data / "emulator.log").read_text(encoding="utf-8"),
        "stdout": captured.out,
        "stderr": captured.err,
        ".git/config": (work / ".git" / "config").read_text(encoding="utf-8"),
        "command lines": repr(git.commands + wrong.commands),
    }
    assert "/scm/{service}/git-receive-pack 200" in places["emulator.log"]
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"the git password appears in {where}"
    assert "AAAAA=" not in places["emulator.log"]


def test_git_ignores_faults_and_latency(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with EmulatorProcess(data, services=("slow",), faults=("500:1.0",), latency_ms=3000) as running:
        conn = running.connection
        raw = RawClient(conn, None)
        assert raw.call("GET", "apis", service="slow").status == 500
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        password = mint_git_password("git", later, _key(data, "slow"))
        git = GitClient(conn, password, tmp_path / "home")
        started = time.monotonic()
        git.clone(f"{conn.endpoint}/scm/slow", tmp_path / "clone")
        assert time.monotonic() - started < 2.5  # three git requests, none delayed 3 s
        counted = raw.call("GET", "", absolute=f"{conn.endpoint}/_emulator/requests").body
        assert not any("/scm" in route for route in counted["by_route"])
