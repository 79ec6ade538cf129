"""The HTML pages the emulators show: consent, errors and a few informational pages."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:#1f2328;background:#f6f8fa}
header{background:var(--accent);color:#fff;padding:.75rem 1.25rem;font-weight:600}
header small{font-weight:400}
main{max-width:34rem;margin:2rem auto;padding:1.5rem;background:#fff;
 border:1px solid #d0d7de;border-radius:8px}
h1{font-size:1.35rem;margin:0 0 .75rem}
h2{font-size:1rem;margin:1.5rem 0 .5rem;color:#59636e}
p{margin:.5rem 0}
code{background:#eff2f5;padding:0 .25rem;border-radius:4px;word-break:break-all}
ul.choices{list-style:none;margin:0;padding:0}
ul.choices li{margin:.5rem 0}
button{font:inherit;cursor:pointer;width:100%;text-align:left;padding:.6rem .9rem;
 border:1px solid #d0d7de;border-radius:6px;background:#fff}
button:hover,button:focus{border-color:var(--accent);outline:2px solid var(--accent)}
button strong{display:block}
button span{color:#59636e;font-size:.9rem}
button.failure strong{color:#9a3412}
button.deny{text-align:center;margin-top:1.5rem;background:#f6f8fa}
.error h1{color:#b42318}
.note{color:#59636e;font-size:.9rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.5rem 0}
dt{color:#59636e}dd{margin:0}
"""


@dataclass(frozen=True)
class Brand:
    """How a provider's emulator presents itself: its name and header colour."""

    label: str
    accent: str

    @property
    def title(self) -> str:
        return f"{self.label} (local emulator)"


@dataclass(frozen=True)
class Choice:
    """One button on the consent page: `value` is posted, `title` and `detail` are shown."""

    value: str
    title: str
    detail: str


def layout(brand: Brand, *, title: str, body: str, css_class: str = "") -> str:
    """A complete page; `title` and `body` must already be escaped HTML."""
    main_class = f' class="{css_class}"' if css_class else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(brand.title)} &mdash; {title}</title>"
        f"<style>:root{{--accent:{brand.accent}}}{_STYLE}</style></head>"
        f"<body><header>{escape(brand.label)} <small>local emulator &middot; nothing here "
        f"leaves this machine</small></header><main{main_class}>{body}</main></body></html>\n"
    )


def _choice_buttons(choices: Iterable[Choice], *, name: str, css_class: str = "") -> str:
    class_attribute = f' class="{css_class}"' if css_class else ""
    items = "".join(
        f'<li><button type="submit" name="{name}" value="{escape(choice.value)}"'
        f"{class_attribute}><strong>{escape(choice.title)}</strong>"
        f"<span>{escape(choice.detail)}</span></button></li>"
        for choice in choices
    )
    return f'<ul class="choices">{items}</ul>'


def authorize_page(
    brand: Brand,
    *,
    app_name: str,
    action: str,
    scope: Sequence[str],
    redirect_uri: str,
    identities: Sequence[Choice],
    failures: Sequence[Choice],
) -> str:
    """The consent page: sign in as an identity, simulate a failure, or cancel.

    Every button posts to `action`, the authorization URL itself, so the decision is checked
    against the same parameters that were shown.
    """
    scopes = ", ".join(f"<code>{escape(item)}</code>" for item in scope) or "no scopes"
    title = f"Authorize {escape(app_name)}"
    body = (
        f"<h1>{title}</h1>"
        f"<p><strong>{escape(app_name)}</strong> asks to sign you in with "
        f"{escape(brand.label)} and requests {scopes}.</p>"
        f'<p class="note">You will be sent back to <code>{escape(redirect_uri)}</code>.</p>'
        f'<form method="post" action="{escape(action)}">'
        f"<h2>Sign in as</h2>{_choice_buttons(identities, name='identity')}"
        f"<h2>Simulate a failure</h2>"
        f"{_choice_buttons(failures, name='identity', css_class='failure')}"
        '<button type="submit" name="decision" value="deny" class="deny">Cancel</button>'
        "</form>"
    )
    return layout(brand, title=title, body=body)


def error_page(brand: Brand, *, error: str, message: str, details: Sequence[str] = ()) -> str:
    """An error shown instead of redirecting: the request cannot be trusted to go back."""
    items = "".join(f"<li><code>{escape(detail)}</code></li>" for detail in details)
    body = (
        f"<h1>Error: {escape(error)}</h1><p>{escape(message)}</p>"
        + (f"<ul>{items}</ul>" if items else "")
        + '<p class="note">The application that sent you here must fix its request.</p>'
    )
    return layout(brand, title=f"Error: {escape(error)}", body=body, css_class="error")


def definition_page(
    brand: Brand, *, title: str, intro: str, rows: Sequence[tuple[str, str]]
) -> str:
    """A heading, a paragraph and a definition list (plain text); each term is also an anchor."""
    definitions = "".join(
        f'<dt id="{escape(term)}">{escape(term)}</dt><dd>{escape(text)}</dd>' for term, text in rows
    )
    body = f"<h1>{escape(title)}</h1><p>{escape(intro)}</p><dl>{definitions}</dl>"
    return layout(brand, title=escape(title), body=body)
