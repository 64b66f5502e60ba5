"""The sandbox templates render in: undefined values that carry what is missing, and limits on what a
template may build."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from processor.sandbox import EmptyValueError, MissingError, UnsafeAccessError, empty, text_environment


def test_a_missing_variable_carries_its_name():
    with pytest.raises(MissingError) as error:
        text_environment().from_string("Hej {{ mottagaren.namn }}").render()
    assert error.value.name == "mottagaren" and error.value.is_variable


def test_a_missing_attribute_carries_its_name_and_owner():
    recipient = SimpleNamespace(belopp=100)
    with pytest.raises(MissingError) as error:
        text_environment().from_string("{{ mottagare.bellopp }}").render(mottagare=recipient)
    assert error.value.name == "bellopp" and error.value.owner is recipient and not error.value.is_variable


def test_a_missing_item_carries_its_key():
    with pytest.raises(MissingError) as error:
        text_environment().from_string("{{ poster[3] }}").render(poster=[1])
    assert error.value.name == 3


def test_an_empty_value_is_false_and_says_what_is_empty_when_printed():
    env = text_environment()
    value = empty('fältet "Fakturaadress" på bladet Ärende', "fakturaadress")
    assert env.from_string("{% if v %}ja{% else %}nej{% endif %}").render(v=value) == "nej"
    with pytest.raises(EmptyValueError) as error:
        env.from_string("{{ v }}").render(v=value)
    assert error.value.what == 'fältet "Fakturaadress" på bladet Ärende' and error.value.name == "fakturaadress"


def test_python_internals_are_refused_naming_the_attribute():
    with pytest.raises(UnsafeAccessError) as error:
        text_environment().from_string("{{ ''.__class__.__mro__ }}").render()
    assert error.value.attribute == "__class__"
