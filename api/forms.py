"""The tokens page's form (a name for a new API token) and the device page's (a user code)."""

from django import forms


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="So you can tell your tokens apart, e.g. “backup script on my laptop”.",
    )


class DeviceCodeForm(forms.Form):
    user_code = forms.CharField(
        label="Code shown by the device",
        max_length=32,
        help_text="Eight letters, like BCDF-GHJK. Case, dashes and spaces do not matter.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
