#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def _embedded_secret_key() -> None:
    """Use the key `make run` generated for the embedded setup, if the environment has none.

    Only this command-line entry point does so, so that `manage.py seed_demo`
    and friends work on the machine `make run` set up; the web server (wsgi)
    still requires DJANGO_SECRET_KEY from its environment.
    """
    key_file = Path(os.environ.get("SHOP_VAR_DIR", Path(__file__).resolve().parent / "var"))
    key_file = key_file / "secret_key"
    if not os.environ.get("DJANGO_SECRET_KEY") and key_file.is_file():
        os.environ["DJANGO_SECRET_KEY"] = key_file.read_text().strip()


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    _embedded_secret_key()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
