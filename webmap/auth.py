"""Who may write (and, with ``READ_ACCESS=login``, who may read): logins, sessions, API tokens, CSRF.

The users, their roles and tokens are tables of the store (:mod:`geo.accounts`); every request checks a
session or a token against the snapshot it answers from (:func:`webmap.data.current_data`), so a user or
token added, removed or revoked on any machine counts at the next request of every worker.

- **Sessions** (Flask-Login): ``/login`` (a bilingual form; a wrong password is a 401 and the form again)
  and ``/logout`` (POST). The session cookie is signed with ``SECRET_KEY`` (the setting, else a key made
  once and kept in ``<instance>/secret_key``, mode 0600, so sessions survive a restart and every worker
  of a machine signs alike; several machines must share one ``SECRET_KEY``). It is ``HttpOnly``,
  ``SameSite=Lax``, and ``Secure`` when ``SESSION_COOKIE_SECURE`` (config or environment) is set. A
  session names the user and a digest of their password hash: a removed user's sessions end.
- **Tokens**: ``Authorization: Bearer <token>`` (made by ``run.py tokens add NAME``) acts as its user;
  an unknown or revoked token is a 401 even when a session cookie comes along.
- **CSRF** (Flask-WTF ``CSRFProtect``, token in the form field ``csrf_token`` or the ``X-CSRFToken``
  header): checked on ``/login`` and ``/logout``; on every write authenticated by the session
  (:func:`require_writer`, :func:`current_writer`), whatever its body; and on every other POST, PUT,
  PATCH or DELETE that a cross-site HTML form could send (form-encoded, multipart or ``text/plain``)
  while a session cookie comes along. A request with a bearer token is exempt: it carries no cookie
  credential a third-party page could ride on. Flask-WTF's own check of every POST is switched off
  (``WTF_CSRF_CHECK_DEFAULT``), so a public API request without a session (``POST /api/near`` with a
  GeoJSON body) needs no token.
- **Writers**: a view decorated with :func:`require_writer` (or calling :func:`current_writer`) runs only
  for a user with the role asked for (``editor`` by default; ``admin`` is stronger): anonymous → JSON 401
  with ``WWW-Authenticate: Bearer``; too weak a role → JSON 403 naming the role needed. The check comes
  before the view reads the body, so a refused request writes nothing.
- **READ_ACCESS=login**: everything but ``/login``, ``/logout``, ``/healthz``, ``/readyz`` and static
  files needs a session or a token; an API request (``/api/``, a non-GET, or a client asking for JSON)
  gets the JSON 401, a page a redirect to ``/login?next=…``.
"""

from __future__ import annotations

import functools
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from geo import accounts
from geo.accounts import User
from geo.errors import GeoError
from geo.settings import SettingsError
from webmap.data import current_data, current_settings

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("auth", __name__)

#: The realm named in ``WWW-Authenticate``.
REALM = "corridors"
#: Endpoints anyone may reach under ``READ_ACCESS=login`` (the login itself, probes, static files).
OPEN_ENDPOINTS: frozenset[str] = frozenset({"auth.login", "auth.logout", "health.healthz", "health.readyz",
                                            "static", "pages.favicon"})
#: Request bodies a cross-site HTML form can send without a CORS preflight.
FORM_MIMETYPES: tuple[str, ...] = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
UNSAFE_METHODS: frozenset[str] = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECRET_FILE = "secret_key"

LOGIN_NEEDED = ("authentication required: log in at /login, or send Authorization: Bearer <token> (python run.py "
                "tokens add NAME) · 请登录（/login），或在请求头中发送 Authorization: Bearer <令牌>")
BAD_TOKEN = ("the bearer token is unknown or revoked: ask an admin for a new one (python run.py tokens add NAME) "
             "· 令牌无效或已撤销，请向管理员申请新令牌")
WRONG_PASSWORD = "用户名或密码不正确 · Wrong user name or password"
CSRF_FAILED = ("the form has expired or lacks its CSRF token: reload the page and try again (an API client sends "
               "the token in the X-CSRFToken header, or uses a bearer token) · 表单已过期或缺少 CSRF 令牌，请刷新页面后重试")


class SessionUser(UserMixin):
    """What Flask-Login keeps for a logged-in user: the :class:`geo.accounts.User` and its session id."""

    def __init__(self, user: User, stamp: str) -> None:
        self.user = user
        self.id = f"{user.name}:{stamp}"  # names hold no ':' (geo.accounts.NAME_RE)

    def get_id(self) -> str:
        return self.id


