"""A client for the emulator's own request counters (``{endpoint}/_emulator/requests``).

``GET`` answers what the emulator served since the last ``DELETE``: counts by route
(``PUT /backends/{backendId}``), by status and by injected fault. Tests and benchmarks
use them to assert and report how many requests and writes a command made.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from typing import Any

from apimsync.emulator.server import Connection

WRITE_METHODS = frozenset({"PUT", "PATCH", "POST", "DELETE"})
_OWN_ROUTES = "/_emulator/"


class RequestCounters:
    def __init__(self, connection: Connection) -> None:
        self._url = f"{connection.endpoint}/_emulator/requests"
        self._token = connection.token
        self._context = ssl.create_default_context(cafile=connection.ca_bundle)

    def reset(self) -> None:
        self._call("DELETE")

    def snapshot(self) -> dict[str, Any]:
        """The counters as the emulator sends them (``by_route``, ``by_status``, ``faults``)."""
        return self._call("GET")

    def writes_by_route(self) -> dict[str, int]:
        """Write requests by route since the last reset, the emulator's own left out."""
        return {
            route: count
            for route, count in self._api_routes().items()
            if route.split(" ", 1)[0] in WRITE_METHODS
        }

    def totals(self) -> tuple[int, int]:
        """(requests, writes) since the last reset, the emulator's own routes left out."""
        routes = self._api_routes()
        return sum(routes.values()), sum(self.writes_by_route().values())

    def _api_routes(self) -> dict[str, int]:
        routes: dict[str, int] = self.snapshot().get("by_route", {})
        return {route: count for route, count in routes.items() if _OWN_ROUTES not in route}

    def _call(self, method: str) -> dict[str, Any]:
        request = urllib.request.Request(
            self._url, method=method, headers={"Authorization": f"Bearer {self._token}"}
        )
        with urllib.request.urlopen(request, context=self._context, timeout=30) as response:
            body = response.read()
        document: dict[str, Any] = json.loads(body) if body else {}
        return document
