"""The by-id read answered before routing (middleware/note_read.py) answers as the route does."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.deps import get_notes
from backend.middleware import note_read

pytestmark = pytest.mark.anyio

NOTES = "/api/v1/notes"
REQUEST_ID = {"X-Request-ID": "parity-check"}  # the same id both ways: problem bodies carry it


async def answers(
    client: httpx.AsyncClient, requests: list[tuple[str, str]]
) -> list[tuple[int, list[tuple[bytes, bytes]], bytes]]:
    """Status, raw headers in order, and body of each request."""
    result = []
    for method, path in requests:
        response = await client.request(method, path, headers=REQUEST_ID)
        result.append((response.status_code, response.headers.raw, response.content))
    return result


async def test_answers_match_the_route_byte_for_byte(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await client.post(NOTES, json={"title": "ünïcode", "body": "b", "tags": ["x", "y"]})
    note: dict[str, Any] = created.json()
    await client.patch(f"{NOTES}/{note['id']}", json={"title": "second version"})
    paths = [
        f"{NOTES}/{note['id']}",
        f"{NOTES}/{note['id'].upper()}",
        f"{NOTES}/{note['id']}?unrelated=1",
        f"{NOTES}/{uuid.uuid4()}",
        f"{NOTES}/{note['id']}/",
        f"{NOTES}/{note['id'].replace('-', '')}",
        f"{NOTES}/not-a-uuid",
    ]
    requests = [(method, path) for path in paths for method in ("GET", "HEAD")]

    fast = await answers(client, requests)
    monkeypatch.setattr(note_read, "NOTE_PATH", re.compile(r"(?!)"))  # matches nothing
    routed = await answers(client, requests)

    assert [status for status, _, _ in fast][:8] == [200, 200, 200, 200, 200, 200, 404, 404]
    for request, fast_answer, routed_answer in zip(requests, fast, routed, strict=True):
        assert fast_answer == routed_answer, request


async def test_the_read_is_answered_without_the_router(app: FastAPI) -> None:
    def no_repository() -> None:
        raise RuntimeError("the route's dependencies ran")

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        note = (await client.post(NOTES, json={"title": "fast"})).json()
        app.dependency_overrides[get_notes] = no_repository
        response = await client.get(f"{NOTES}/{note['id']}")
        assert response.status_code == 200
        assert response.json()["title"] == "fast"
        # The route itself would have failed: this request goes through it.
        assert (await client.get(f"{NOTES}/{note['id'].replace('-', '')}")).status_code == 500

        metrics = (await client.get("/metrics")).text
        sample = re.search(
            r'^http_requests_total\{method="GET",route="/api/v1/notes/\{note_id\}",status="200"\}'
            r" (\S+)$",
            metrics,
            re.M,
        )
        assert sample is not None, "the fast read is counted under the route's template"
        assert float(sample[1]) == 1.0