@dataclass(frozen=True)
class Caller:
    """Who sent this request: the user (None if anonymous) and how (``session``, ``bearer`` or None)."""

    user: User | None
    via: str | None


# -- who is asking --------------------------------------------------------------------------------------

def _load_session_user(user_id: str) -> SessionUser | None:
    """Flask-Login's user_loader: the session's user, if they still exist with the same password hash."""
    name, _, stamp = str(user_id).rpartition(":")
    tables = current_data().internal
    user = accounts.find_user(tables, name)
    now = accounts.session_stamp(tables, name) if user is not None else None
    if user is None or now is None or not hmac.compare_digest(now, stamp):
        return None
    return SessionUser(user, now)


def _bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header ("" for a malformed one), None without one."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def caller() -> Caller:
    """Who sent this request (looked up once per request): a bearer token wins over a session cookie."""
    found = g.get("_corridors_caller")
    if found is None:
        token = _bearer_token()
        if token is not None:
            found = Caller(accounts.user_for_token(current_data().internal, token), "bearer")
        elif current_user.is_authenticated:
            found = Caller(current_user.user, "session")
        else:
            found = Caller(None, None)
        g._corridors_caller = found
    return found


def signed_in() -> User | None:
    """The logged-in user for templates (None when anonymous, or when the store cannot say)."""
    try:
        return caller().user
    except GeoError:  # a store that cannot be read: the page says so itself
        return None


# -- refusals --------------------------------------------------------------------------------------------

def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


def unauthorized_response(*, bad_token: bool = False) -> Response:
    """The JSON 401 of a request that needs a login or a token (``WWW-Authenticate: Bearer``)."""
    body = {"error": BAD_TOKEN if bad_token else LOGIN_NEEDED, "type": "Unauthorized", "login_url": "/login"}
    resp = make_response(jsonify(body), 401)
    challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if bad_token else "")
    resp.headers["WWW-Authenticate"] = challenge
    return _no_store(resp)


def forbidden_response(user: User, role: str) -> Response:
    """The JSON 403 of a user whose role is too weak, naming the role needed."""
    body = {"error": f"forbidden: this needs the role {role!r} or a stronger one; user {user.name!r} has the role "
                     f"{user.role!r} · 权限不足：需要 {role} 角色", "type": "Forbidden", "role_required": role}
    return _no_store(make_response(jsonify(body), 403))


def _check_csrf() -> None:
    """Validate the CSRF token of this request (form field or X-CSRFToken header) once; CSRFError (400) if not."""
    if current_app.config.get("WTF_CSRF_ENABLED", True) and not g.get("csrf_valid", False):
        current_app.extensions["csrf"].protect()


# -- for views that write --------------------------------------------------------------------------------

def current_writer(role: str = "editor") -> User:
    """The user this request writes as, who has ``role`` (or a stronger one); else the request stops here.

    Anonymous (or a bad token) → JSON 401; a session without a valid CSRF token → 400; too weak a role →
    JSON 403. Nothing of the body is read (but a session's form field ``csrf_token``)."""
    accounts.check_role(role)
    who = caller()
    if who.user is None:
        abort(unauthorized_response(bad_token=who.via == "bearer"))
    if who.via == "session":
        _check_csrf()
    if not who.user.has_role(role):
        abort(forbidden_response(who.user, role))
    return who.user


def require_writer(role: str = "editor") -> Callable[[F], F]:
    """Decorate a view that writes: it runs only for a user with ``role`` (see :func:`current_writer`)."""
    accounts.check_role(role)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            current_writer(role)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


# -- every request ---------------------------------------------------------------------------------------

