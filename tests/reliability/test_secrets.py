"""6. Secrets: a full cycle through the management API and through git, with every
secret in play looked for in everything apimsync writes and prints, and the emulator
refusing forged, expired and wrong-key git passwords and missing or wrong bearer tokens.

The secrets: the emulator's bearer token, the value of a secret named value (given to
deploy in ``APIMSYNC_SECRET_API_KEY``), the service's git access keys and every git
password minted during the run (found by their shape, ``git&YYYYMMDDhhmm&signature``).
Looked for in: the output of every command (``deploy --verbose``, ``plan`` in every
format, ``pull``), the saved plan, every file of the working and pulled folders
(``.git/config`` included, and the history of pulled repositories), the emulator's log
and the command line of every git process apimsync starts (a ``git`` first on ``PATH``
records them, and the ``GIT_ASKPASS`` script each one is given).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from apimsync.emulator import Connection, EmulatorProcess
from apimsync.emulator.tokens import mint_git_password
from apimsync.formats.scm.writer import write_tree
from apimsync.model import Configuration, make_resource
from tests.reliability.helpers import Cli, figure, synthetic, target_of

SECRET_VALUE = "s3cr3t-" + secrets.token_hex(12)
SERVICES = ("secrets", "secretsgit")
GIT_PASSWORD = re.compile(r"(?:git|apim)&\d{12}&[A-Za-z0-9+/]{20,}={0,2}")
API_VERSION = "2024-05-01"
POLICY = (
    "<policies>\n\t<inbound>\n\t\t<base />\n"
    '\t\t<set-header name="api-key" exists-action="override">\n'
    "\t\t\t<value>{{api-key}}</value>\n\t\t</set-header>\n\t</inbound>\n"
    "\t<backend>\n\t\t<base />\n\t</backend>\n\t<outbound>\n\t\t<base />\n\t</outbound>\n"
    "\t<on-error>\n\t\t<base />\n\t</on-error>\n</policies>\n"
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    data = tmp_path_factory.mktemp("secrets-emulator")
    with EmulatorProcess(data, mode="subprocess", services=SERVICES) as running:
        yield running


def _configuration() -> Configuration:
    """W(2) plus a secret named value that a policy and a backend use."""
    base = synthetic(2)
    api_policy = "/apis/api-00000/policies/policy"
    return base.with_resources(
        make_resource("/namedValues/api-key", {"displayName": "api-key", "secret": True}),
        make_resource(api_policy, {"format": "rawxml", "value": POLICY}),
        make_resource(
            "/backends/backend-00000",
            {
                "url": "https://backend.example.test/api",
                "protocol": "http",
                "credentials": {"header": {"x-key": ["{{api-key}}"]}},
            },
        ),
    )


def _git(directory: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _recording_git(folder: Path) -> Path:
    """A ``git`` that records its arguments and its GIT_ASKPASS script, then runs git."""
    real = shutil.which("git")
    assert real
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    log = folder / "git-commands.log"
    wrapper = bin_dir / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'printf "%s " "$@" >> "{log}"; echo >> "{log}"\n'
        f'if [ -f "$GIT_ASKPASS" ]; then cat "$GIT_ASKPASS" >> "{log}"; fi\n'
        f'exec "{real}" "$@"\n'
    )
    wrapper.chmod(0o755)
    return bin_dir


def _texts(root: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield str(path), path.read_bytes().decode("utf-8", "replace")


@pytest.mark.slow  # every command on both targets; test_secrets_cycle.py runs by default
def test_no_secret_appears_anywhere_in_a_full_cycle(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    connection = emulator.data_dir / "connection.json"
    token = target_of(connection, SERVICES[0]).token
    assert token
    recorded = _recording_git(tmp_path)
    env = {
        "APIMSYNC_SECRET_API_KEY": SECRET_VALUE,
        "PATH": f"{recorded}{os.pathsep}{os.environ['PATH']}",
    }
    seen: list[tuple[str, str]] = []

    def run(cli: Cli, *args: str | Path, expect: int | None = 0) -> None:
        result = cli.run(*args, expect=expect)
        seen.append((" ".join(map(str, args)), result.stdout + result.stderr))

    for service, via in zip(SERVICES, ("sdk", "git"), strict=True):
        cli = Cli(connection, service, **env)
        repo = tmp_path / f"repo-{via}"
        write_tree(_configuration(), repo)
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-qm", "configuration")
        run(cli, "deploy", "--dir", repo, "--via", via, "--yes", "--verbose")
        for output in ("text", "json", "markdown"):
            run(cli, "plan", "--dir", repo, "--via", via, "--format", output, "--verbose")
        backend = next(repo.rglob("backends/*/configuration.json"))
        document = json.loads(backend.read_text())
        document["url"] = "https://moved.example.test/api"
        backend.write_text(json.dumps(document, indent=2))
        _git(repo, "commit", "-qam", "move the backend")
        if via == "sdk":
            saved = tmp_path / "plan.json"
            run(cli, "plan", "--dir", repo, "--out", saved, "--verbose")
            run(cli, "deploy", "--dir", repo, "--plan", saved, "--verbose", "--format", "json")
        else:
            run(cli, "deploy", "--dir", repo, "--via", via, "--yes", "--verbose")
        run(cli, "pull", "--dir", tmp_path / f"pulled-{via}", "--via", via, "--verbose")
        run(cli, "pull", "--dir", repo, "--via", "sdk", "--verbose")
        if via == "git":
            history = _git(tmp_path / f"pulled-{via}", "log", "-p", "--all")
            seen.append(("history of the pulled repository", history))

    client = target_of(connection, SERVICES[1]).client()
    keys = client.tenant_access.list_secrets(
        emulator.connection.resource_group, SERVICES[1], "gitAccess"
    )
    wanted = {
        "the bearer token": token,
        "the secret named value": SECRET_VALUE,
        "the primary git key": keys.primary_key,
        "the secondary git key": keys.secondary_key,
    }
    places = [*seen, *_texts(tmp_path)]
    places.append(("emulator.log", (emulator.data_dir / "emulator.log").read_text()))
    found = [
        f"{name} in {where}"
        for where, text in places
        for name, value in wanted.items()
        if value and value in text
    ]
    found += [f"a git password in {where}" for where, text in places if GIT_PASSWORD.search(text)]
    commands = (tmp_path / "git-commands.log").read_text()
    config = (tmp_path / "pulled-git" / ".git" / "config").read_text()
    figure(
        "6 secrets",
        f"{len(wanted)} secrets and minted git passwords looked for in {len(seen)} command "
        f"outputs, {sum(1 for _ in tmp_path.rglob('*') if _.is_file())} files (.git/config "
        f"and history of the git pull included), the emulator log and "
        f"{commands.count(chr(10))} recorded git command lines: {len(found)} found",
    )
    assert not found, found
    assert "clone" in commands and "push" in commands  # git was used, and recorded
    assert not re.search(r"://[^/@\s]+:[^/@\s]*@", config), config  # no password in a URL


def _get(url: str, ca: str, header: str | None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": header} if header else {})
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=ca)) as r:
            return int(r.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_emulator_refuses_bad_bearer_tokens_and_git_passwords(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    conn = emulator.connection
    service = SERVICES[1]
    management = (
        f"{conn.endpoint}/subscriptions/{conn.subscription_id}/resourceGroups/"
        f"{conn.resource_group}/providers/Microsoft.ApiManagement/service/{service}"
        f"?api-version={API_VERSION}"
    )
    bearer = {
        "no Authorization": None,
        "a wrong token": "Bearer " + secrets.token_urlsafe(32),
        "the token cut short": "Bearer " + conn.token[:-1],
        "the token lengthened": "Bearer " + conn.token + "x",
        "an empty bearer": "Bearer ",
        "the token as Basic": _basic("apim", conn.token),
    }
    statuses = {name: _get(management, conn.ca_bundle, header) for name, header in bearer.items()}
    admin = {
        name: _get(f"{conn.endpoint}/_emulator/requests", conn.ca_bundle, header)
        for name, header in bearer.items()
    }
    good = _get(management, conn.ca_bundle, "Bearer " + conn.token)

    client = target_of(emulator.data_dir / "connection.json", service).client()
    expiry = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    answer = client.user.get_shared_access_token(
        conn.resource_group, service, "git", {"key_type": "primary", "expiry": expiry}
    )
    valid = str(answer.value)
    other_service = str(
        client.user.get_shared_access_token(
            conn.resource_group, SERVICES[0], "git", {"key_type": "primary", "expiry": expiry}
        ).value
    )
    keys = client.tenant_access.list_secrets(conn.resource_group, service, "gitAccess")
    signed, _, signature = valid.rpartition("&")
    forged_signature = base64.b64encode(secrets.token_bytes(64)).decode()
    git_url = f"{conn.endpoint}/scm/{service}/info/refs?service=git-upload-pack"
    passwords = {
        "a forged signature": _basic("apim", f"{signed}&{forged_signature}"),
        "an expired password": _basic(
            "apim",
            mint_git_password(
                "git", dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5), keys.primary_key
            ),
        ),
        "a password signed with another key": _basic(
            "apim",
            mint_git_password("git", expiry, base64.b64encode(secrets.token_bytes(64)).decode()),
        ),
        "a later expiry than signed": _basic("apim", f"git&209912312359&{signature}"),
        "another service's password": _basic("apim", other_service),
        "another user": _basic("admin", valid),
        "the bearer token": _basic("apim", conn.token),
        "no password": None,
    }
    git_statuses = {
        name: _get(git_url, conn.ca_bundle, header) for name, header in passwords.items()
    }
    git_good = _get(git_url, conn.ca_bundle, _basic("apim", valid))
    clone_forged = _ls_remote(tmp_path, conn, service, f"{signed}&{forged_signature}")
    clone_valid = _ls_remote(tmp_path, conn, service, valid)

    figure(
        "6 refusals",
        f"management API: {len(statuses)} bad bearer headers -> {sorted(set(statuses.values()))} "
        f"(/_emulator too: {sorted(set(admin.values()))}), the right token -> {good}; git: "
        f"{len(git_statuses)} bad passwords -> {sorted(set(git_statuses.values()))}, a valid one "
        f"-> {git_good}; real git ls-remote: forged exit {clone_forged}, valid exit {clone_valid}",
    )
    assert set(statuses.values()) == {401} and set(admin.values()) == {401}, statuses
    assert good == 200
    assert set(git_statuses.values()) == {401}, git_statuses
    assert git_good == 200
    assert clone_forged != 0 and clone_valid == 0


def _ls_remote(folder: Path, conn: Connection, service: str, password: str) -> int:
    askpass = folder / "askpass.sh"
    askpass.write_text('#!/bin/sh\nprintf "%s" "$FUZZ_GIT_PASSWORD"\n')
    askpass.chmod(0o700)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder),
        "GIT_ASKPASS": str(askpass),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_SSL_CAINFO": conn.ca_bundle,
        "GIT_CONFIG_NOSYSTEM": "1",
        "FUZZ_GIT_PASSWORD": password,
    }
    endpoint = conn.endpoint.replace("https://", "https://apim@")
    return subprocess.run(
        ["git", "-c", "credential.helper=", "ls-remote", f"{endpoint}/scm/{service}"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    ).returncode
