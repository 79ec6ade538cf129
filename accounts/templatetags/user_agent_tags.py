"""Template filters that name a session's browser and system (the sessions page)."""

from django import template

from accounts.selectors import ReadableUserAgent, user_agent_readable

register = template.Library()


@register.filter
def readable_user_agent(user_agent: str | None) -> ReadableUserAgent:
    return user_agent_readable(user_agent=user_agent or "")
