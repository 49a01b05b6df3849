"""What one Docbridge installation keeps for itself: its data directory, its secret, and
the first admin account."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path

from core.config import Settings
from storage.metadata.users import UserStore

log = logging.getLogger(__name__)
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


def prepare_data_dir(settings: Settings) -> Path:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    return data_dir


def instance_secret(settings: Settings) -> bytes:
    """The configured secret, else one generated once and kept in the data directory, so
    tokens stay valid across restarts and every worker signs with the same key."""
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    path = settings.data_dir.resolve() / SECRET_FILE
    if not path.exists():
        candidate = path.with_name(f"{SECRET_FILE}.{os.getpid()}.tmp")
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(candidate, path)  # fails if another process won the race: use theirs
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def ensure_admin(users: UserStore, settings: Settings) -> None:
    """On first start (no users yet) create the admin; print a generated password once."""
    if users.count():
        return
    password = settings.admin_password
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    users.create(settings.admin_user, password, is_admin=True, display_name="Administrator")
    if generated:
        print(
            f"\nDocbridge created the admin user {settings.admin_user!r} with the password:\n\n"
            f"    {password}\n\nIt is shown only this once. Change it with "
            f"`flask --app app user password {settings.admin_user}`.\n",
            file=sys.stderr,
            flush=True,
        )
    log.info("created the admin user %r", settings.admin_user)
