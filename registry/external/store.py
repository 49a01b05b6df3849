"""External registrations in the ``app_providers`` table, so a restart loses none and
several Docbridge instances on one database list the same providers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from core.errors import UpstreamError
from registry.catalog import Registration
from registry.external.launch import ExternalDriver, LaunchClient
from registry.external.registration import ExternalRegistration, registration_from_json, registration_to_json
from registry.tables import app_providers
from storage.metadata.database import read_connection, write_transaction

log = logging.getLogger(__name__)

# Rows expired this long ago are removed when someone registers.
PURGE_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class StoredRegistration:
    registration: ExternalRegistration
    registered_at: datetime
    expires_at: datetime


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _stored(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


class ProviderStore:
    """External registrations in the `app_providers` table."""

    def __init__(self, engine: Engine, client: LaunchClient) -> None:
        self._engine = engine
        self._client = client
        # Stored as naive UTC on SQLite, aware on PostgreSQL; compare like with like.
        self._naive = engine.dialect.name == "sqlite"

    @property
    def launch_client(self) -> LaunchClient:
        """How the registered providers are called; its fence also judges a registration."""
        return self._client

    def _when(self, value: datetime) -> datetime:
        return _stored(value) if self._naive else value

    def upsert(self, registration: ExternalRegistration, now: datetime) -> StoredRegistration:
        """Register or renew. A renewal keeps the first registration time (and so the place
        in `/app/list`) unless the earlier registration had already expired."""
        expires_at = now + timedelta(seconds=registration.ttl_seconds)
        payload = registration_to_json(registration)
        name = registration.provider.name
        for _attempt in range(2):
            with write_transaction(self._engine) as connection:
                connection.execute(
                    delete(app_providers).where(app_providers.c.expires_at < self._when(now - PURGE_AFTER))
                )
                row = connection.execute(
                    select(app_providers.c.registered_at, app_providers.c.expires_at).where(
                        app_providers.c.name == name
                    )
                ).first()
                if row is None:
                    try:
                        connection.execute(
                            insert(app_providers).values(
                                name=name,
                                payload=payload,
                                registered_at=self._when(now),
                                expires_at=self._when(expires_at),
                            )
                        )
                    except IntegrityError:
                        continue  # registered concurrently by another instance: renew it
                    return StoredRegistration(registration, now, expires_at)
                registered_at = _aware(row.registered_at)
                if _aware(row.expires_at) <= now:
                    registered_at = now
                connection.execute(
                    update(app_providers)
                    .where(app_providers.c.name == name)
                    .values(payload=payload, registered_at=self._when(registered_at), expires_at=self._when(expires_at))
                )
                return StoredRegistration(registration, registered_at, expires_at)
        raise UpstreamError("the registration could not be stored")  # pragma: no cover

    def heartbeat(
        self, name: str, now: datetime, ttl_seconds: int | None, max_ttl_seconds: int
    ) -> StoredRegistration | None:
        """Extend a live registration; None when it is unknown or has already expired."""
        with write_transaction(self._engine) as connection:
            row = connection.execute(
                select(app_providers).where(app_providers.c.name == name, app_providers.c.expires_at > self._when(now))
            ).first()
            if row is None:
                return None
            registration = registration_from_json(row.payload)
            ttl = ttl_seconds if ttl_seconds is not None else registration.ttl_seconds
            if max_ttl_seconds:
                ttl = min(ttl, max_ttl_seconds)
            expires_at = now + timedelta(seconds=ttl)
            connection.execute(
                update(app_providers).where(app_providers.c.name == name).values(expires_at=self._when(expires_at))
            )
            return StoredRegistration(registration, _aware(row.registered_at), expires_at)

    def remove(self, name: str) -> bool:
        with write_transaction(self._engine) as connection:
            result = connection.execute(delete(app_providers).where(app_providers.c.name == name))
            return result.rowcount > 0

    def live_registrations(self, now: datetime) -> list[StoredRegistration]:
        with read_connection(self._engine) as connection:
            rows = connection.execute(
                select(app_providers)
                .where(app_providers.c.expires_at > self._when(now))
                .order_by(app_providers.c.registered_at, app_providers.c.name)
            ).all()
        found: list[StoredRegistration] = []
        for row in rows:
            try:
                registration = registration_from_json(row.payload)
            except (ValueError, KeyError, TypeError):
                log.error("app_providers row %r is unreadable; ignored", row.name)
                continue
            found.append(StoredRegistration(registration, _aware(row.registered_at), _aware(row.expires_at)))
        return found

    def live(self, now: datetime) -> list[Registration]:
        return [
            Registration(stored.registration.provider, ExternalDriver(stored.registration, self._client), builtin=False)
            for stored in self.live_registrations(now)
        ]
