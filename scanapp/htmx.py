"""One way to answer both a full page load and an HTMX swap: render the page, or one named block of it."""

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block, render_blocks


def wants_fragment() -> bool:
    """True for a real HTMX swap; boosted navigation and history restores need the whole page."""
    h = request.headers
    return h.get("HX-Request") == "true" and "true" not in (
        h.get("HX-Boosted"),
        h.get("HX-History-Restore-Request"),
    )


def render(template: str, block: str | list[str] | None = None, *, status: int = 200, **context) -> Response:
    """Render `template`, or only `block` (or several blocks) of it when HTMX asks for a fragment."""
    if block and wants_fragment():
        if isinstance(block, list):
            body = render_blocks(template, block, **context)
        else:
            body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response
