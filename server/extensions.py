"""What an app driver or event listener is handed to wire itself into one app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from core.config import Settings
from server.services import Services


@dataclass(frozen=True, slots=True)
class ExtensionContext:
    app: Flask
    settings: Settings
    services: Services
