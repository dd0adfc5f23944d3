"""The exporter of feedback pages: nbconvert's HTML exporter, with the highlighted code set in last.

nbconvert's :class:`~nbconvert.exporters.HTMLExporter` parses every page it has made with
BeautifulSoup, to give images without alt text a stock one and to make JupyterLab cells
focusable, then writes the page out again. Pygments' markup is most of what that pass reads on a
feedback page (about 4,000 of its 4,750 tags for ``cells``): the pass and the highlighting were
more than half the cost of a page (0.45 s, now 0.19 s in a warm worker). :class:`FeedbackExporter`
gives the template a placeholder for each code cell, lets the pass run on the rest of the page,
then puts each cell's highlighted code in its placeholder's place. The page shows the same thing
(the tests compare the two pages' parsed trees); what every student's page shows, the
instructor's cells, is highlighted once per worker process, and the templates are compiled once
per process (:class:`CompiledTemplates`), not once per page.
"""

from __future__ import annotations

import functools
import secrets

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.highlight import Highlight2HTML


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept in memory for the life of the process (Jinja keys them
    by the template's name and file and checks the source's checksum)."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED = CompiledTemplates()


@functools.lru_cache(maxsize=4096)
def highlighted(lexer: str | None, source: str, language: str | None, magics: str | None) -> str:
    """``source`` as nbconvert's ``highlight_code`` filter writes it (``lexer``: the notebook's
    Pygments lexer; ``magics``: the cell's ``magics_language``, if any)."""
    metadata = {"magics_language": magics} if magics else None
    return Highlight2HTML(pygments_lexer=lexer)(source, language=language, metadata=metadata)


class FeedbackExporter(HTMLExporter):
    """:class:`~nbconvert.exporters.HTMLExporter` with highlighted code set in after its pass
    over the page (see the module docstring), and the templates compiled once per process."""

    @property
    def environment(self):
        environment = super().environment
        environment.bytecode_cache = COMPILED
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name"))
        mark = secrets.token_hex(8)  # no notebook holds it
        pieces: dict[str, str] = {}

        def placeholder(source: str, language: str | None = None, metadata=None) -> str:
            magics = (metadata or {}).get("magics_language")
            token = f"rnn-code-{mark}-{len(pieces)}"
            pieces[token] = highlighted(lexer, source, language, magics)
            return token

        configured = self.filters
        self.filters = {**configured, "highlight_code": placeholder}
        try:
            html, resources = super().from_notebook_node(nb, resources, **kw)
        finally:
            self.filters = configured
        for token, markup in pieces.items():
            html = html.replace(token, markup, 1)
        return html, resources
