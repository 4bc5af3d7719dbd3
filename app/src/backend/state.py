"""What one running app holds: its settings, engine, repository, metrics and readiness."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from backend.metrics import Metrics
from backend.readiness import ReadinessProbe
from backend.repository import NoteRepository
from backend.settings import Settings


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    notes: NoteRepository
    metrics: Metrics
    readiness: ReadinessProbe
