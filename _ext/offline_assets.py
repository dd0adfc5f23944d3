"""Make the built book self-contained: local MathJax, no CDN scripts, notebooks to download.

- MathJax 3 comes from the pinned ``django-static-mathjax`` package (a plain copy of MathJax's
  ``es5`` build): it is copied to ``_static/mathjax`` and ``mathjax_path`` points there.
- A script loaded from another host is a build warning (an error under ``-W``); inline
  configuration that names a CDN (sphinx-thebe registers one even when it is off) is dropped.
- Each executed notebook is copied next to the page sources and offered by the theme's download
  button as ``.ipynb`` (the theme does this only when launch buttons are configured).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

MATHJAX_ENTRY = "mathjax/tex-chtml.js"


def _mathjax_source() -> Path:
    import mathjax  # the django-static-mathjax package

    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (source / "tex-chtml.js").is_file():
        raise RuntimeError(f"MathJax's es5 build is missing from {source}; reinstall requirements")
    return source


def _point_to_local_copy(app: Sphinx, config: Config) -> None:
    config.mathjax_path = MATHJAX_ENTRY


def _copy_mathjax(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    if not (target / "tex-chtml.js").is_file():
        shutil.copytree(_mathjax_source(), target, dirs_exist_ok=True)


def _check_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    kept = []
    for script in context.get("script_files", []):
        source = str(getattr(script, "filename", "") or "")
        if "//" in source:  # a script loaded from another host would break offline reading
            logger.warning("%s loads a script from another host: %s", pagename, source)
        if "://" not in script.attributes.get("body", ""):
            kept.append(script)
        # else: inline configuration naming a CDN (sphinx-thebe's), unused with thebe off
    context["script_files"][:] = kept


def _offer_notebook(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if executed.is_file():
        target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(executed, target)
        context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", _point_to_local_copy, priority=900)
    app.connect("builder-inited", _copy_mathjax)
    # After the theme resets its buttons (priority 500), before it fills them in (501).
    app.connect("html-page-context", _offer_notebook, priority=500)
    # Last, once every extension has added its scripts.
    app.connect("html-page-context", _check_scripts, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
