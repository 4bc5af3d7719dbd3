"""The service's ASGI app for servers other than `backend serve` (app/bench/servers.py)."""

from __future__ import annotations

from backend.logs import configure_logging
from backend.main import create_app
from backend.settings import load_settings

_settings = load_settings()
configure_logging(_settings.log_level)
app = create_app(_settings)
