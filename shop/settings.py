"""Settings, all read from the environment (see docs/OPERATIONS.md for the list).

The embedded default is a SQLite file in var/ and a local-memory cache, so a
fresh machine needs nothing but `make run`. `DATABASE_URL` switches to
PostgreSQL, `REDIS_URL` to a shared Redis cache, `MEDIA_S3_BUCKET` to
S3-compatible media storage.
"""

import mimetypes
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from core.client_ip import parse_trusted_proxies

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SHOP_VAR_DIR", BASE_DIR / "var"))

# Python 3.11's mimetypes table does not know AVIF; media would be served as
# application/octet-stream and some browsers would refuse to decode it.
mimetypes.add_type("image/avif", ".avif")
mimetypes.add_type("image/webp", ".webp")
mimetypes.add_type("application/manifest+json", ".webmanifest")


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # No fallback on purpose: a default key in code is a key everyone knows.
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment (make run keeps a "
            "generated one in var/secret_key for the embedded setup), or set "
            "DJANGO_DEBUG=1 for local development."
        )
    # Debug only: a per-process random key, never a constant in the code.
    from django.core.management.utils import get_random_secret_key

    SECRET_KEY = get_random_secret_key()

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if not DEBUG else "*"
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles so runserver serves like gunicorn does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The layers, lowest first (docs/ARCHITECTURE.md); `shop` is only the project package.
    "core",
    "catalog",
    "personalization",
    "orders",
    "reviews",
    "notifications",
    "sellers",
    "analytics",
    "storefront",
]

MIDDLEWARE = [
    # First, so its duration covers the whole stack and every response gets a request id.
    "core.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    # Brotli for pages when accepted; after GZip so it runs first on the way out.
    "core.middleware.BrotliMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # `?lang=` on the API wins over Accept-Language (after LocaleMiddleware).
    "core.api.language.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    # Inside ConditionalGet: a 304 then carries no CSP header, so the browser keeps
    # the stored page together with the policy (and nonce) it arrived with.
    "csp.middleware.CSPMiddleware",
    "core.security.PermissionsPolicyMiddleware",
    # Body, URL and NUL-byte limits, before CSRF or a view reads the body (413/414/404/400).
    "core.request_limits.RequestLimitsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.shopper (lazy); after auth because it links the profile to the user.
    "personalization.middleware.ShopperMiddleware",
    # Data saver, profile language, private caching and stable ETags for pages.
    "storefront.middleware.StorefrontMiddleware",
    "core.login_guard.AdminLoginGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "storefront.context_processors.storefront",
            ],
        },
    }
]


# --- Database -----------------------------------------------------------------
# SQLite must hold up under several gunicorn workers: WAL lets readers run
# beside the one writer, IMMEDIATE takes the write lock at BEGIN (so two
# transactions never deadlock upgrading a read lock, which SQLite answers with
# an instant "database is locked"), and the busy timeout makes writers queue
# instead of failing.
SQLITE_INIT_COMMAND = ";".join(
    [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",  # durable in WAL mode except on power loss
        "PRAGMA foreign_keys=ON",
        "PRAGMA temp_store=MEMORY",
        "PRAGMA cache_size=-20000",  # 20 MB page cache per connection
        "PRAGMA mmap_size=134217728",
        "PRAGMA busy_timeout=20000",
    ]
)


def _database_config() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{VAR_DIR / 'shop.sqlite3'}"
    # Persistent server connections save a TCP + auth round trip per request;
    # the test suite sets 0 so live-server threads never leave sessions open.
    max_age = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
    config = dj_database_url.parse(url, conn_max_age=max_age, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Persistent connections keep the per-connection pragmas and cache warm.
        config["CONN_MAX_AGE"] = None
        config["CONN_HEALTH_CHECKS"] = False
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": SQLITE_INIT_COMMAND,
        }
        config.setdefault("TEST", {})["NAME"] = os.environ.get("SHOP_TEST_SQLITE_NAME") or None
    return config


