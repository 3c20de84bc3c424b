"""Sphinx tweaks of the semgan book (a local extension named in ``_config.yml``).

Jupyter Book 1 loads sphinx-thebe (live code through a remote Binder kernel) on every
page, and its configuration script is added twice, so each page throws a SyntaxError
("THEBE_JS_URL has already been declared") and would fetch thebe from a CDN on demand.
The book has no launch buttons and reads offline, so those scripts are dropped.
"""


def _is_thebe(script):
    filename = getattr(script, "filename", None) or ""
    body = (getattr(script, "attributes", None) or {}).get("body", "")
    return "sphinx-thebe" in filename or "THEBE_JS_URL" in body


def _drop_thebe(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
