"""The sandbox templates render in: undefined values that carry what is missing, and limits on what a
template may build."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from processor.errors import InputError
from processor.sandbox import (EmptyValueError, LimitError, MissingError, UnsafeAccessError, empty, text_environment,
                               word_environment)
from processor.template_errors import check_source
from processor.context import context_names
from conftest import DEFAULT_CASE


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


# --- limits: a template cannot take the machine's time or memory ----------------------------------

ATTACKS = {
    "a huge centre": "{{ 'x'|center(10**9) }}",
    "a huge repetition": "{{ 'x' * 10**9 }}",
    "nested loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "a huge join": "{{ range(100000)|map('string')|join('x' * 100000) }}",
    "a huge join method": "{{ ('x' * 100000).join(range(100000)|map('string')) }}",
    "a huge replace": "{{ ('x' * 100000)|replace('x', 'x' * 100000) }}",
    "a huge replace method": "{{ ('x' * 100000).replace('x', 'x' * 100000) }}",
    "a huge centre method": "{{ 'x'.center(10**9) }}",
    "a huge format width": "{{ '%1000000000s'|format(1) }}",
    "a huge % width": "{{ '%1000000000s' % 1 }}",
    "a huge str.format width": "{{ '{:>1000000000}'.format(1) }}",
    "a huge nested str.format width": "{{ '{:>{}}'.format(1, 10**9) }}",
    "a huge indent": "{{ ('x\n' * 50000)|indent(100000) }}",
    "a huge wordwrap": "{{ ('x ' * 50000)|wordwrap(1, wrapstring='x' * 100000) }}",
    "a huge range": "{{ range(10**9)|list }}",
    "doubling with ~": "{% set ns = namespace(s='x' * 100000) %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "doubling with +": "{% set ns = namespace(s='x' * 100000) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "doubling through a macro": ("{% macro f(s, n) %}{% if n %}{{ f(s ~ s, n - 1) }}{% endif %}{% endmacro %}"
                                 "{{ f('x' * 1000, 40) }}"),
    "a huge output": "{% for i in range(100000) %}{% for j in range(10) %}{{ 'x' * 100000 }}{% endfor %}{% endfor %}",
    "much work in a loop": "{% for i in range(100000) %}{% set y = ('x' * 100000)|replace('x', 'yy') %}{% endfor %}",
    "a huge slice": "{{ [1]|slice(10**9)|list|length }}",
    "huge tabs": "{{ ('\t' * 100000).expandtabs(100000) }}",
}


@pytest.mark.parametrize("environment", [text_environment, word_environment])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attack_on_time_or_memory_is_refused(environment, attack):
    with pytest.raises(LimitError):
        environment().from_string(ATTACKS[attack]).render()


def test_what_a_template_ordinarily_does_still_works():
    env = word_environment()
    source = ("{{ 'x'|center(5) }}|{{ [1, 2]|join(', ') }}|{{ '<b>' ~ namn }}|{% for p in poster %}{{ loop.index }}/"
              "{{ loop.length }} {% endfor %}|{{ '%05d'|format(42) }}|{{ '{:>4}'.format(7) }}|{{ 'a-b'.replace('-', '–') }}")
    assert env.from_string(source).render(namn="&", poster=["a", "b"]) == (
        "  x  |1, 2|&lt;b&gt;&amp;|1/2 2/2 |00042|   7|a–b")
    text = text_environment()
    assert text.from_string("{{ '<b>' ~ namn }} {{ range(3)|list }}").render(namn="&") == "<b>& [0, 1, 2]"


def test_a_template_that_asks_too_much_stops_the_run_naming_the_template_and_the_text(cli, workbook, tmp_path):
    from docx import Document

    document = Document()
    document.add_paragraph("Hej {{ 'x'|center(10**9) }}")
    (tmp_path / "mallar").mkdir()
    document.save(str(tmp_path / "mallar" / "brev.docx"))
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2
    assert err.splitlines()[0] == "Mallen mallar/brev.docx kan inte användas: 1 fel att rätta."
    assert ("mallar/brev.docx: en tagg ger ett för stort resultat (texten eller listan blir längre än 1 000 000 tecken) "
            "vid texten \"Hej {{ 'x'|center(10**9) }}\". Rätta eller ta bort taggen") in err, err
    assert not (tmp_path / "ut").exists() or not any((tmp_path / "ut").iterdir())


# --- syntax errors, read from the template's own tags ---------------------------------------------

SYNTAX = {
    "{% if x %}Hej": "{% if %} saknar sitt {% endif %}. Rätta taggen",
    "Hej\n{% endif %}": '{% endif %} står utan något att avsluta vid texten "{% endif %}".',
    "Hej {% foo %}": 'taggen {% foo %} finns inte vid texten "Hej {% foo %}".',
    "{% for a in b %}{% elif c %}{% endfor %}": "{% for %} saknar sitt {% endfor %}.",
    "{% if a %}{% else %}{% else %}{% endif %}": "{% if %} saknar sitt {% endif %}.",
    "{% set x %}abc": "{% set %} saknar sitt {% endset %}.",
    "{% if x %}\n{{ a b }}\n{% endif %}": "en tagg är felskriven (Jinja: ",
}


@pytest.mark.parametrize("source", sorted(SYNTAX))
def test_a_syntax_error_is_told_from_the_tags_of_the_template(source):
    with pytest.raises(InputError) as error:
        check_source(text_environment(), source, "epost.txt", context_names(letter=True) | {"a", "b", "c", "x"})
    assert SYNTAX[source] in str(error.value)
