"""The notes API end to end through the ASGI app, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio

NOTES = "/api/v1/notes"


async def create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post(NOTES, json={"title": "a note", **fields})
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


async def test_create_returns_201_location_and_etag(client: httpx.AsyncClient) -> None:
    response = await client.post(NOTES, json={"title": "t", "body": "b", "tags": ["x", "y", "x"]})
    assert response.status_code == 201
    note = response.json()
    assert response.headers["location"] == f"{NOTES}/{note['id']}"
    assert response.headers["etag"] == '"1"'
    assert note["tags"] == ["x", "y"]  # repeats dropped, order kept
    assert note["version"] == 1
    assert note["created_at"] == note["updated_at"]
    assert note["created_at"].endswith("Z") or note["created_at"].endswith("+00:00")
    fetched = await client.get(response.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == note
    assert fetched.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({}, "body.title"),
        ({"title": ""}, "body.title"),
        ({"title": "x" * 201}, "body.title"),
        ({"title": "ok", "body": "x" * 10_001}, "body.body"),
        ({"title": "ok", "tags": [f"t{i}" for i in range(11)]}, "body.tags"),
        ({"title": "ok", "tags": [""]}, "body.tags.0"),
        ({"title": "ok", "tags": ["x" * 33]}, "body.tags.0"),
        ({"title": "nul\x00"}, "body.title"),
        ({"title": "ok", "extra": 1}, "body.extra"),
        ({"title": 5}, "body.title"),
    ],
)
async def test_invalid_input_is_422_with_field_errors(
    client: httpx.AsyncClient, payload: dict[str, Any], loc: str
) -> None:
    response = await client.post(NOTES, json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["title"] == "Unprocessable Entity"
    assert loc in [e["loc"] for e in problem["errors"]]


async def test_limits_are_inclusive(client: httpx.AsyncClient) -> None:
    note = await create(
        client, title="x" * 200, body="y" * 10_000, tags=[f"{i:032d}" for i in range(10)]
    )
    assert len(note["tags"]) == 10
    assert (await client.get(f"{NOTES}/{note['id']}")).json()["title"] == "x" * 200


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        NOTES, content=b'{"title": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"


async def test_unknown_id_is_404_and_bad_id_is_422(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"{NOTES}/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no note has this id"
    bad = await client.get(f"{NOTES}/not-a-uuid")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == "path.note_id"


async def test_list_pages_through_everything_once_newest_first(client: httpx.AsyncClient) -> None:
    created = [await create(client, title=f"n{i}") for i in range(7)]
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(NOTES, params=params)).json()
        pages += 1
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [n["id"] for n in seen] == [n["id"] for n in reversed(created)]


async def test_cursor_is_stable_when_notes_are_added(client: httpx.AsyncClient) -> None:
    first = [await create(client, title=f"old{i}") for i in range(4)]
    page1 = (await client.get(NOTES, params={"limit": 2})).json()
    await create(client, title="newer")  # lands before page 1; must not shift page 2
    page2 = (await client.get(NOTES, params={"limit": 2, "cursor": page1["next_cursor"]})).json()
    assert [n["id"] for n in page2["items"]] == [first[1]["id"], first[0]["id"]]
    assert page2["next_cursor"] is None


async def test_same_timestamp_ties_are_ordered_by_id(client: httpx.AsyncClient) -> None:
    # Concurrent creates can share a timestamp on a coarse clock; ids break the tie.
    notes = await asyncio.gather(*(create(client, title=f"c{i}") for i in range(6)))
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(NOTES, params=params)).json()
        ids += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(ids) == sorted(n["id"] for n in notes)
    assert len(set(ids)) == len(ids)


async def test_tag_filter_with_pagination(client: httpx.AsyncClient) -> None:
    tagged = [await create(client, title=f"w{i}", tags=["work", f"n{i}"]) for i in range(5)]
    await create(client, title="home", tags=["home"])
    page1 = (await client.get(NOTES, params={"tag": "work", "limit": 3})).json()
    page2 = (
        await client.get(NOTES, params={"tag": "work", "limit": 3, "cursor": page1["next_cursor"]})
    ).json()
    ids = [n["id"] for n in page1["items"] + page2["items"]]
    assert ids == [n["id"] for n in reversed(tagged)]
    assert page2["next_cursor"] is None
    none = (await client.get(NOTES, params={"tag": "absent"})).json()
    assert none == {"items": [], "next_cursor": None}


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


ZERO_ID = "0" * 32


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "garbage"}, {"cursor": "e30"},
     {"tag": ""}, {"tag": "x" * 33},
     # Valid timestamps whose conversion to UTC leaves the datetime range (was a 500).
     {"cursor": _cursor(f'{{"t":"0001-01-01T00:00:00+01:00","i":"{ZERO_ID}"}}')},
     {"cursor": _cursor(f'{{"t":"9999-12-31T23:59:59-01:00","i":"{ZERO_ID}"}}')},
     {"cursor": _cursor(f'{{"t":"2024-01-01T00:00:00","i":"{ZERO_ID}"}}')},  # no offset
     {"cursor": _cursor(f'{{"t":5,"i":"{ZERO_ID}"}}')}],
)  # fmt: skip
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    response = await client.get(NOTES, params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"].startswith("query.")


async def test_patch_changes_fields_and_bumps_version(client: httpx.AsyncClient) -> None:
    note = await create(client, title="before", body="keep", tags=["a"])
    response = await client.patch(f"{NOTES}/{note['id']}", json={"title": "after", "tags": ["b"]})
    assert response.status_code == 200
    updated = response.json()
    assert (updated["title"], updated["body"], updated["tags"]) == ("after", "keep", ["b"])
    assert updated["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert updated["updated_at"] > note["updated_at"]
    assert updated["created_at"] == note["created_at"]
    by_a = (await client.get(NOTES, params={"tag": "a"})).json()["items"]
    by_b = (await client.get(NOTES, params={"tag": "b"})).json()["items"]
    assert by_a == []
    assert [n["id"] for n in by_b] == [note["id"]]


async def test_patch_without_changes_keeps_version_but_checks_it(
    client: httpx.AsyncClient,
) -> None:
    note = await create(client, tags=["a"])
    url = f"{NOTES}/{note['id']}"
    for body, headers in [({}, {}), ({"version": 1}, {}), ({}, {"If-Match": '"1"'})]:
        response = await client.patch(url, json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == note  # same version, same updated_at
        assert response.headers["etag"] == '"1"'
    assert (await client.patch(url, json={"version": 2})).status_code == 409
    assert (await client.patch(url, json={}, headers={"If-Match": '"2"'})).status_code == 412
    missing = f"{NOTES}/{uuid.uuid4()}"
    assert (await client.patch(missing, json={})).status_code == 404
    assert (await client.get(url)).json() == note


async def test_patch_null_for_required_field_is_422(client: httpx.AsyncClient) -> None:
    note = await create(client)
    response = await client.patch(f"{NOTES}/{note['id']}", json={"title": None})
    assert response.status_code == 422


async def test_stale_if_match_is_412_and_stale_version_is_409(client: httpx.AsyncClient) -> None:
    note = await create(client)
    url = f"{NOTES}/{note['id']}"
    ok = await client.patch(url, json={"body": "1"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.headers["etag"] == '"2"'
    stale_header = await client.patch(url, json={"body": "2"}, headers={"If-Match": '"1"'})
    assert stale_header.status_code == 412
    assert "current version is 2" in stale_header.json()["detail"]
    stale_body = await client.patch(url, json={"body": "2", "version": 1})
    assert stale_body.status_code == 409
    current = await client.patch(url, json={"body": "3", "version": 2})
    assert current.status_code == 200
    assert current.json()["version"] == 3
    # (If-Match, status, version afterwards), applied in order to the note at version 3.
    steps = [
        ('W/"3"', 412, 3),  # strong comparison (RFC 9110 13.1.1): a weak tag never matches
        ('"1", W/"3", "3"', 200, 4),  # a list matches if any strong tag is current
        ('"2","3"', 412, 4),
        ('"abc", ""', 412, 4),  # well-formed tags this service did not make
        ("*", 200, 5),
    ]
    for header, status, version in steps:
        response = await client.patch(url, json={"body": header}, headers={"If-Match": header})
        assert response.status_code == status, header
        assert (await client.get(url)).headers["etag"] == f'"{version}"', header
        if status == 412:
            assert f"current version is {version}" in response.json()["detail"]
    for garbage in ("nonsense", '"4" "5"', '*, "5"', '"5'):
        response = await client.patch(url, json={"body": "6"}, headers={"If-Match": garbage})
        assert response.status_code == 422, garbage
        assert response.json()["errors"][0]["loc"] == "header.if-match"
    assert (await client.get(url)).json()["body"] == "*"


async def test_delete_with_an_if_match_list(client: httpx.AsyncClient) -> None:
    note = await create(client)
    url = f"{NOTES}/{note['id']}"
    assert (await client.delete(url, headers={"If-Match": '"7", W/"1"'})).status_code == 412
    assert (await client.delete(url, headers={"If-Match": '"7", "1"'})).status_code == 204


@pytest.mark.parametrize("version", [True, False, "1", 1.5, [1]])
async def test_version_must_be_a_json_integer(client: httpx.AsyncClient, version: object) -> None:
    note = await create(client)
    response = await client.patch(f"{NOTES}/{note['id']}", json={"body": "x", "version": version})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == ["body.version"]
    assert (await client.get(f"{NOTES}/{note['id']}")).json()["version"] == 1


@pytest.mark.parametrize(
    ("method", "body", "key"),
    [
        ("POST", b'{"title": "a", "title": "b"}', "title"),
        ("POST", b'{"title": "a", "tags": ["x"], "tags": []}', "tags"),
        ("PATCH", b'{"version": 1, "body": "x", "version": 1}', "version"),
    ],
)
async def test_duplicate_json_keys_are_refused(
    client: httpx.AsyncClient, method: str, body: bytes, key: str
) -> None:
    url = NOTES
    if method == "PATCH":
        url = f"{NOTES}/{(await create(client))['id']}"
    response = await client.request(
        method, url, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {
            "loc": f"body.{key}",
            "msg": f"the key '{key}' appears twice",
            "type": "json_duplicate_key",
        }
    ]
    versions = [note["version"] for note in (await client.get(NOTES)).json()["items"]]
    assert versions == ([] if method == "POST" else [1])  # nothing stored, nothing changed


async def test_repeated_tags_are_dropped_before_counting(client: httpx.AsyncClient) -> None:
    tags = [f"t{i}" for i in range(10)] * 3
    response = await client.post(NOTES, json={"title": "t", "tags": tags})
    assert response.status_code == 201
    assert response.json()["tags"] == [f"t{i}" for i in range(10)]
    eleven = await client.post(NOTES, json={"title": "t", "tags": [f"t{i}" for i in range(11)]})
    assert eleven.status_code == 422
    assert eleven.json()["errors"][0]["msg"] == "Value error, at most 10 distinct tags; got 11"
    patched = await client.patch(
        f"{NOTES}/{response.json()['id']}", json={"tags": ["a", "a", "b", "a"]}
    )
    assert patched.json()["tags"] == ["a", "b"]


async def test_concurrent_updates_with_same_version_one_wins(client: httpx.AsyncClient) -> None:
    note = await create(client)
    url = f"{NOTES}/{note['id']}"
    results = await asyncio.gather(
        *(client.patch(url, json={"body": f"writer {i}", "version": 1}) for i in range(8))
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) == 1
    assert statuses.count(409) == 7
    winner = next(r.json() for r in results if r.status_code == 200)
    assert (await client.get(url)).json() == winner


async def test_patch_and_delete_unknown_are_404(client: httpx.AsyncClient) -> None:
    url = f"{NOTES}/{uuid.uuid4()}"
    assert (await client.patch(url, json={"title": "x"})).status_code == 404
    assert (await client.patch(url, json={"title": "x", "version": 1})).status_code == 404
    assert (await client.delete(url)).status_code == 404


async def test_delete_is_204_then_404_and_removes_tags(client: httpx.AsyncClient) -> None:
    note = await create(client, tags=["gone"])
    url = f"{NOTES}/{note['id']}"
    assert (await client.delete(url, headers={"If-Match": 'W/"7"'})).status_code == 412
    response = await client.delete(url)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url)).status_code == 404
    assert (await client.get(NOTES, params={"tag": "gone"})).json()["items"] == []


async def test_unicode_round_trips(client: httpx.AsyncClient) -> None:
    note = await create(client, title="Grüße 🌍 漢字", tags=["ünï", "🏷"])
    fetched = (await client.get(f"{NOTES}/{note['id']}")).json()
    assert fetched["title"] == "Grüße 🌍 漢字"
    assert [n["id"] for n in (await client.get(NOTES, params={"tag": "🏷"})).json()["items"]] == [
        note["id"]
    ]


async def test_head_answers_every_get_route_like_get_without_a_body(
    client: httpx.AsyncClient,
) -> None:
    note = await create(client, tags=["h"])
    paths = (await client.get("/openapi.json")).json()["paths"]
    get_paths = [p.replace("{note_id}", note["id"]) for p, ops in paths.items() if "get" in ops]
    assert len(get_paths) == 7
    extra = ["/openapi.json", "/docs", f"{NOTES}/{uuid.uuid4()}", f"{NOTES}?limit=0", "/nope"]
    for path in [*get_paths, *extra]:
        got = await client.get(path)
        head = await client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        for name in ("content-type", "content-length", "etag", "allow"):
            if name == "content-length" and path == "/metrics":
                continue  # the metrics themselves change between the two requests
            assert head.headers.get(name) == got.headers.get(name), (path, name)


async def test_allow_lists_head_only_where_head_is_answered(client: httpx.AsyncClient) -> None:
    response = await client.put(NOTES)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    for method in response.headers["allow"].split(", "):
        answered = await client.request(method, NOTES, json={"title": "allowed"})
        assert answered.status_code != 405, method
