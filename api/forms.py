"""The tokens page's form: a name for a new API token."""

from django import forms


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="So you can tell your tokens apart, e.g. “backup script on my laptop”.",
    )