DATABASES = {"default": _database_config()}
# Optional streaming replica for the feed's reads (core/db_router.py, docs/DEPLOY.md).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=60,
                                conn_health_checks=True),
        # Tests see the replica as the primary itself: no second test database.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["core.db_router.ReadReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Cache ----------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "shop"),
            "TIMEOUT": 300,
            # A Redis host that does not answer (down, firewalled) must fail fast:
            # without this a connect waits for the kernel (~2 min), holding a sync
            # worker and keeping /readyz from saying 503 to the load balancer.
            "OPTIONS": {"socket_connect_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "shop",
            "TIMEOUT": 300,
            "OPTIONS": {"MAX_ENTRIES": 20000},
        },
        # Rate-limit counters all gunicorn workers of this machine share
        # (core/throttle_cache.py); locmem would give each worker its own count.
        "throttle": {
            "BACKEND": "core.throttle_cache.LockedFileCache",
            "LOCATION": str(VAR_DIR / "throttle-cache"),
            "TIMEOUT": 900,
            "OPTIONS": {"MAX_ENTRIES": 50000},
        },
    }

SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)


# --- Auth -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"


# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("hi", _("Hindi")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True


# --- Static and media -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = os.environ.get("DJANGO_MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
# Hashed names are immutable, so whitenoise may cache them for a year.
WHITENOISE_MAX_AGE = 31536000 if not DEBUG else 0
# Tests and local debugging serve straight from static/ without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG or env_bool("SHOP_PLAIN_STATIC")
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS
# collectstatic is most of a fresh `make run`: brotli at its highest level on
# 12 MB of source maps (only ever fetched by devtools, which take them
# uncompressed) and on a second, unhashed copy of every file (nothing links to
# one: every URL comes from the manifest) took 100 s of its 24 s now.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
if MEDIA_S3_BUCKET:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": os.environ.get("MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("MEDIA_S3_REGION") or None,
            "custom_domain": os.environ.get("MEDIA_S3_CUSTOM_DOMAIN") or None,
            "querystring_auth": False,
            "file_overwrite": False,
            "default_acl": None,
            # Variant names carry their content hash: cache them forever.
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": (
            # Whitenoise's hashed + compressed storage, our own JS minified first.
            "core.staticfiles.MinifiedManifestStaticFilesStorage"
            if not env_bool("SHOP_PLAIN_STATIC")
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploads: reject early what the image pipeline would reject anyway.
SHOP_UPLOAD_MAX_BYTES = int(os.environ.get("SHOP_UPLOAD_MAX_BYTES", 15 * 1024 * 1024))
SHOP_IMAGE_MAX_PIXELS = int(os.environ.get("SHOP_IMAGE_MAX_PIXELS", 40_000_000))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o644
# A seller's bulk listing upload (catalog/bulk.py has the rest of the limits
# and why). The CSV and the ZIP together must stay under the admin's 64 MB
# request ceiling (core/request_limits.py).
SHOP_BULK_UPLOAD = {
    "MAX_ROWS": int(os.environ.get("SHOP_BULK_MAX_ROWS", 5000)),
    "CSV_MAX_BYTES": int(os.environ.get("SHOP_BULK_CSV_MAX_BYTES", 5 * 1024 * 1024)),
    "ZIP_MAX_BYTES": int(os.environ.get("SHOP_BULK_ZIP_MAX_BYTES", 50 * 1024 * 1024)),
}


