"""Forms of the account pages."""

import random
from collections import Counter

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.db import transaction

from accounts.flow_steps import STEP_TITLES


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form, saving the user and their email address in one transaction."""

    @transaction.atomic
    def save(self, request):
        return super().save(request)


class FlowOrderForm(forms.Form):
    """The seven OAuth steps shuffled; the learner gives each its position, 1 to 7."""

    def __init__(self, *args, seed: int, **kwargs):
        super().__init__(*args, **kwargs)
        titles = [STEP_TITLES[number] for number in sorted(STEP_TITLES)]
        random.Random(seed).shuffle(titles)  # noqa: S311 -- a quiz order, not a secret
        choices = [("", "—")] + [(str(n), str(n)) for n in range(1, len(titles) + 1)]
        for index, title in enumerate(titles):
            self.fields[f"step_{index}"] = forms.TypedChoiceField(
                label=title, choices=choices, coerce=int
            )

    def clean(self):
        cleaned = super().clean()
        given = {name: value for name, value in cleaned.items() if name.startswith("step_")}
        if len(given) < len(STEP_TITLES):
            return cleaned
        counts = Counter(given.values())
        repeated = sorted(position for position, count in counts.items() if count > 1)
        if not repeated:
            return cleaned
        for name, position in given.items():
            if counts[position] > 1:
                self.add_error(name, f"Another step has position {position} too.")
        raise forms.ValidationError(
            "Give each step a different position: "
            + "; ".join(f"{position} is given to {counts[position]} steps" for position in repeated)
            + "."
        )

    def answer(self) -> list[str]:
        """The step titles in the order the learner put them."""
        by_position = {self.cleaned_data[name]: field.label for name, field in self.fields.items()}
        return [by_position[position] for position in sorted(by_position)]
