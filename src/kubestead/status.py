"""Condense what `status.yml` reports from the control planes into rows to print."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

# The key status.yml reports under with `set_stats`.
REPORT_KEY = "kubestead_status"


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
    """`reports` are status.yml's `set_stats` reports, one per control plane."""
    result: dict[str, Any] = {"nodes": [], "etcd": [], "certificates": [], "last_backup": None}
    newest = 0.0
    newest_host = ""
    for msg in reports:
        result["nodes"] = result["nodes"] or _nodes(_json(msg.get("nodes")))
        result["etcd"] = result["etcd"] or _etcd(
            _json(msg.get("etcd_health")), _json(msg.get("etcd_status"))
        )
        # Every control plane's own certificates: each renews (and expires) on its own. A file
        # kubeadm reports missing is left out (super-admin.conf exists only on the first).
        host = str(msg.get("host", ""))
        certificates = (_json(msg.get("certificates")) or {}).get("certificates", [])
        result["certificates"] += [
            {
                "host": host,
                "name": c["name"],
                "expires": c["expirationDate"],
                "days_left": int(c.get("residualTime", 0)) // 86400,
            }
            for c in certificates
            if not c.get("missing")
        ]
        mtime = float(msg.get("newest_backup_mtime") or 0)
        if mtime > newest:
            newest, newest_host = mtime, str(msg.get("host", ""))
    result["certificates"].sort(key=lambda c: (c["host"], c["name"]))
    if newest:
        taken = dt.datetime.fromtimestamp(newest, tz=dt.UTC)
        result["last_backup"] = {
            "time": taken.isoformat(timespec="seconds"),
            "host": newest_host,
            "age_hours": round((now - taken).total_seconds() / 3600, 1),
        }
    return result
