"""Innspill settings: one module, read from the environment.

Defaults are safe for production (DEBUG off, secure cookies, HTTPS redirect,
MFA required). The embedded runner (`python -m config.embedded run`, i.e.
`make run`) and `tests/conftest.py` set what differs for development and tests;
nothing here branches on "are we testing".
"""

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

# Lets generic classes such as ModelForm[Library] be subscripted at run time.
django_stubs_ext.monkeypatch()


def envstr(name: str, default: str | None = None) -> str:
    """A string from the environment, or the default; no default means required."""
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return default
    return value


def envsecret(name: str, default: str | None = None) -> str:
    """Like envstr, but also reads NAME_FILE (Docker and Kubernetes secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return envstr(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false).")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from exc


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)
SECRET_KEY = envsecret("SECRET_KEY")
PUBLIC_BASE_URL = envstr("PUBLIC_BASE_URL", "http://localhost:8000" if DEBUG else None).rstrip("/")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "libraries",
    "production",
    "publishing",
    "demo",
    # The deployment checks of config/checks.py.
    "config.apps.InnspillConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "libraries.middleware.UserLanguageMiddleware",
    "libraries.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "libraries.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "libraries.context_processors.county",
            ],
        },
    },
    {
        # Only for partials repeated hundreds of times on a page (config/jinja2.py says which and why).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "config.jinja2.environment"},
    },
]

# --- Database: PostgreSQL only (the embedded default runs a real one too). ---
DATABASES = {
    "default": dj_database_url.parse(
        envsecret("DATABASE_URL"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (postgresql://…).")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache (sessions, rate limits), Celery broker, worker heartbeat. ---
REDIS_URL = envsecret("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "config.cache.RedisCache",  # one redis-py client per pool (config/cache.py)
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": envstr("CACHE_KEY_PREFIX", "innspill"),
    },
    # Template fragments whose key holds everything they show (templates/base.html's menu): per process, no
    # round trip, and nothing to invalidate.
    "fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fragments"},
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Celery: reliability over throughput. ---
# Tasks are acknowledged after they finish and re-queued if the worker dies, so
# every task must be idempotent (see STYLE.md §6). Redis re-delivers an
# unacknowledged message after the visibility timeout: it must be longer than
# any task's hard time limit, or a slow task would run twice at once.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 360)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "Europe/Oslo"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] < CELERY_TASK_TIME_LIMIT * 2:
    raise ImproperlyConfigured("CELERY_TASK_TIME_LIMIT must stay well below the Redis visibility timeout.")
# How old the worker's heartbeat may be before /healthz reports the worker down.
WORKER_HEARTBEAT_MAX_AGE = envint("WORKER_HEARTBEAT_MAX_AGE", 180)

# --- Accounts: allauth, e-mail login, invitation only, MFA. ---
AUTH_USER_MODEL = "libraries.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "libraries.adapters.InvitationOnlyAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Invitations prove the address; nobody signs up any other way.
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Innspill] "
# Invitation only: an address without an account gets no "sign up here" e-mail
# from the password-reset page (the page looks the same either way).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_RATE_LIMITS = {
    # Failed password logins (libraries.adapters counts them under this name):
    # at most 10 a minute from one address, 5 per 5 minutes for one account.
    "password_login_failed": envstr("LOGIN_FAILED_RATE_LIMIT", "10/m/ip,5/5m/key"),
    # Wrong two-factor codes (allauth's name): 5 per 5 minutes for one account and
    # nothing per address, so that one person mistyping codes cannot lock out the
    # others who log in from the same office or through the same proxy.
    "login_failed": envstr("MFA_FAILED_RATE_LIMIT", "5/5m/key"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Innspill"
# allauth refuses to set up a second factor while the account has an unverified
# address (against someone signing up with another's address and locking them
# out). Accounts here exist only through an invitation mailed to the address,
# or an operator's createsuperuser; but allauth records the address as
# unverified when the e-mail page or a password reset first sees it, which
# would dead-end coordinators, editors and staff on the one page they may open.
MFA_ALLOW_UNVERIFIED_EMAIL = True
# Staff, superusers, coordinators and editors must set up a second factor
# before any other page. Only the local demo turns this off.
REQUIRE_MFA = envbool("REQUIRE_MFA", True)
INVITATION_VALID_DAYS = envint("INVITATION_VALID_DAYS", 14)
# People under this age need a guardian's consent to be shown (DESIGN.md §5).
CONSENT_MINOR_AGE = envint("CONSENT_MINOR_AGE", 15)

# --- Internationalisation ---
LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian Bokmål")), ("en", _("English")), ("da", _("Danish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates as written in Europe ("4 December 2026", 14:30), not Django's American ones.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

# --- Static and media files ---
STATIC_URL = "/static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGE_BACKEND = envstr("STORAGE_BACKEND", "filesystem")
if STORAGE_BACKEND == "filesystem":
    _default_storage: dict[str, object] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "config.storage.MediaStorage",
        "OPTIONS": {
            "bucket_name": envstr("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": envstr("AWS_S3_ENDPOINT_URL", "") or None,
            # The store's address as browsers and Instagram reach it, when the app
            # reaches it under another name (MinIO inside docker-compose).
            "public_endpoint_url": envstr("AWS_S3_PUBLIC_ENDPOINT_URL", "") or None,
            "region_name": envstr("AWS_S3_REGION_NAME", "") or None,
            "access_key": envsecret("AWS_ACCESS_KEY_ID"),
            "secret_key": envsecret("AWS_SECRET_ACCESS_KEY"),
            # Media are private: every URL is presigned and expires.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 600,
            "file_overwrite": False,
        },
    }
else:
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'filesystem' or 's3'.")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Media uploads and serving (production/uploads.py, production/views/uploads.py, views/media_files.py) ---
# Resumable (tus) uploads are written here chunk by chunk until they are
# complete and checked. With several web processes, all of them must share
# this directory (a shared volume), or the load balancer must keep a person
# on one process (sticky sessions): any chunk may reach any process.
UPLOAD_TEMP_DIR = Path(envstr("UPLOAD_TEMP_DIR", str(BASE_DIR / "var" / "uploads")))
UPLOAD_IMAGE_MAX_BYTES = envint("UPLOAD_IMAGE_MAX_BYTES", 50 * 1024 * 1024)
UPLOAD_VIDEO_MAX_BYTES = envint("UPLOAD_VIDEO_MAX_BYTES", 1024 * 1024 * 1024)
# Unfinished uploads untouched for this long are deleted (an hourly task).
UPLOAD_ABANDONED_AFTER_HOURS = envint("UPLOAD_ABANDONED_AFTER_HOURS", 24)
# A file whose processing kills the worker this many times (each death redelivers the task at once)
# fails, with a message the editor sees, instead of looping for ever (production.services.media).
MEDIA_PROCESSING_MAX_CRASHES = envint("MEDIA_PROCESSING_MAX_CRASHES", 3)
# What follows when someone leaves a library, registered by the apps above `libraries`
# (which imports none of them): each is called with user_id and library_id after the commit.
# Their uploads in progress to what they can no longer add to are deleted at once.
MEMBERSHIP_REMOVED_HOOKS = ["production.uploads.discard_uploads_of_removed_member"]
# What follows when assets change (text, people, consent), registered by the apps above
# production: each is called with a production.services.media.MediaChange in the same
# transaction. Publishing refreshes the archive and pulls back posts whose consent lapsed.
MEDIA_CHANGED_HOOKS = ["publishing.media_changes.media_changed"]
# Which asset of another county a county sees in the network's shared pool (publishing decides; production's
# media view serves its thumbnail and picture through it, under production/release.py's sharing rule):
# called with county and asset_id, it returns the asset or None.
SHARED_ASSET_LOOKUP = "publishing.archive.network.pool_asset"
# Behind nginx: an internal location that maps this prefix onto MEDIA_ROOT
# (`location /protected-media/ { internal; alias /srv/media/; }`), so Django
# checks access and nginx sends the bytes (and answers Range requests).
# Empty: Django streams the files itself (development).
MEDIA_ACCEL_REDIRECT_PREFIX = envstr("MEDIA_ACCEL_REDIRECT_PREFIX", "")
if MEDIA_ACCEL_REDIRECT_PREFIX and not (
    MEDIA_ACCEL_REDIRECT_PREFIX.startswith("/") and MEDIA_ACCEL_REDIRECT_PREFIX.endswith("/")
):
    raise ImproperlyConfigured("MEDIA_ACCEL_REDIRECT_PREFIX must start and end with / (such as /protected-media/).")

# --- Secrets at rest (Instagram tokens): Fernet keys, the first encrypts. ---
ENCRYPTION_KEYS = envlist("ENCRYPTION_KEYS", "")
if not ENCRYPTION_KEYS:
    raise ImproperlyConfigured("ENCRYPTION_KEYS is required (generate one with `make key`).")

# --- Instagram Graph API ---
GRAPH_API_URL = envstr("GRAPH_API_URL", "https://graph.facebook.com").rstrip("/")
GRAPH_API_VERSION = envstr("GRAPH_API_VERSION", "v25.0")
# The Meta app behind "Connect with Facebook" (Facebook Login) and token refreshes.
# Empty: only a pasted long-lived token can connect, and it cannot be refreshed.
INSTAGRAM_APP_ID = envstr("INSTAGRAM_APP_ID", "")
INSTAGRAM_APP_SECRET = envsecret("INSTAGRAM_APP_SECRET", "")
if bool(INSTAGRAM_APP_ID) != bool(INSTAGRAM_APP_SECRET):
    raise ImproperlyConfigured("Set both INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET, or neither.")
# Seconds one Graph API call may take (Meta downloads the media during some calls).
GRAPH_API_TIMEOUT = envint("GRAPH_API_TIMEOUT", 60)

# --- Publishing: the worker that publishes posts (publishing/publish.py) ---
# The publish task's hard time limit. A worker holds a post for a lease: a post
# whose lease ran out is taken up again by the beat tick, so the lease must
# outlast the time limit, or a slow but living task would share its post.
PUBLISH_TASK_TIME_LIMIT = envint("PUBLISH_TASK_TIME_LIMIT", 300)
PUBLISH_LEASE_SECONDS = envint("PUBLISH_LEASE_SECONDS", PUBLISH_TASK_TIME_LIMIT + 120)
if PUBLISH_LEASE_SECONDS <= PUBLISH_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("PUBLISH_LEASE_SECONDS must be longer than PUBLISH_TASK_TIME_LIMIT.")
# Failed calls (Instagram busy, throttled, no answer) are tried again after a
# back-off that doubles from the base up to the cap, with jitter; after the
# last attempt the post fails with the reason. The cap stays well below the
# Redis visibility timeout, or a waiting task would be delivered twice.
PUBLISH_MAX_ATTEMPTS = envint("PUBLISH_MAX_ATTEMPTS", 8)
PUBLISH_RETRY_BASE_SECONDS = envint("PUBLISH_RETRY_BASE_SECONDS", 30)
PUBLISH_RETRY_MAX_SECONDS = envint("PUBLISH_RETRY_MAX_SECONDS", 3600)
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] < PUBLISH_RETRY_MAX_SECONDS * 2:
    raise ImproperlyConfigured("PUBLISH_RETRY_MAX_SECONDS must stay well below the Redis visibility timeout.")
# Seconds between reads of a container that Instagram is still processing (video).
PUBLISH_POLL_SECONDS = envint("PUBLISH_POLL_SECONDS", 30)
# Containers (and so video processing) given up on after this many reads.
PUBLISH_MAX_POLLS = envint("PUBLISH_MAX_POLLS", 40)
# Tokens are refreshed this many days before they expire; the coordinator is
# warned when one is this close to expiring all the same.
INSTAGRAM_TOKEN_REFRESH_DAYS = envint("INSTAGRAM_TOKEN_REFRESH_DAYS", 14)
INSTAGRAM_TOKEN_WARNING_DAYS = envint("INSTAGRAM_TOKEN_WARNING_DAYS", 7)
# Instagram's daily publishing limit never fails a post: a held post is tried again when the
# oldest publish leaves Instagram's moving window (plus this margin for the clocks), or after
# PUBLISH_QUOTA_RECHECK_SECONDS when the publishes filling the window are not ours.
PUBLISH_QUOTA_MARGIN_SECONDS = envint("PUBLISH_QUOTA_MARGIN_SECONDS", 60)
PUBLISH_QUOTA_RECHECK_SECONDS = envint("PUBLISH_QUOTA_RECHECK_SECONDS", 3600)
# A container that reads PUBLISHED is never failed: its media is looked for until found, and the
# coordinators are told when that has taken this long.
PUBLISH_MEDIA_ALERT_SECONDS = envint("PUBLISH_MEDIA_ALERT_SECONDS", 2 * 60 * 60)
# How long Instagram may fetch a rendition from its signed address.
PUBLISH_MEDIA_URL_SECONDS = envint("PUBLISH_MEDIA_URL_SECONDS", 6 * 60 * 60)

# --- The archive (publishing/archive.py) ---
# Results on one page of the archive's search.
ARCHIVE_PAGE_SIZE = envint("ARCHIVE_PAGE_SIZE", 24)
# How long the archive's facet counts for one search are kept (any change to the archive replaces them).
ARCHIVE_FACETS_CACHE_SECONDS = envint("ARCHIVE_FACETS_CACHE_SECONDS", 600)
# The most items downloaded as one zip or looked at together (a carousel takes 2 to 10 of them).
ARCHIVE_SELECTION_MAX_ITEMS = envint("ARCHIVE_SELECTION_MAX_ITEMS", 50)
# A concept that re-posts from the archive gets its draft this many days before the slot (for review).
ARCHIVE_REPOST_LEAD_DAYS = envint("ARCHIVE_REPOST_LEAD_DAYS", 7)
# django-storages keeps an S3 object read through the storage API in memory up to this many bytes and
# spills the rest to a temporary file (its own default, 0, keeps all of it in memory: a zip of videos would).
AWS_S3_MAX_MEMORY_SIZE = envint("AWS_S3_MAX_MEMORY_SIZE", 8 * 1024 * 1024)

# --- After publishing: insights, comments, the webhook (publishing/followup/) ---
# The secret Meta echoes when the webhook is subscribed (GET /webhooks/instagram/).
# Empty: the subscription handshake is refused, so Meta sends nothing (comments are
# still read every 15 minutes). Deliveries are checked against INSTAGRAM_APP_SECRET's
# signature.
INSTAGRAM_WEBHOOK_VERIFY_TOKEN = envsecret("INSTAGRAM_WEBHOOK_VERIFY_TOKEN", "")
if INSTAGRAM_WEBHOOK_VERIFY_TOKEN and not INSTAGRAM_APP_SECRET:
    raise ImproperlyConfigured("The Instagram webhook needs INSTAGRAM_APP_SECRET to check what Meta sends.")
# Comments are read from Instagram for posts published this many days back.
INSTAGRAM_COMMENTS_DAYS = envint("INSTAGRAM_COMMENTS_DAYS", 30)

# --- E-mail (Django 6.1 MAILERS) ---
_email_backends = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    # Keeps mail in the database and shows it at /outbox/ (the local demo).
    "outbox": "libraries.mail.OutboxEmailBackend",
}
EMAIL_BACKEND_NAME = envstr("EMAIL_BACKEND", "smtp")
if EMAIL_BACKEND_NAME not in _email_backends:
    raise ImproperlyConfigured("EMAIL_BACKEND must be one of: smtp, console, outbox.")
if EMAIL_BACKEND_NAME == "outbox" and not DEBUG:
    # The outbox shows every county's invitation and password-reset links in the browser.
    raise ImproperlyConfigured("EMAIL_BACKEND=outbox is for development only (DEBUG=true); use smtp.")
_mailer: dict[str, object] = {"BACKEND": _email_backends[EMAIL_BACKEND_NAME]}
if EMAIL_BACKEND_NAME == "smtp":
    _mailer["OPTIONS"] = {
        "host": envstr("EMAIL_HOST", "localhost"),
        "port": envint("EMAIL_PORT", 587),
        "username": envstr("EMAIL_HOST_USER", ""),
        "password": envsecret("EMAIL_HOST_PASSWORD", ""),
        "use_tls": envbool("EMAIL_USE_TLS", True),
        "timeout": 20,
    }
MAILERS = {"default": _mailer}
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Innspill <innspill@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security ---
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preloading binds the whole domain to HTTPS for browsers for good: the domain
# owner decides (SECURE_HSTS_PRELOAD=true), so the check for it is silenced.
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy (a load balancer, nginx): trust its X-Forwarded-Proto.
BEHIND_PROXY = envbool("BEHIND_PROXY", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Where the per-address login limit finds the client's address. Behind proxies,
# REMOTE_ADDR is the nearest proxy's: one limit for everyone, so ten bad logins a
# minute from anyone would lock out all. TRUSTED_PROXY_COUNT is the number of
# proxies of ours that append to X-Forwarded-For (the client's address is the one
# the outermost of them appended; what the client wrote before it is ignored), or
# CLIENT_IP_HEADER names a header a trusted proxy sets to the client's address
# (X-Real-IP, CF-Connecting-IP), which then wins. 0 and empty: REMOTE_ADDR (no proxy).
ALLAUTH_TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
if ALLAUTH_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 (no proxy) or the number of proxies in front.")
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = envstr("CLIENT_IP_HEADER", "") or None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
X_FRAME_OPTIONS = "DENY"
# Django's built-in CSP: no inline scripts or styles anywhere, so no unsafe-inline.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "media-src": ["'self'"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
if STORAGE_BACKEND == "s3":
    # Private media are answered with a redirect to a presigned address on the
    # object store, which pages then load pictures and video from.
    _store_url = (
        envstr("AWS_S3_PUBLIC_ENDPOINT_URL", "") or envstr("AWS_S3_ENDPOINT_URL", "") or "https://*.amazonaws.com"
    )
    _store_origin = "/".join(_store_url.split("/", 3)[:3])
    SECURE_CSP["img-src"].append(_store_origin)
    SECURE_CSP["media-src"].append(_store_origin)
SILENCED_SYSTEM_CHECKS: list[str] = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # httpx logs whole URLs at INFO; Meta's token exchange carries the app
        # secret in the query string.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