# --- REST framework -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Shoppers by token (apps) or by the storefront's cookie (the PWA, with CSRF);
    # see personalization/api/authentication.py. Catalog views opt out: they are public.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "personalization.api.authentication.ShopperTokenAuthentication",
        "personalization.api.authentication.ShopperCookieAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only: no form or multipart parsing on an API that never takes files;
    # bounded nesting and storable strings (core/api/json_limits.py).
    "DEFAULT_PARSER_CLASSES": ["core.api.json_limits.JSONParser"],
    # One error shape for every 4xx (core/api/errors.py).
    "EXCEPTION_HANDLER": "core.api.errors.api_exception_handler",
    # Client IPs for throttling: core/client_ip.py (SHOP_TRUSTED_PROXIES below).
    # Per window, counted atomically in the default cache (core/api/throttling.py).
    # Per-IP limits are generous: mobile carriers put many phones behind one
    # address (carrier-grade NAT).
    "DEFAULT_THROTTLE_RATES": {
        "shopper_create": os.environ.get("SHOP_API_RATE_SHOPPER_CREATE", "30/min"),
        "shopper_write": os.environ.get("SHOP_API_RATE_SHOPPER_WRITE", "120/min"),
        "ip_write": os.environ.get("SHOP_API_RATE_IP_WRITE", "600/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Budget shop API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for the notification kinds (Region.kind is also a "kind").
    "ENUM_NAME_OVERRIDES": {"NotificationKindEnum": "notifications.models.Kind"},
    "DESCRIPTION": (
        "REST API for the PWA and app clients. Every 4xx answer has the shape "
        "`{\"error\": {\"code\", \"message\", \"fields\"}}` (schema `Error`). "
        "See docs/API.md for authentication, caching, throttling and the events beacon."
    ),
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # With ?fields= any card key may be absent (core/api/fields.py).
        "core.api.schema.sparse_fields_optional",
        "core.api.schema.closed_request_bodies",
    ],
}


# --- Security ---------------------------------------------------------------------------
# Production is the same code with DJANGO_DEBUG=0 and DJANGO_SECURE=1 behind a
# TLS proxy (docs/DEPLOY.md); `manage.py check --deploy --fail-level WARNING`
# passes with nothing silenced (tests/shop/test_production.py).
from csp.constants import NONCE, NONE, SELF  # noqa: E402 - kept next to its only use

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# The shop never opens pop-ups it needs to talk to: isolate the browsing context.
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A stale form's CSRF failure gets the shop's translated 403 page, not Django's English one.
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"
if env_bool("DJANGO_SECURE", False):
    # The proxy terminates TLS and says so in X-Forwarded-Proto; it must strip
    # that header from client requests (nginx example in docs/DEPLOY.md).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Probes come from the load balancer over plain HTTP on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000  # a year
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy in every mode, so tests and local runs meet the same
# policy as production. Inline <style>/<script> blocks carry the per-response
# nonce (`nonce="{{ request.csp_nonce }}"`); nothing is loaded from another
# origin. Each directive is spelled out rather than left to default-src so a
# reader sees the whole policy here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # style="" attributes cannot run script, and the storefront paints each
        # image's placeholder colour (a validated #rrggbb) behind it with one;
        # the admin's widgets set a few too. Blocks (<style>) still need the nonce.
        "style-src-attr": ["'unsafe-inline'"],
        # Placeholders are data: URIs (tiny LQIP previews).
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "media-src": [SELF],
        "frame-src": [NONE],
        "object-src": [NONE],
        "base-uri": [NONE],
        # WhatsApp sharing is a plain link, never a form: forms post to us only.
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Powerful browser features the shop never uses, switched off for every page
# (and for anything that might ever be framed): core/security.py sends it.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": [],
    "browsing-topics": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "interest-cohort": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
}


