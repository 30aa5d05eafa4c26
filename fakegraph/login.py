"""Facebook Login: the dialog, code and token exchanges, debug_token, /me and the Pages."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from fakegraph import errors
from fakegraph.errors import GraphError
from fakegraph.state import (
    DAY,
    LONG_LIVED_SECONDS,
    SEEDED_FB_USER,
    SHORT_LIVED_SECONDS,
    Core,
    LoginCode,
    Token,
)


class LoginRules(Core):
    """Facebook Login as the fake plays it: one Facebook user who approves every dialog (unless told not to)."""

    def me(self, token: Token, fields_param: str | None) -> dict[str, Any]:
        obj = {"id": token.fb_user_id, "name": "Fake Facebook User"}
        names = [n.strip() for n in (fields_param or "id,name").split(",") if n.strip()]
        return {name: obj[name] for name in names if name in obj} | {"id": token.fb_user_id}

    def pages(self, token: Token) -> dict[str, Any]:
        with self.changing() as state:
            rows = []
            for account in state.accounts.values():
                if account.fb_user_id != token.fb_user_id:
                    continue
                page_token = f"{token.token}.page.{account.page_id}"
                state.tokens.setdefault(page_token, Token(token=page_token, fb_user_id=token.fb_user_id, kind="PAGE"))
                rows.append(
                    {
                        "id": account.page_id,
                        "name": account.page_name,
                        "category": "Library",
                        "access_token": page_token,
                        "instagram_business_account": {"id": account.ig_user_id, "username": account.username},
                    }
                )
            return {"data": rows, "paging": {"cursors": {"before": "QVFIUmJlZAm9yZA", "after": "QVFIUmFmdGVyZA"}}}

    def debug_token(self, input_token: str) -> dict[str, Any]:
        with self.lock:
            record = self.state.tokens.get(input_token)
            app_id = self.state.config.app_id or "fake-app-id"
            if record is None:
                return {"data": {"is_valid": False, "error": {"code": 190, "message": "Invalid OAuth access token."}}}
            expired = record.expires_at is not None and record.expires_at <= self.now()
            data: dict[str, Any] = {
                "app_id": app_id,
                "type": record.kind,
                "application": "Fake App",
                "data_access_expires_at": int(self.now() + 90 * DAY),
                "expires_at": int(record.expires_at) if record.expires_at is not None else 0,
                "is_valid": record.state == "valid" and not expired,
                "scopes": [
                    "instagram_basic",
                    "instagram_content_publish",
                    "instagram_manage_comments",
                    "instagram_manage_insights",
                    "pages_show_list",
                    "pages_read_engagement",
                    "business_management",
                ],
                "user_id": record.fb_user_id,
            }
            return {"data": data}

    def _check_app(self, params: dict[str, Any]) -> None:
        client_id, secret = params.get("client_id"), params.get("client_secret")
        config = self.state.config
        if not client_id:
            raise GraphError(101, "Missing client_id parameter.")
        if config.app_id and client_id != config.app_id:
            raise GraphError(101, "Error validating application. Invalid application ID.")
        if not secret:
            raise errors.invalid_parameter("Missing client_secret parameter.")
        if config.app_secret and secret != config.app_secret:
            raise GraphError(1, "Error validating client secret.")

    def login_dialog(self, params: dict[str, Any]) -> str:
        """The login dialog approves (or denies) at once; returns the redirect with `code` and `state`."""
        with self.changing() as state:
            redirect_uri = str(params.get("redirect_uri") or "")
            client_id = str(params.get("client_id") or "")
            if not redirect_uri.startswith(("http://", "https://")) or not client_id:
                raise errors.invalid_parameter("The login dialog needs client_id and an absolute redirect_uri.")
            if state.config.app_id and client_id != state.config.app_id:
                raise errors.invalid_parameter("Invalid App ID.")
            answer: dict[str, str]
            if state.config.dialog == "deny":
                answer = {
                    "error": "access_denied",
                    "error_code": "200",
                    "error_description": "Permissions error",
                    "error_reason": "user_denied",
                }
            else:
                code = secrets.token_urlsafe(32)
                state.login_codes[code] = LoginCode(
                    code=code, client_id=client_id, redirect_uri=redirect_uri, fb_user_id=SEEDED_FB_USER
                )
                answer = {"code": code}
            if params.get("state") is not None:
                answer["state"] = str(params["state"])
            return f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(answer)}#_=_"

    def access_token(self, params: dict[str, Any]) -> dict[str, Any]:
        """`/oauth/access_token`: a login code for a short-lived token, or fb_exchange_token for a long-lived one."""
        with self.changing() as state:
            self._check_app(params)
            if params.get("grant_type") == "fb_exchange_token":
                old = str(params.get("fb_exchange_token") or "")
                if not old:
                    raise errors.invalid_parameter("Missing fb_exchange_token parameter.")
                record = self.authenticate(old)  # an expired token cannot be exchanged: 190/463
                return self._issue(record.fb_user_id, LONG_LIVED_SECONDS)
            code = str(params.get("code") or "")
            login = state.login_codes.get(code)
            if login is None:
                raise errors.invalid_parameter("Invalid verification code format.", subcode=36007)
            if login.used:
                raise errors.invalid_parameter("This authorization code has been used.", subcode=36009)
            if params.get("redirect_uri") != login.redirect_uri:
                raise errors.invalid_parameter(
                    "Error validating verification code. Please make sure your redirect_uri is identical to the one "
                    "you used in the OAuth dialog request",
                    subcode=36008,
                )
            login.used = True
            return self._issue(login.fb_user_id, SHORT_LIVED_SECONDS)

    def _issue(self, fb_user_id: str, seconds: int) -> dict[str, Any]:
        token = "EAAFake" + secrets.token_urlsafe(32)
        self.state.tokens[token] = Token(token=token, fb_user_id=fb_user_id, expires_at=self.now() + seconds)
        return {"access_token": token, "token_type": "bearer", "expires_in": seconds}

    def set_token(self, spec: dict[str, Any]) -> dict[str, Any]:
        with self.changing() as state:
            token = str(spec.get("token") or "EAAFake" + secrets.token_urlsafe(32))
            record = state.tokens.get(token) or Token(token=token, fb_user_id=SEEDED_FB_USER)
            wanted = spec.get("state", "valid")
            if wanted not in {"valid", "invalid", "revoked", "expired"}:
                raise ValueError("state must be valid, invalid (revoked) or expired")
            wanted = "invalid" if wanted == "revoked" else wanted
            if wanted == "expired":
                record.state, record.expires_at = "valid", self.now() - 1
            else:
                record.state = wanted
                if "expires_in" in spec:
                    expires_in = spec["expires_in"]
                    record.expires_at = None if expires_in is None else self.now() + float(expires_in)
            record.subcode = spec.get("subcode", record.subcode)
            state.tokens[token] = record
            return asdict(record)
