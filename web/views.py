"""The web pages: the file browser, logging in and out (form or OIDC), the public-link
page and the open-with-web landing (`/external`).

The pages are shells: everything a person does in them goes through the JSON API
(`/api/v1`) and the app registry (`/app/*`) from the browser, with the session cookie and
the session's CSRF token (or a link's `Public-Token` on the public page). Data reaches the
page as one JSON block written with `|tojson`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from core.errors import AccessDenied, BadRequest, DocbridgeError, InvalidToken, NotFound
from server.auth import CSRF_HEADER, SESSION_USER_KEY, authenticate, guest_name, remember_guest_name
from server.errors import status_of
from server.services import services
from storage.types import User
from web.oidc_login import OidcClient, PendingLogin, authorization_url, check_callback, new_pending_login
from web.security import CSRF_FORM_FIELD, csrf_matches, csrf_token, page_headers, safe_next

blueprint = Blueprint("web", __name__)
OIDC_PENDING_KEY = "oidc_login"


@blueprint.after_request
def _page_headers(response: Response) -> Response:
    for name, value in page_headers(services().settings).items():
        response.headers.setdefault(name, value)
    return response


@blueprint.errorhandler(DocbridgeError)
def _domain_error(error: DocbridgeError) -> tuple[str, int]:
    status = status_of(error).status
    return render_template("web/message.html", title="Something went wrong", message=error.message), status


def _logged_in_user() -> User | None:
    user_id = session.get(SESSION_USER_KEY)
    return services().users.find(user_id) if isinstance(user_id, str) else None


def _login_redirect() -> BaseResponse:
    return redirect(url_for("web.login", next=request.full_path.rstrip("?")))


def _browser_page(user: User, open_request: dict[str, str] | None = None) -> str:
    data: dict[str, Any] = {
        "user": {"id": user.id, "name": user.name, "display_name": user.display_name},
        "home_id": str(user.home_id),
        "csrf_token": csrf_token(session),
        "open": open_request,
    }
    return render_template("web/browser.html", data=data, user=user, csrf_token=data["csrf_token"])


@blueprint.get("/")
def index() -> BaseResponse | str:
    user = _logged_in_user()
    if user is None:
        return _login_redirect()
    return _browser_page(user)


@blueprint.get("/external")
def external() -> BaseResponse | str:
    """The open-with-web landing (`/app/open-with-web` hands out this address): once the
    person is logged in, the browser opens `fileId` in `app`."""
    user = _logged_in_user()
    if user is None:
        return _login_redirect()
    file_id = request.args.get("fileId", "")
    if not file_id:
        raise NotFound("this address names no file to open")
    return _browser_page(user, {"file_id": file_id, "app": request.args.get("app", "")})


def _oidc_available() -> bool:
    oidc = services().settings.oidc
    return bool(oidc.issuer and oidc.client_id)


def _login_page(error: str = "", status: int = 200, name: str = "") -> tuple[str, int]:
    page = render_template(
        "web/login.html",
        error=error,
        name=name,
        next_url=safe_next(request.values.get("next")),
        csrf_token=csrf_token(session),
        oidc=_oidc_available(),
    )
    return page, status


@blueprint.get("/login")
def login() -> BaseResponse | tuple[str, int]:
    if _logged_in_user() is not None:
        return redirect(safe_next(request.args.get("next")))
    return _login_page()


def _start_session(user_id: str) -> None:
    # A fresh session on login: nothing from before (a planted CSRF token) survives.
    session.clear()
    session[SESSION_USER_KEY] = user_id
    csrf_token(session)


@blueprint.post("/login")
def login_submit() -> BaseResponse | tuple[str, int]:
    name = request.form.get("name", "").strip()
    if not csrf_matches(session, request.form.get(CSRF_FORM_FIELD)):
        return _login_page("Your session expired. Please try again.", 400, name)
    user = services().users.check_password(name, request.form.get("password", "")) if name else None
    if user is None:
        return _login_page("Wrong user name or password.", 401, name)
    _start_session(user.id)
    return redirect(safe_next(request.form.get("next")))


@blueprint.post("/logout")
def logout() -> BaseResponse | tuple[str, int]:
    if not csrf_matches(session, request.form.get(CSRF_FORM_FIELD)):
        page = render_template("web/message.html", title="Not logged out", message="Your session expired; reload.")
        return page, 400
    session.clear()
    return redirect(url_for("web.login"))


def _redirect_uri() -> str:
    return services().settings.public_base + url_for("web.oidc_callback")


def _oidc_client() -> OidcClient:
    oidc = services().settings.oidc
    return OidcClient(oidc.issuer, oidc.client_id)


@blueprint.get("/login/oidc")
def oidc_start() -> BaseResponse:
    """Leave for the issuer. A plain link: a form post that redirects to another origin
    would break the page's `form-action` policy, and starting a login changes nothing."""
    if not _oidc_available():
        raise NotFound("single sign-on is not configured")
    client = _oidc_client()
    pending = new_pending_login(safe_next(request.args.get("next")))
    session[OIDC_PENDING_KEY] = pending.to_session()
    return redirect(authorization_url(client.endpoints(), client.client_id, _redirect_uri(), pending))


@blueprint.get("/login/oidc/callback")
def oidc_callback() -> BaseResponse | tuple[str, int]:
    if not _oidc_available():
        raise NotFound("single sign-on is not configured")
    pending = PendingLogin.from_session(session.pop(OIDC_PENDING_KEY, None))
    try:
        code = check_callback(pending, request.args.to_dict())
        assert pending is not None  # check_callback refuses a missing login
        access_token = _oidc_client().exchange(code, _redirect_uri(), pending)
        principal = authenticate(services(), {"Authorization": f"Bearer {access_token}"}, None)
    except InvalidToken as error:
        return _login_page(f"Single sign-on failed: {error.message}", 401)
    if principal is None or principal.is_public:  # pragma: no cover - a bearer token names a user
        return _login_page("Single sign-on failed.", 401)
    _start_session(principal.user_id)
    return redirect(pending.next_url)


@blueprint.get("/s/<token>")
def public_link(token: str) -> tuple[str, int]:
    """The page behind a public link. The token stays in the page: the browser sends it
    as `Public-Token` with every call, so the page works without any session."""
    link = services().links.by_token(token)
    if link is None:
        message = "This link does not exist, has expired or was revoked."
        return render_template("web/message.html", title="Link not available", message=message), 404
    data = {
        "token": token,
        "node_id": str(link.node_id),
        "role": link.role.value,
        "has_password": link.has_password,
        "guest_name": guest_name(link.id),
        "csrf_token": csrf_token(session),
    }
    return render_template("web/public.html", data=data), 200


@blueprint.post("/s/<token>/name")
def public_link_name(token: str) -> Response:
    """The name a visitor of a public link gives, for co-editors to see ("<name> (guest)"):
    kept in the visitor's session, for this link only."""
    link = services().links.by_token(token)
    if link is None:
        raise NotFound("This link does not exist, has expired or was revoked.")
    if not csrf_matches(session, request.headers.get(CSRF_HEADER)):
        raise AccessDenied("missing or wrong CSRF token: reload the page and try again")
    body = request.get_json(silent=True)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        raise BadRequest("give your name")
    return jsonify(name=remember_guest_name(link.id, name))


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)

    @app.after_request
    def _static_headers(response: Response) -> Response:
        if request.endpoint == "static":
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