# --- Logging ------------------------------------------------------------------------------
# JSON lines on stderr: one per request (shop.request) and per authentication
# event (shop.audit); core/observability.py keeps secrets and personal data out.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.observability.JsonLinesFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The request line from shop.request replaces Django's own.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
# The reverse proxies (addresses or networks) whose X-Forwarded-For is believed,
# for throttles, audit log and admin login alike (core/client_ip.py). Empty: the
# socket peer is the client (gunicorn serving clients directly, `make run`).
SHOP_TRUSTED_PROXIES = parse_trusted_proxies(os.environ.get("SHOP_TRUSTED_PROXIES", ""))
# Failed admin sign-ins within `window` seconds (core/login_guard.py): `limit` per
# (account, client) and `client_limit` per client lock that pair or client out for
# the window; past `account_limit` per account (from anywhere) the account is
# slowed, never locked: one attempt per `slowdown` seconds from clients that have
# not signed in to it before.
SHOP_LOGIN_THROTTLE = {
    "limit": int(os.environ.get("SHOP_LOGIN_FAIL_LIMIT", "5")),
    "client_limit": int(os.environ.get("SHOP_LOGIN_CLIENT_FAIL_LIMIT", "20")),
    "account_limit": int(os.environ.get("SHOP_LOGIN_ACCOUNT_FAIL_LIMIT", "10")),
    "slowdown": int(os.environ.get("SHOP_LOGIN_SLOWDOWN", "30")),
    "window": int(os.environ.get("SHOP_LOGIN_FAIL_WINDOW", "900")),
}
# "Sell on the shop" (sellers/signup.py): sign-up posts per client per window,
# and the version of the seller terms the form's tick box accepts.
SELLER_SIGNUP_LIMIT = int(os.environ.get("SHOP_SELLER_SIGNUP_LIMIT", "5"))
SELLER_SIGNUP_WINDOW = int(os.environ.get("SHOP_SELLER_SIGNUP_WINDOW", "3600"))
SELLER_TERMS_VERSION = os.environ.get("SHOP_SELLER_TERMS_VERSION", "2026-01")


# --- The shop's own settings ----------------------------------------------------------------
SHOP_DEFAULT_CURRENCY = os.environ.get("SHOP_DEFAULT_CURRENCY", "INR")
# Where a visitor shops before anything says otherwise (catalog.markets): a
# region code; empty means the country paying in SHOP_DEFAULT_CURRENCY.
SHOP_DEFAULT_REGION = os.environ.get("SHOP_DEFAULT_REGION", "")
# Feed impressions are written by a thread per process this often, not in the
# request (personalization/impressions.py); 0 writes them in the request.
SHOP_IMPRESSIONS_FLUSH_SECONDS = float(os.environ.get("SHOP_IMPRESSIONS_FLUSH_SECONDS", "1"))
# Widths of the generated image variants; never upscaled past the source.
SHOP_IMAGE_WIDTHS = (160, 320, 480, 640, 960)
SHOP_IMAGE_FORMATS = ("avif", "webp", "jpeg")
# Seconds a public API answer (catalog lists, details, trees) is kept server-side
# in the default cache; 0 turns it off. Below the 60 s public max-age on purpose.
SHOP_API_MICROCACHE_SECONDS = int(os.environ.get("SHOP_API_MICROCACHE_SECONDS", "15"))


# --- Background tasks (core/tasks.py; docs/DEPLOY.md) ----------------------------------------
# TASKS_BACKEND: "database" (default: task rows in DATABASES["default"], run by
# `manage.py run_worker`, which `make run` starts), "rq" (Redis at
# TASKS_REDIS_URL or REDIS_URL, for several machines) or "immediate" (run in
# the caller: the test suite's default, see scripts/test.sh).
from core.tasks import rq_queues_setting, tasks_setting  # noqa: E402 - kept with its block

TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database").strip().lower() or "database"
TASKS = tasks_setting(TASKS_BACKEND)
INSTALLED_APPS += ["django_tasks", "django_tasks_db"]
TASKS_REDIS_URL = os.environ.get("TASKS_REDIS_URL") or REDIS_URL
if TASKS_BACKEND == "rq":
    if not TASKS_REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs TASKS_REDIS_URL or REDIS_URL.")
    INSTALLED_APPS.append("django_rq")
