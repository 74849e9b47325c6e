"""``apimsync demo``: the whole loop against a throwaway emulator, in one command.

Starts an emulator in a temporary folder, deploys the Azure OpenAI starter for its
``dev`` environment (base files plus ``environments/dev.json``), changes one backend URL
in a copy of the dev overlay, shows the plan of that change, applies it, shows that the
next plan is empty, and stops the emulator.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from apimsync.commands.deploy import DeployOptions, deploy
from apimsync.commands.plan import PlanOptions, plan
from apimsync.environments import FOLDER as ENVIRONMENTS
from apimsync.errors import UsageError
from apimsync.formats.files import CONFIG_ROOTS
from apimsync.output import Console
from apimsync.targets.connection import read_connection_file

DEFAULT_EXAMPLE = Path("examples/openai-usage")
ENVIRONMENT = "dev"
CHANGED_OVERLAY = f"environments/{ENVIRONMENT}.json"
CHANGED_BACKEND = "/backends/openaione"


def demo(example: Path, console: Console, color: bool = False) -> int:
    if not (example / "api-management").is_dir():
        raise UsageError(
            f"{example} holds no api-management/ folder; run the demo from the apimsync "
            "repository root or pass --example DIR"
        )
    from apimsync.emulator import EmulatorProcess

    with tempfile.TemporaryDirectory(prefix="apimsync-demo-") as temp:
        work = Path(temp) / "config"
        for top in (*CONFIG_ROOTS, ENVIRONMENTS):
            if (example / top).is_dir():
                shutil.copytree(example / top, work / top)
        with EmulatorProcess(Path(temp) / "emulator") as emulator:
            settings = read_connection_file(emulator.data_dir / "connection.json")
            target = {name: settings.get(name) for name in _TARGET_KEYS}
            return _loop(work, target, console, color)


_TARGET_KEYS = ("subscription", "resource_group", "service", "endpoint", "ca_bundle", "token")


def _loop(work: Path, target: dict[str, str | None], console: Console, color: bool) -> int:
    """Deploy, change, plan, deploy, plan: each step printed like a user would see it."""
    environment = ENVIRONMENT if (work / CHANGED_OVERLAY).is_file() else None
    options = PlanOptions(color=color, environment=environment)
    deploy_options = DeployOptions(yes=True, color=color, environment=environment)
    where = f" for its '{environment}' environment" if environment else ""
    _heading(console, f"1. Plan the example{where} against an empty instance")
    plan(work, target, options, console)
    _heading(console, "2. Deploy it")
    deploy(work, target, deploy_options, console, confirm=lambda _q: True)
    changed = _move_backend(work, environment)
    _heading(console, f"3. Change one backend URL ({changed}) and plan again")
    plan(work, target, options, console)
    _heading(console, "4. Deploy the change")
    deploy(work, target, deploy_options, console, confirm=lambda _q: True)
    _heading(console, "5. Plan once more: nothing left to do")
    final = PlanOptions(color=color, detailed_exitcode=True, environment=environment)
    return plan(work, target, final, console)


def _heading(console: Console, text: str) -> None:
    console.result(f"\n== {text}")


def _move_backend(work: Path, environment: str | None) -> str:
    """Point the backend somewhere else: in the environment's overlay when there is one
    (what the environment says wins), else in the backend's own file."""
    new_url = "https://openaione-westeurope.openai.azure.com/openai"
    if environment is not None:
        path = work / CHANGED_OVERLAY
        document = json.loads(path.read_text(encoding="utf-8"))
        document["resources"].setdefault(CHANGED_BACKEND, {})["url"] = new_url
        shown = f"{CHANGED_OVERLAY}, {CHANGED_BACKEND}"
    else:
        path = work / "api-management/backends/openaione/configuration.json"
        document = json.loads(path.read_text(encoding="utf-8"))
        document["url"] = new_url
        shown = path.relative_to(work).as_posix()
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return shown
