"""Condense what `status.yml` reports from the control planes into rows to print."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

REPORT_TASK = "Report the status"


def _json(text: Any) -> Any:
    # Ansible's templating may already have turned JSON-looking output into data.
    if isinstance(text, dict | list):
        return text
    try:
        return json.loads(text) if text else None
    except (TypeError, ValueError):
        return None


def _nodes(document: Any) -> list[dict[str, Any]]:
    rows = []
    for item in (document or {}).get("items", []):
        conditions = item.get("status", {}).get("conditions", [])
        ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), "Unknown")
        rows.append(
            {
                "name": item["metadata"]["name"],
                "ready": ready == "True",
                "version": item.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", ""),
            }
        )
    return rows


def _etcd(health: Any, status: Any) -> list[dict[str, Any]]:
    leaders = {
        s["Endpoint"]: s["Status"]["leader"] == s["Status"]["header"]["member_id"]
        for s in status or []
    }
    return [
        {
            "endpoint": h["endpoint"],
            "healthy": bool(h.get("health")),
            "leader": leaders.get(h["endpoint"], False),
            "error": h.get("error", ""),
        }
        for h in sorted(health or [], key=lambda h: str(h.get("endpoint")))
    ]


def condense(reports: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
    """`reports` are the runner results of REPORT_TASK, one per control plane."""
    result: dict[str, Any] = {"nodes": [], "etcd": [], "certificates": [], "last_backup": None}
    newest = 0.0
    for entry in reports:
        msg = entry.get("result", {}).get("msg", {})
        if not isinstance(msg, dict):
            continue
        result["nodes"] = result["nodes"] or _nodes(_json(msg.get("nodes")))
        result["etcd"] = result["etcd"] or _etcd(
            _json(msg.get("etcd_health")), _json(msg.get("etcd_status"))
        )
        if not result["certificates"]:
            certificates = (_json(msg.get("certificates")) or {}).get("certificates", [])
            result["certificates"] = [
                {
                    "name": c["name"],
                    "expires": c["expirationDate"],
                    "days_left": int(c.get("residualTime", 0)) // 86400,
                }
                for c in certificates
            ]
        newest = max(newest, float(msg.get("newest_backup_mtime") or 0))
    if newest:
        age = now - dt.datetime.fromtimestamp(newest, tz=dt.UTC)
        result["last_backup"] = {"age_hours": round(age.total_seconds() / 3600, 1)}
    return result