def _wants_json() -> bool:
    if request.path.startswith("/api/") or request.method not in ("GET", "HEAD"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _guard() -> Response | None:
    """Before every view: the read check of ``READ_ACCESS=login``, then CSRF on form-like posts with a session."""
    if current_settings().read_access == "login" and request.endpoint not in OPEN_ENDPOINTS:
        who = caller()
        if who.user is None:
            if who.via == "bearer" or _wants_json():
                return unauthorized_response(bad_token=who.via == "bearer")
            target = request.full_path.rstrip("?") if request.query_string else request.path
            return redirect(url_for("auth.login", next=target))
    cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
    if (request.method in UNSAFE_METHODS and request.endpoint is not None and _bearer_token() is None
            and cookie in request.cookies and request.mimetype in FORM_MIMETYPES):
        _check_csrf()
    return None


def _csrf_error(exc: CSRFError) -> tuple[Any, int]:
    if request.endpoint == "auth.login":
        return _login_page(error=CSRF_FAILED, status=400, next_url=safe_next(request.form.get("next")))
    return jsonify({"error": f"{CSRF_FAILED} ({exc.description})", "type": "Bad Request"}), 400


# -- /login, /logout -------------------------------------------------------------------------------------

def safe_next(target: object) -> str | None:
    """``target`` when it is a path on this site (``/…``, not ``//host`` or ``/\\host``), else None."""
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2000:
        return None
    if target.startswith("//") or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _login_page(*, error: str | None = None, status: int = 200, next_url: str | None = None,
                name: str = "") -> tuple[Response, int]:
    html = render_template("login.html", error=error, next_url=next_url or "", name=name)
    return _no_store(make_response(html)), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """GET: the login form. POST: check the name and password; on success go to ``next`` (a local path)."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return _login_page(next_url=next_url)
    _check_csrf()
    name = request.form.get("name", "")
    user = accounts.check_password(current_data().internal, name.strip(), request.form.get("password", ""))
    stamp = accounts.session_stamp(current_data().internal, user.name) if user is not None else None
    if user is None or stamp is None:
        return _login_page(error=WRONG_PASSWORD, status=401, next_url=next_url, name=name[:64])
    session.pop("csrf_token", None)  # a new CSRF token for the new session
    login_user(SessionUser(user, stamp))
    g.pop("_corridors_caller", None)
    return redirect(next_url or "/", 303)


@bp.post("/logout")
def logout() -> Response:
    """End the session (CSRF-protected) and go to the map."""
    _check_csrf()
    logout_user()
    session.pop("csrf_token", None)
    return redirect("/", 303)


# -- set-up ----------------------------------------------------------------------------------------------

def _truthy(name: str, raw: str | None) -> bool:
    value = (raw or "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name}={raw!r}: expected 1/true/yes/on or 0/false/no/off", field=name)


def secret_key(instance_path: str | os.PathLike[str]) -> str:
    """The key kept in ``<instance_path>/secret_key``, made once (mode 0600) when there is none.

    Every worker process of the machine reads the same file; the first to start writes it atomically
    (a complete file linked into place, so no worker ever reads half a key)."""
    folder = Path(instance_path)
    path = folder / SECRET_FILE
    try:
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{SECRET_FILE}.{secrets.token_hex(8)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(secrets.token_urlsafe(48) + "\n")
                try:
                    os.link(tmp, path)  # fails if another worker was first: then its key is the one
                except FileExistsError:
                    pass
            finally:
                tmp.unlink(missing_ok=True)
        key = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise SettingsError(f"SECRET_KEY is not set and the key file {path} cannot be made or read "
                            f"({exc.strerror or type(exc).__name__}): set SECRET_KEY (the same on every machine)",
                            field="SECRET_KEY") from None
    if len(key) < 32:
        raise SettingsError(f"the key file {path} is damaged (too short): delete it (sessions then end) or set "
                            "SECRET_KEY", field="SECRET_KEY")
    return key


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer made once per key instead of on every request."""

    _signer: tuple[tuple[Any, ...], Any] | None = None  # (the keys, their signer)

    def get_signing_serializer(self, app: Flask) -> Any:
        """The signer of the app's current key (and its fallbacks), kept until the key changes."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._signer is None or self._signer[0] != keys:
            self._signer = (keys, super().get_signing_serializer(app))
        return self._signer[1]


def init_app(app: Flask) -> None:
    """Sessions, logins, tokens and CSRF for the app (call after ``data.init_app``)."""
    settings = app.extensions["settings"]
    app.secret_key = settings.secret_key or secret_key(app.instance_path)
    app.session_interface = _SessionInterface()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    secure = bool(app.config.get("SESSION_COOKIE_SECURE")) or _truthy(
        "SESSION_COOKIE_SECURE", os.environ.get("SESSION_COOKIE_SECURE"))
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # _guard and the writer checks decide (module docstring)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session: a page left open still logs out

    manager = LoginManager()
    manager.user_loader(_load_session_user)
    manager.init_app(app)
    CSRFProtect(app)
    app.register_blueprint(bp)
    app.before_request(_guard)
    app.register_error_handler(CSRFError, _csrf_error)
    app.context_processor(lambda: {"signed_in": signed_in})


__all__ = ["Caller", "SessionUser", "bp", "caller", "current_writer", "forbidden_response", "init_app",
           "require_writer", "safe_next", "secret_key", "signed_in", "unauthorized_response"]
