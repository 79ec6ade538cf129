"""Template filters of the account pages."""

import json

from django import template

register = template.Library()


@register.filter
def has_step(flow, number: int) -> bool:
    """Whether a recorded flow holds the step with this number."""
    return any(step["number"] == number for step in flow.steps)


@register.filter
def pretty_json(value) -> str:
    """Indented JSON for <pre> blocks; autoescaping still applies to the result."""
    return json.dumps(value, indent=2, sort_keys=False, default=str, ensure_ascii=False)
