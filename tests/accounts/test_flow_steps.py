"""accounts.flow_steps: a learner's order of the seven steps, checked position by position."""

from accounts.flow_steps import (
    STEP_EXPLANATIONS,
    STEP_ORDER_REASONS,
    STEP_TITLES,
    step_order_checked,
)

CANONICAL = [STEP_TITLES[number] for number in sorted(STEP_TITLES)]


def test_every_step_has_an_explanation_and_a_reason_for_its_place():
    assert set(STEP_EXPLANATIONS) == set(STEP_ORDER_REASONS) == set(STEP_TITLES)


def test_the_order_a_flow_took_is_right_at_every_position():
    rows = step_order_checked(answer=CANONICAL, expected=CANONICAL)

    assert [row.position for row in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert all(row.ok and row.reason is None for row in rows)


def test_a_misplaced_step_is_told_why_it_cannot_stand_there():
    calls_first = [CANONICAL[6], *CANONICAL[:6]]

    rows = step_order_checked(answer=calls_first, expected=CANONICAL)

    assert not any(row.ok for row in rows)
    assert rows[0].yours == STEP_TITLES[7]
    assert rows[0].recorded == STEP_TITLES[1]
    assert rows[0].reason == (
        "Step 7, calling the API, needs the access token that only step 6 returns."
    )
    assert rows[1].reason == STEP_ORDER_REASONS[1]
