"""A process does as it starts what it would otherwise do on its first requests.

Cold, a worker's first registration cost ~370 ms of CPU against ~15 ms warm (first GET
/register 70 ms, POST 22 ms, GET /me 277 ms): compiling the templates each page uses and
reading the CLDR data of the locale. Under gunicorn each worker builds the app before it
accepts a connection, so with ``WARM_UP`` the first volunteers after a start or a restart do
not pay for it (on call-up night that is the moment the message goes out).

Compiled templates are kept in Jinja's bytecode cache (a folder of this user's in the temp
directory, written atomically; an entry is used only while its template's source is
unchanged), so one process compiles a template and the others load it: all 127 in ~70 ms
instead of ~1.3 s. The test suite, which builds an app per test, shares it too.
"""

from __future__ import annotations

from babel import Locale
from flask import Flask
from flask_babel import force_locale, get_translations
from jinja2 import FileSystemBytecodeCache


def install(app: Flask) -> None:
    """Give the app's templates the shared bytecode cache and, with ``WARM_UP``, compile them
    and load every language's locale data and catalog now."""
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache()
    if not app.config["WARM_UP"]:
        return
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            Locale.parse(language).datetime_skeletons  # noqa: B018 (loads the CLDR data)
            with force_locale(language):
                get_translations()
