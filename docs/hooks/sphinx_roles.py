"""MkDocs hook: render the Sphinx markup of the package's docstrings as plain text.

The docstrings use Sphinx cross-reference roles (``:class:`SoundGANConfig```,
``:meth:`~SpectrogramTransform.adapt```) and reStructuredText's ``Example::``, which
mkdocstrings shows literally. This keeps the name in code style and drops the role
(Sphinx's ``~`` prefix keeps the last dotted component), and ends ``Example::`` with one
colon.
"""

import re

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|data|attr|mod|exc|obj):<code>(~?)([^<]*)</code>")
_DOUBLE_COLON = re.compile(r"(<p>[^<]*?)::</p>")


def _role(match):
    tilde, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if tilde else name}</code>"


def on_page_content(html, **kwargs):
    html = _ROLE.sub(_role, html)
    return _DOUBLE_COLON.sub(r"\1:</p>", html)
