"""Make the built book self-contained: local MathJax, no CDN scripts, notebooks to download.

- MathJax 3 comes from the pinned ``django-static-mathjax`` package (a plain copy of MathJax's
  ``es5`` build): it is copied to ``_static/mathjax`` and ``mathjax_path`` points there.
- Scripts that reference another host (sphinx-thebe registers one even when it is off) are
  dropped from every page, so a page never reaches for the network.
- Each executed notebook is copied next to the page sources and offered by the theme's download
  button as ``.ipynb`` (the theme does this only when launch buttons are configured).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config

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


def _is_remote(script: object) -> bool:
    text = f"{getattr(script, 'filename', '') or ''} {script.attributes.get('body', '')}"
    return "://" in text


def _localise_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    context["script_files"] = [s for s in context.get("script_files", []) if not _is_remote(s)]
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
    app.connect("html-page-context", _localise_page, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
