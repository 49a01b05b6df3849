"""Admin command line through Flask's CLI: ``flask --app app user …``, ``group …``,
``extensions list``, ``storage gc``, ``lock list`` and ``lock release``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from core.errors import DocbridgeError
from core.ids import parse_resource_id
from server.services import services
from storage.lock_rules import holder_name

user_group = AppGroup("user", help="Manage Docbridge users.")
extensions_group = AppGroup("extensions", help="Inspect extensions.")
storage_group = AppGroup("storage", help="Storage maintenance.")
group_group = AppGroup("group", help="Manage groups of users (shares reach their members).")
lock_group = AppGroup("lock", help="The locks that hold files (WOPI clients, ONLYOFFICE sessions).")


def _fail(error: DocbridgeError) -> None:
    raise click.ClickException(error.message)


@user_group.command("create")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="The user's password.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--display-name", default="", help="Name shown to others (defaults to NAME).")
@click.option("--email", default="")
def create_user(name: str, password: str, admin: bool, display_name: str, email: str) -> None:
    """Create a user with a personal space."""
    try:
        user = services().users.create(name, password, is_admin=admin, display_name=display_name, email=email)
    except DocbridgeError as error:
        _fail(error)
        return
    click.echo(f"created user {user.name} (id {user.id}, home {user.home_id})")


@user_group.command("list")
def list_users() -> None:
    """List users."""
    for user in services().users.list():
        role = "admin" if user.is_admin else "user"
        click.echo(f"{user.name}\t{role}\t{user.display_name}\t{user.id}")


@user_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_user(name: str, yes: bool) -> None:
    """Delete a user and everything in their space."""
    if not yes:
        click.confirm(f"Delete {name} and all their files?", abort=True)
    try:
        services().users.delete(name)
    except DocbridgeError as error:
        _fail(error)
        return
    click.echo(f"deleted user {name}")


@user_group.command("password")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password(name: str, password: str) -> None:
    """Set a user's password."""
    try:
        services().users.set_password(name, password)
    except DocbridgeError as error:
        _fail(error)
        return
    click.echo(f"password of {name} changed")


@user_group.command("token")
@click.argument("name")
@click.option("--label", default="cli", help="What the token is for.")
def user_token(name: str, label: str) -> None:
    """Print a new X-Access-Token for scripts."""
    found = services()
    try:
        user = found.users.by_name(name)
    except DocbridgeError as error:
        _fail(error)
        return
    click.echo(found.users.issue_token(user.id, label))


@group_group.command("create")
@click.argument("name")
@click.option("--display-name", default="", help="Name shown in the share dialog (defaults to NAME).")
def create_group(name: str, display_name: str) -> None:
    """Create a group."""
    try:
        group = services().groups.create(name, display_name)
    except DocbridgeError as error:
        _fail(error)
        return
    click.echo(f"created group {group.name}")


@group_group.command("delete")
@click.argument("name")
def delete_group(name: str) -> None:
    """Delete a group; what was shared with it is no longer shared with its members."""
    try:
        services().groups.delete(name)
    except DocbridgeError as error:
        _fail(error)
        return
    click.echo(f"deleted group {name}")


@group_group.command("list")
def list_groups() -> None:
    """List groups: name, members, source (local or oidc), display name."""
    for group, members in services().groups.with_member_counts():
        click.echo(f"{group.name}	{members} member(s)	{group.source}	{group.display_name}")


@group_group.command("add-member")
@click.argument("name")
@click.argument("user")
def add_member(name: str, user: str) -> None:
    """Add USER to the group NAME."""
    found = services()
    try:
        found.groups.add_member(name, found.users.by_name(user).id)
    except DocbridgeError as error:
        _fail(error)
        return
    click.echo(f"{user} is a member of {name}")


@group_group.command("remove-member")
@click.argument("name")
@click.argument("user")
def remove_member(name: str, user: str) -> None:
    """Remove USER from the group NAME."""
    found = services()
    try:
        found.groups.remove_member(name, found.users.by_name(user).id)
    except DocbridgeError as error:
        _fail(error)
        return
    click.echo(f"{user} is no longer a member of {name}")


@extensions_group.command("list")
def list_extensions() -> None:
    """List extensions in load order with their state."""
    for state in services().extension_states:
        manifest = state.manifest
        status = "enabled" if state.enabled else f"disabled: {state.reason}"
        click.echo(f"{manifest.id}\t{manifest.version}\t{manifest.kind.value}\t{state.source}\t{status}")


@storage_group.command("gc")
@click.option("--grace-seconds", type=float, default=None, help="Age of unfinished saves to remove.")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also remove blobs that nothing references and no save has pending (after a power cut); lists every blob.",
)
def storage_gc(grace_seconds: float | None, everything: bool) -> None:
    """Remove blobs left behind by saves that never committed."""
    found = services()
    grace = found.settings.storage.orphan_grace_seconds if grace_seconds is None else grace_seconds
    click.echo(f"removed {found.storage.sweep_orphans(grace)} orphan blob(s)")
    if everything:
        click.echo(f"removed {found.storage.sweep_unreferenced(grace)} unreferenced blob(s)")


@lock_group.command("list")
def list_locks() -> None:
    """List the files locked now: file id, name, app, user, kind, expiry."""
    held = services().locks.active()
    if not held:
        click.echo("no file is locked")
        return
    for lock, name in held:
        expires = lock.expires_at.isoformat(timespec="seconds").replace("+00:00", "Z")
        click.echo(f"{lock.file_id}\t{name}\t{lock.app_name}\t{holder_name(lock)}\t{lock.kind.value}\t{expires}")


@lock_group.command("release")
@click.argument("file_id")
def release_lock(file_id: str) -> None:
    """Release the lock on FILE_ID, whoever holds it (an admin's override).

    The writer that held it is refused from then on; an ONLYOFFICE session keeps its next
    save in a conflict copy if the file changes meanwhile."""
    found = services()
    try:
        node_id = parse_resource_id(file_id)
        name = found.storage.stat(node_id).name
    except DocbridgeError as error:
        _fail(error)
        return
    released = found.locks.release(node_id)
    if released is None:
        click.echo(f"{name} was not locked")
        return
    click.echo(f"released the lock of {released.app_name} ({holder_name(released)}, {released.kind.value}) on {name}")


def init_app(app: Flask) -> None:
    for group in (user_group, group_group, extensions_group, storage_group, lock_group):
        app.cli.add_command(group)
