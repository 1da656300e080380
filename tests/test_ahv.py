"""AHV numbers (AHVN13): the check digit decides, the notation does not."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum.ch import ssn

from iiz.lib.ahv import ahv_format, ahv_normalise
from tests.factories import ahv_from_serial

valid_ahv = st.integers(min_value=0, max_value=999_999_999).map(ahv_from_serial)


def test_it_accepts_a_valid_number_with_dots():
    # given a valid AHV number in the official notation
    typed = "756.9217.0769.85"

    # when it is normalised
    compact = ahv_normalise(typed)

    # then the 13 digits are kept
    assert compact == "7569217076985"


def test_it_accepts_a_valid_number_without_dots():
    # given / when
    compact = ahv_normalise("7569217076985")

    # then
    assert compact == "7569217076985"


def test_it_accepts_spaces_and_surrounding_blanks():
    # given / when
    compact = ahv_normalise("  756 9217 0769 85 ")

    # then
    assert compact == "7569217076985"


@pytest.mark.parametrize(
    "typed",
    [
        "756.9217.0769.84",  # wrong check digit
        "7569217076984",  # wrong check digit, compact
        "123.4567.8910.19",  # not Swiss (756)
        "756.9217.0769",  # too short
        "756.9217.0769.851",  # too long
        "756.ABCD.0769.85",  # letters
        "",
    ],
)
def test_it_rejects_an_invalid_number(typed):
    # given an invalid AHV number / when it is normalised / then it is refused with the user-facing message
    with pytest.raises(ValidationError) as refused:
        ahv_normalise(typed)

    assert refused.value.code == "invalid_ahv"
    assert "756.XXXX.XXXX.XX" in refused.value.messages[0]


def test_it_formats_with_dots():
    # given / when / then
    assert ahv_format("7569217076985") == "756.9217.0769.85"


@given(valid_ahv)
def test_it_round_trips_every_valid_number(ahv):
    # given a generated valid AHVN13 / when it is formatted and normalised again
    formatted = ssn.format(ahv_normalise(ahv))

    # then it reads 756.XXXX.XXXX.XX and normalises to the same digits
    assert formatted[:4] == "756."
    assert [len(part) for part in formatted.split(".")] == [3, 4, 4, 2]
    assert ahv_normalise(formatted) == ahv


@given(valid_ahv, st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=9))
def test_it_rejects_every_single_digit_corruption(ahv, position, shift):
    # given a valid number with one digit changed to another digit
    digit = str((int(ahv[position]) + shift) % 10)
    corrupted = ahv[:position] + digit + ahv[position + 1 :]

    # when / then the check digit (or the 756 prefix) catches it
    with pytest.raises(ValidationError):
        ahv_normalise(corrupted)