RQ_QUEUES = rq_queues_setting(TASKS_REDIS_URL or "redis://127.0.0.1:6379/0")
SHOP_TASKS = {
    "HEARTBEAT_SECONDS": float(os.environ.get("SHOP_TASKS_HEARTBEAT_SECONDS", "5")),
    "WORKER_STALE_SECONDS": float(os.environ.get("SHOP_TASKS_WORKER_STALE_SECONDS", "30")),
    "MAX_ATTEMPTS": int(os.environ.get("SHOP_TASKS_MAX_ATTEMPTS", "5")),
    "RETRY_BACKOFF_SECONDS": float(os.environ.get("SHOP_TASKS_RETRY_BACKOFF_SECONDS", "10")),
}
# Periodic tasks: seconds between runs (0 turns one off). Runs once per
# interval however many workers tick (core.models.ScheduledRun is the lock).
SHOP_TASK_SCHEDULE = {
    "rebuild_affinities": {
        "task": "personalization.tasks.affinities_rebuild_task",
        "every": int(os.environ.get("SHOP_REBUILD_AFFINITIES_EVERY", "3600")),
    },
    "refresh_analytics": {
        "task": "analytics.tasks.analytics_refresh_task",
        "every": int(os.environ.get("SHOP_REFRESH_ANALYTICS_EVERY", "3600")),
    },
    # Photos whose render task was lost (an engine without transactional enqueue
    # that crashed between commit and enqueue) are queued again.
    "product_images_sweep": {
        "task": "catalog.tasks.product_images_sweep",
        "every": int(os.environ.get("SHOP_IMAGE_SWEEP_EVERY", "600")),
    },
    # Bulk uploads checked but never confirmed: their stored files are deleted.
    "bulk_uploads_sweep": {
        "task": "catalog.tasks.bulk_uploads_sweep",
        "every": int(os.environ.get("SHOP_BULK_UPLOAD_SWEEP_EVERY", "3600")),
    },
    # The same for review photos, and their files left by deleted products.
    "review_photos_sweep": {
        "task": "reviews.tasks.review_photos_sweep",
        "every": int(os.environ.get("SHOP_REVIEW_PHOTO_SWEEP_EVERY", "3600")),
    },
    # Notifications held for quiet hours or a full day go out when due.
    "notifications_deferred_send": {
        "task": "notifications.tasks.notifications_deferred_send",
        "every": int(os.environ.get("SHOP_NOTIFICATIONS_DEFERRED_EVERY", "300")),
    },
    # Reminders of carts left behind (notifications/cart_triggers.py).
    "carts_abandoned_notify": {
        "task": "notifications.tasks.carts_abandoned_notify_task",
        "every": int(os.environ.get("SHOP_CARTS_ABANDONED_EVERY", "1800")),
    },
    # One nudge a week by lifecycle stage to subscribed shoppers (notifications/habit.py).
    "habit_nudges_send": {
        "task": "notifications.tasks.habit_nudges_send_task",
        "every": int(os.environ.get("SHOP_HABIT_NUDGES_EVERY", "86400")),
    },
    # Region segments' caps follow their opt-out and click rates (notifications/adapt.py).
    "segment_caps_adapt": {
        "task": "notifications.tasks.segment_caps_adapt_task",
        "every": int(os.environ.get("SHOP_SEGMENT_CAPS_ADAPT_EVERY", "86400")),
    },
}

# Web Push (notifications/channels.py): the VAPID key pair (base64url, as
# `vapid --gen` / docs/OPERATIONS.md make them) and the contact the push
# services may write to ("mailto:ops@example.com"). Without a private key the
# push channel is off; the inbox always works.
SHOP_VAPID_PRIVATE_KEY = os.environ.get("SHOP_VAPID_PRIVATE_KEY", "")
SHOP_VAPID_PUBLIC_KEY = os.environ.get("SHOP_VAPID_PUBLIC_KEY", "")
SHOP_VAPID_SUBJECT = os.environ.get("SHOP_VAPID_SUBJECT", "")
# Caps, quiet hours, the SMS/WhatsApp provider: notifications/conf.py DEFAULTS.
NOTIFICATIONS = {
    key: value for key, value in {
        "SMS_PROVIDER": os.environ.get("SHOP_NOTIFICATIONS_SMS_PROVIDER") or None,
    }.items() if value is not None
}
