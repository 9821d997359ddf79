"""Server-rendered French pages (Jinja2, autoescape on, no JavaScript framework, no CDN).

Text from the data reaches templates only as variables, never as template source.
"""

from api.pages.views import make_router, render_error

__all__ = ["make_router", "render_error"]
