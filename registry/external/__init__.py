"""External app providers: web applications Docbridge does not ship.

A provider registers with ``POST /api/v1/app-providers`` (shared secret, see
``docs/app-registry.md``), renews its registration by heartbeat before the time to live
runs out, and is asked for a launch by Docbridge with a JSON ``POST`` to the ``launch_url``
it registered. One module per job:

- `registration`: reading a registration body, and the JSON the store keeps (pure);
- `exchange`: the launch call's body and the reading of its answer (pure);
- `launch`: the launch call itself;
- `store`: the ``app_providers`` table, so a restart loses none and instances agree.
"""

from registry.external.exchange import launch_request_body, parse_launch_answer
from registry.external.launch import MAX_LAUNCH_ANSWER_BYTES, ExternalDriver, LaunchClient
from registry.external.registration import (
    DEFAULT_TTL_SECONDS,
    SECRET_HEADER,
    ExternalRegistration,
    is_http_url,
    parse_registration,
    registration_from_json,
    registration_to_json,
)
from registry.external.store import PURGE_AFTER, ProviderStore, StoredRegistration

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "MAX_LAUNCH_ANSWER_BYTES",
    "PURGE_AFTER",
    "SECRET_HEADER",
    "ExternalDriver",
    "ExternalRegistration",
    "LaunchClient",
    "ProviderStore",
    "StoredRegistration",
    "is_http_url",
    "launch_request_body",
    "parse_launch_answer",
    "parse_registration",
    "registration_from_json",
    "registration_to_json",
]
