"""The allocation engine: the seeds' worked examples, the rounding rule, exact decimals, properties.

Engine tests build ``Case`` objects directly (no files); the decimal tests also read one real
workbook, because the point there is what Excel's stored floats become.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from processor.allocate import allocate, largest_remainder
from processor.describe import round_ore
from processor.model import EQUAL, FAST, KEY, PER_RECIPIENT, Case, CaseInfo, KeyPart, Post, Recipient
from processor.validate import load_case
from processor.workbook import excel_number

ROUNDING_UNITS = (1, 10, 100, 1000)


# --- building cases -----------------------------------------------------------------------------

def recipient(name: str, row: int, group: str | None = None, participates: bool = True, **bases) -> Recipient:
    """A recipient on spreadsheet row ``row``; keyword arguments are its bases (Decimal-valued)."""
    return Recipient(name, row, group=group, participates=participates,
                     bases={column: Decimal(str(value)) for column, value in bases.items()})


def roster(*entries: tuple) -> tuple[Recipient, ...]:
    """Recipients from ``(name, group, {bases})`` entries, on rows 2, 3, … in that order."""
    return tuple(recipient(name, row, group, **bases) for row, (name, group, bases) in enumerate(entries, start=2))


def key(*parts: tuple[str, int | str]) -> tuple[KeyPart, ...]:
    """``key(("Befolkning", 50), ("Patienter", 50))``; a bare column name is a 100 % key."""
    return tuple(KeyPart(column, Decimal(str(weight))) for column, weight in parts)


def one_column(column: str) -> tuple[KeyPart, ...]:
    return key((column, 100))


def group(recipients: tuple[Recipient, ...], name: str) -> tuple[int, ...]:
    return tuple(i for i, r in enumerate(recipients) if r.group == name)


def named(recipients: tuple[Recipient, ...], name: str) -> tuple[int, ...]:
    return tuple(i for i, r in enumerate(recipients) if r.name == name)


def everyone(recipients: tuple[Recipient, ...]) -> tuple[int, ...]:
    return tuple(range(len(recipients)))


def make_case(recipients, posts, grant: int, carried_over: int = 0, rounding: int = 1) -> Case:
    return Case(CaseInfo("Stimulansmedel", grant, carried_over, rounding), tuple(recipients), tuple(posts))


def by_name(case: Case, shares: dict[int, int]) -> dict[str, int]:
    return {case.recipients[i].name: amount for i, amount in shares.items()}


def totals_by_name(case: Case, totals) -> dict[str, int]:
    return {r.name: total for r, total in zip(case.recipients, totals)}


def post_result(allocation, name: str):
    (result,) = [p for p in allocation.posts if p.post.name == name]
    return result


def area_totals(allocation) -> dict[str | None, int]:
    areas: dict[str | None, int] = {}
    for result in allocation.posts:
        areas[result.post.area] = areas.get(result.post.area, 0) + result.amount
    return areas


def weights(*values) -> list[Fraction]:
    return [Fraction(v) for v in values]


# --- seed 004: Dalarna 2020, one key -------------------------------------------------------------

DALARNA = [  # municipality, population Dec 2019, the seed's "Ers per kommun"
    ("Avesta", 23178, 1264598), ("Borlänge", 52590, 2869325), ("Falun", 59406, 3241208),
    ("Gagnef", 10304, 562189), ("Hedemora", 15491, 845193), ("Leksand", 15807, 862434),
    ("Ludvika", 26898, 1467562), ("Malung-Sälen", 10138, 553132), ("Mora", 20470, 1116849),
    ("Orsa", 6911, 377066), ("Rättvik", 10950, 597435), ("Smedjebacken", 10894, 594380),
    ("Säter", 11093, 605237), ("Vansbro", 6805, 371283), ("Älvdalen", 7031, 383613),
]


def dalarna_case() -> Case:
    recipients = roster(*[(name, "Kommun", {"Befolkning": population}) for name, population, _ in DALARNA])
    medel = Post("Medel", 15_711_504, KEY, everyone(recipients), one_column("Befolkning"))
    return make_case(recipients, [medel], 15_711_504)


def test_seed_004_dalarna_gives_exactly_the_seeds_table():
    case = dalarna_case()
    allocation = allocate(case)
    assert totals_by_name(case, allocation.totals) == {name: amount for name, _, amount in DALARNA}
    assert allocation.total == sum(allocation.totals) == 15_711_504


def test_seed_004_amount_per_inhabitant_is_exact_and_shows_as_54_56():
    (result,) = allocate(dalarna_case()).posts
    assert result.per_unit == Fraction(15_711_504, 287_966)
    assert round_ore(result.per_unit) == Decimal("54.56")


# --- seed 002: Stockholm 2024, fixed sums, per recipient, key, rest, carry-over -----------------

STOCKHOLM_DISTRICTS = [  # district, illustrative population, its share of the 26 180 000 by population
    ("Rinkeby-Kista", 48_214, 1_420_106), ("Spånga-Tensta", 39_507, 1_163_648),
    ("Hässelby-Vällingby", 76_935, 2_266_060), ("Bromma", 79_122, 2_330_477),
    ("Kungsholmen", 72_881, 2_146_653), ("Norrmalm", 71_606, 2_109_099), ("Östermalm", 73_489, 2_164_561),
    ("Södermalm", 130_211, 3_835_263), ("Enskede-Årsta-Vantör", 108_947, 3_208_949),
    ("Farsta", 62_348, 1_836_412), ("Hägersten-Älvsjö", 125_577, 3_698_772),
]
FIXED_ADMINISTRATIONS = ["Socialförvaltningen", "Utbildningsförvaltningen", "Förskoleförvaltningen"]


def stockholm_2024_case() -> Case:
    recipients = roster(
        ("Äldreförvaltningen", "Fackförvaltning", {}),
        *[(name, "Fackförvaltning", {}) for name in FIXED_ADMINISTRATIONS],
        *[(name, "Stadsdel", {"Befolkning": population}) for name, population, _ in STOCKHOLM_DISTRICTS],
    )
    districts = group(recipients, "Stadsdel")
    posts = [
        *[Post(name, 4_000_000, FAST, named(recipients, name)) for name in FIXED_ADMINISTRATIONS],
        Post("Grundstöd", 800_000, PER_RECIPIENT, districts),
        Post("Utvecklingsmedel", 26_180_000, KEY, districts, one_column("Befolkning")),
        Post("Samordning", None, FAST, named(recipients, "Äldreförvaltningen")),
    ]
    return make_case(recipients, posts, 42_190_007, carried_over=11_500_000)


def test_seed_002_stockholm_rest_to_the_coordinating_administration_is_6_710_007():
    case = stockholm_2024_case()
    allocation = allocate(case)
    assert post_result(allocation, "Samordning").amount == 6_710_007
    assert by_name(case, post_result(allocation, "Samordning").shares) == {"Äldreförvaltningen": 6_710_007}
    assert post_result(allocation, "Grundstöd").amount == 8_800_000
    assert allocation.total == sum(allocation.totals) == 42_190_007 + 11_500_000 == 53_690_007


def test_seed_002_districts_get_base_support_plus_development_money_by_population():
    case = stockholm_2024_case()
    allocation = allocate(case)
    development = by_name(case, post_result(allocation, "Utvecklingsmedel").shares)
    assert development == {name: amount for name, _, amount in STOCKHOLM_DISTRICTS}
    totals = totals_by_name(case, allocation.totals)
    assert {name: totals[name] for name, _, _ in STOCKHOLM_DISTRICTS} == {
        name: 800_000 + amount for name, _, amount in STOCKHOLM_DISTRICTS}
    assert sum(totals[name] for name, _, _ in STOCKHOLM_DISTRICTS) == 34_980_000
    assert [totals[name] for name in FIXED_ADMINISTRATIONS] == [4_000_000] * 3


# --- seed 001: Stockholm 2021, three areas, places among providers who opt in --------------------

STOCKHOLM_2021_DISTRICTS = [  # district, need forecast (illustrative)
    ("Rinkeby-Kista", 812), ("Spånga-Tensta", 655), ("Hässelby-Vällingby", 1_304), ("Bromma", 1_388),
    ("Kungsholmen", 1_102), ("Norrmalm", 980), ("Östermalm", 1_251), ("Södermalm", 1_877),
    ("Enskede-Årsta-Vantör", 1_690), ("Skarpnäck", 741), ("Farsta", 1_123), ("Älvsjö", 598),
    ("Hägersten-Liljeholmen", 1_436),
]
PROVIDERS = [  # care provider (vård- och omsorgsboende, servicehus), places decided by the city
    ("Stockholms stads äldreboenden", 2_840), ("Attendo", 730), ("Vardaga", 905), ("Förenade Care", 410),
    ("Stiftelsen Stora Sköndal", 365), ("Norlandia", 290), ("Ersta diakoni", 250), ("Silviahemmet", 460),
]


def stockholm_2021_case(declining: tuple[str, ...] = ()) -> Case:
    entries = [
        ("LSS-hälsan", "Fackförvaltning", {}),
        ("Äldreförvaltningen", "Fackförvaltning", {}),
        *[(name, "Stadsdel", {"Behov": need}) for name, need in STOCKHOLM_2021_DISTRICTS],
        *[(name, "Utförare", {"Platser": places}) for name, places in PROVIDERS],
    ]
    recipients = tuple(recipient(name, row, group, participates=name not in declining, **bases)
                       for row, (name, group, bases) in enumerate(entries, start=2))
    lss, elderly = named(recipients, "LSS-hälsan"), named(recipients, "Äldreförvaltningen")
    posts = [
        Post("LSS-hälsan, nära vård", 1_300_000, FAST, lss, area="Nära vård"),
        Post("Omställning", 37_300_000, KEY, group(recipients, "Stadsdel"), one_column("Behov"), area="Nära vård"),
        Post("Goda förutsättningar", 8_000_000, KEY, group(recipients, "Utförare"), one_column("Platser"),
             area="Goda förutsättningar"),
        Post("LSS-hälsan, vidareutbildning", 300_000, FAST, lss, area="Vidareutbildning"),
        Post("Specialistsjuksköterskor", None, FAST, elderly, area="Vidareutbildning"),
    ]
    return make_case(recipients, posts, 52_000_000)


def test_seed_001_five_posts_in_three_areas_total_52_000_000():
    case = stockholm_2021_case()
    allocation = allocate(case)
    assert post_result(allocation, "Specialistsjuksköterskor").amount == 5_100_000
    assert area_totals(allocation) == {"Nära vård": 38_600_000, "Goda förutsättningar": 8_000_000,
                                       "Vidareutbildning": 5_400_000}
    totals = totals_by_name(case, allocation.totals)
    assert totals["LSS-hälsan"] == 1_600_000
    assert totals["Äldreförvaltningen"] == 5_100_000
    assert sum(totals[name] for name, _ in STOCKHOLM_2021_DISTRICTS) == 37_300_000
    assert allocation.total == sum(allocation.totals) == 52_000_000


def test_seed_001_all_providers_opt_in_gives_1_280_kr_per_place():
    case = stockholm_2021_case()
    places = post_result(allocate(case), "Goda förutsättningar")
    assert sum(p for _, p in PROVIDERS) == 6_250
    assert places.per_unit == 1_280
    assert by_name(case, places.shares) == {name: 1_280 * p for name, p in PROVIDERS}


def test_seed_001_when_providers_decline_the_amount_per_place_is_higher():
    declining = ("Attendo", "Förenade Care", "Ersta diakoni")  # 730 + 410 + 250 = 1 390 places
    case = stockholm_2021_case(declining)
    allocation = allocate(case)
    places = post_result(allocation, "Goda förutsättningar")
    assert places.per_unit == Fraction(8_000_000, 6_250 - 1_390) > 1_280
    assert places.amount == sum(places.shares.values()) == 8_000_000
    shares = by_name(case, places.shares)
    assert set(shares) == {name for name, _ in PROVIDERS} - set(declining)
    assert all(shares[name] >= 1_280 * p for name, p in PROVIDERS if name not in declining)
    assert all(totals_by_name(case, allocation.totals)[name] == 0 for name in declining)
    assert sum(allocation.totals) == 52_000_000


# --- seed 000 and 003: Stockholm county's 26 municipalities --------------------------------------

COUNTY = [  # municipality, population, recipients of municipal health care (both illustrative)
    ("Botkyrka", 94_912, 1_412), ("Danderyd", 33_027, 655), ("Ekerö", 28_626, 512), ("Haninge", 90_025, 1_398),
    ("Huddinge", 112_287, 1_720), ("Järfälla", 79_155, 1_203), ("Lidingö", 47_894, 1_180), ("Nacka", 104_697, 1_604),
    ("Norrtälje", 62_631, 2_398), ("Nykvarn", 10_986, 177), ("Nynäshamn", 28_570, 563), ("Salem", 17_225, 240),
    ("Sigtuna", 48_535, 702), ("Sollentuna", 74_186, 1_042), ("Solna", 82_229, 1_090), ("Stockholm", 974_073, 13_127),
    ("Sundbyberg", 52_452, 811), ("Södertälje", 98_217, 1_631), ("Tyresö", 48_532, 806), ("Täby", 73_186, 1_214),
    ("Upplands Väsby", 46_275, 712), ("Upplands-Bro", 29_587, 420), ("Vallentuna", 33_697, 552),
    ("Vaxholm", 11_887, 253), ("Värmdö", 44_697, 760), ("Österåker", 46_644, 940),
]


def county_recipients() -> tuple[Recipient, ...]:
    return roster(*[(name, "Kommun", {"Befolkning": population, "Patienter": patients})
                    for name, population, patients in COUNTY])


def test_seed_000_weighted_key_is_a_weighted_sum_of_shares_rounded_once():
    recipients = county_recipients()
    post = Post("Goda förutsättningar", 68_000_000, KEY, everyone(recipients),
                key(("Befolkning", 50), ("Patienter", 50)))
    case = make_case(recipients, [post], 68_000_000)
    (result,) = allocate(case).posts

    population = sum(p for _, p, _ in COUNTY)
    patients = sum(q for _, _, q in COUNTY)
    exact = [68_000_000 * (Fraction(1, 2) * Fraction(p, population) + Fraction(1, 2) * Fraction(q, patients))
             for _, p, q in COUNTY]
    assert sum(exact) == 68_000_000
    floors = [math.floor(e) for e in exact]
    left = 68_000_000 - sum(floors)
    largest_fractions = sorted(range(len(COUNTY)), key=lambda i: floors[i] - exact[i])[:left]
    expected = [f + 1 if i in largest_fractions else f for i, f in enumerate(floors)]
    assert [result.shares[i] for i in range(len(COUNTY))] == expected
    assert result.per_unit is None

    by_column = [a + b for a, b in zip(largest_remainder(34_000_000, weights(*[p for _, p, _ in COUNTY])),
                                       largest_remainder(34_000_000, weights(*[q for _, _, q in COUNTY])))]
    assert by_column != expected, "the data should show that rounding column by column differs"


def test_seed_003_carried_over_money_is_added_to_the_pot():
    recipients = county_recipients()
    case = make_case(recipients, [Post("Medel", None, KEY, everyone(recipients), one_column("Befolkning"))],
                     6_429_930, carried_over=4_141_043)
    allocation = allocate(case)
    assert case.info.total == 10_570_973
    assert allocation.total == sum(allocation.totals) == 10_570_973
    population = sum(p for _, p, _ in COUNTY)
    for (_, p, _), amount in zip(COUNTY, allocation.totals):
        assert abs(amount - Fraction(10_570_973 * p, population)) < 1


# --- the largest-remainder rule ------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "weights_", "unit", "expected"), [
    pytest.param(10, (1, 1, 1), 1, [4, 3, 3], id="remainder to the earliest of equals"),
    pytest.param(2, (1, 1, 1), 1, [1, 1, 0], id="two left over among three equals"),
    pytest.param(1, (1, 1), 1, [1, 0], id="full tie goes to the earlier row"),
    pytest.param(2, (1, 3), 1, [0, 2], id="tie on fraction goes to the larger exact amount"),
    pytest.param(2, (3, 1), 1, [2, 0], id="larger exact amount wins in either order"),
    pytest.param(4, (1, 1, 3, 3), 1, [0, 0, 2, 2], id="two ties on fraction both to the larger amounts"),
    pytest.param(3, (1, 1, 5, 5), 1, [0, 0, 2, 1], id="then the earlier of the larger"),
    pytest.param(7, (1, 2, 4), 1, [1, 2, 4], id="exact split needs no rounding"),
    pytest.param(100, (1, 1, 1), 10, [40, 30, 30], id="unit 10"),
    pytest.param(1_000, (1, 2), 100, [300, 700], id="unit 100"),
    pytest.param(10_000, (1, 1, 1), 1_000, [4_000, 3_000, 3_000], id="unit 1000"),
    pytest.param(20, (1, 3), 10, [0, 20], id="tie on fraction of units goes to the larger amount"),
    pytest.param(5_000, (2, 3, 5), 1_000, [1_000, 1_000, 3_000], id="unit 1000: a tie of 1.5 and 2.5 goes to 2.5"),
    pytest.param(10, (0, 1, 2), 1, [0, 3, 7], id="basis 0 gets 0"),
    pytest.param(2, (0, 1, 1, 1), 1, [0, 1, 1, 0], id="basis 0 gets nothing of the remainder"),
    pytest.param(1_000, (0, 0, 5), 100, [0, 0, 1_000], id="all to the only positive basis"),
    pytest.param(0, (1, 2, 3), 1, [0, 0, 0], id="nothing to split"),
    pytest.param(15_711_504, tuple(p for _, p, _ in DALARNA), 1, [a for _, _, a in DALARNA], id="seed 004"),
])
def test_largest_remainder_table(amount, weights_, unit, expected):
    assert largest_remainder(amount, weights(*weights_), unit) == expected


def test_largest_remainder_refuses_an_amount_off_the_unit_and_zero_weights():
    with pytest.raises(ValueError):
        largest_remainder(105, weights(1, 1), 10)
    with pytest.raises(ValueError):
        largest_remainder(10, weights(0, 0))


def test_lika_splits_with_the_remainder_to_the_earlier_rows():
    recipients = roster(("Vaxholm", "Kommun", {}), ("Salem", "Kommun", {}), ("Nykvarn", "Kommun", {}))
    case = make_case(recipients, [Post("Lika", None, EQUAL, everyone(recipients))], 1_000, rounding=100)
    (result,) = allocate(case).posts
    assert by_name(case, result.shares) == {"Vaxholm": 400, "Salem": 300, "Nykvarn": 300}


def test_lika_skips_a_declining_recipient_and_the_tie_goes_to_the_next_row():
    recipients = (recipient("Vaxholm", 2, participates=False), recipient("Salem", 3), recipient("Nykvarn", 4))
    case = make_case(recipients, [Post("Lika", 1_001, EQUAL, everyone(recipients))], 1_001)
    (result,) = allocate(case).posts
    assert by_name(case, result.shares) == {"Salem": 501, "Nykvarn": 500}


def test_a_fixed_post_need_not_be_a_multiple_of_the_rounding_unit():
    recipients = roster(("Äldreförvaltningen", None, {}), *[(f"Stadsdel {n}", "Stadsdel", {"Befolkning": n})
                                                            for n in (1, 2, 3)])
    posts = [Post("Utveckling", 6_000, KEY, group(recipients, "Stadsdel"), one_column("Befolkning")),
             Post("Samordning", None, FAST, named(recipients, "Äldreförvaltningen"))]
    allocation = allocate(make_case(recipients, posts, 6_007, rounding=1_000))
    assert allocation.totals == (7, 1_000, 2_000, 3_000)


def test_a_per_recipient_post_with_no_participant_is_zero():
    recipients = (recipient("Ekerö", 2, "Kommun", participates=False), recipient("Äldreförvaltningen", 3))
    posts = [Post("Grundstöd", 800_000, PER_RECIPIENT, (0,)), Post("Rest", None, FAST, (1,))]
    allocation = allocate(make_case(recipients, posts, 1_000))
    assert post_result(allocation, "Grundstöd").amount == 0
    assert allocation.totals == (0, 1_000)


def test_several_posts_add_up_per_recipient():
    recipients = roster(("Avesta", "Kommun", {"Befolkning": 1}), ("Borlänge", "Kommun", {"Befolkning": 3}))
    posts = [Post("Grundstöd", 100, PER_RECIPIENT, (0, 1)), Post("Lika", 50, EQUAL, (0, 1)),
             Post("Nyckel", None, KEY, (0, 1), one_column("Befolkning"))]
    allocation = allocate(make_case(recipients, posts, 650))
    assert allocation.totals == (100 + 25 + 100, 100 + 25 + 300)
    assert allocation.amounts_of(0) == {"Grundstöd": 100, "Lika": 25, "Nyckel": 100}


# --- exact decimals: bases are the numbers Excel shows -------------------------------------------

@pytest.mark.parametrize(("stored", "shown"), [
    (0.1, "0.1"), (0.1 + 0.2, "0.3"), (0.3, "0.3"), (1.1 + 0.05, "1.15"), (2.6 + 0.075, "2.675"), (2.675, "2.675"),
    (0.1 * 3, "0.3"), (1 - 0.9, "0.1"), (23178.0, "23178"), (15_711_504, "15711504"), (33.3, "33.3"),
    (1e-05, "0.00001"), (123456789012345678.0, "123456789012346000"),
])
def test_excel_number_is_the_decimal_excel_shows(stored, shown):
    assert excel_number(stored) == Decimal(shown)


def test_excel_number_keeps_integers_exact_and_returns_decimals():
    assert excel_number(10**20) == 10**20
    assert isinstance(excel_number(0.1), Decimal)
    assert int(excel_number(1000.0)) == 1000


def split_by(amount: int, bases) -> list[int]:
    """The engine's split of ``amount`` by a one-column key over ``bases`` (workbook order)."""
    recipients = tuple(Recipient(f"Mottagare {i}", i + 2, bases={"Underlag": b}) for i, b in enumerate(bases))
    case = make_case(recipients, [Post("Medel", amount, KEY, everyone(recipients), one_column("Underlag"))], amount)
    return list(allocate(case).totals)


@pytest.mark.parametrize(("amount", "stored", "exact_answer", "float_answer"), [
    # 0.1 : 0.2 : 0.3 of 3 kr is exactly 0.5, 1, 1.5: the tie on .5 goes to the larger amount (the third);
    # as binary floats the first share is a hair above 0.5 and the third a hair below 1.5.
    pytest.param(3, (0.1, 0.2, 0.3), [0, 1, 2], [1, 1, 1], id="0.1 0.2 0.3"),
    pytest.param(2, (0.1, 0.3), [0, 2], [1, 1], id="0.1 0.3"),
    pytest.param(5, (0.3, 0.7), [1, 4], [2, 3], id="0.3 0.7"),
    # Two cells that both show 0.3 (one typed, one =0.1+0.2) are equal, so the earlier row wins.
    pytest.param(1, (0.3, 0.1 + 0.2), [1, 0], [0, 1], id="0.3 and 0.1+0.2"),
    pytest.param(1, (1.15, 1.1 + 0.05), [1, 0], [0, 1], id="1.15 and 1.1+0.05"),
    pytest.param(1, (2.675, 2.6 + 0.075), [1, 0], [0, 1], id="2.675 and 2.6+0.075"),
])
def test_decimal_bases_give_the_exact_answer_where_floats_would_not(amount, stored, exact_answer, float_answer):
    shown = [excel_number(value) for value in stored]
    assert split_by(amount, shown) == exact_answer
    assert largest_remainder(amount, [Fraction(str(d)) for d in shown]) == exact_answer
    assert largest_remainder(amount, [Fraction(value) for value in stored]) == float_answer != exact_answer


def test_a_workbook_with_computed_floats_splits_by_the_shown_decimals(workbook):
    path = workbook(
        case=[("Rubrik", "Stimulansmedel"), ("Medel att fördela", 1), ("Nyckel", "Befolkning")],
        recipients=[("Mottagare", "Befolkning"), ("Avesta", 1.15), ("Borlänge", 1.1 + 0.05)],
    )
    case = load_case(path)
    assert [r.bases["Befolkning"] for r in case.recipients] == [Decimal("1.15"), Decimal("1.15")]
    assert allocate(case).totals == (1, 0)


# --- the Alabama paradox: why "declining never lowers anyone else" holds only for exact shares ---

def test_declining_can_lower_anothers_rounded_amount_by_one_unit():
    # 3 kr over 5, 5, 8, 16: exact 0.44, 0.44, 0.71, 1.41 → [1, 0, 1, 1].
    # When the second declines, 3 kr over 5, 8, 16: exact 0.52, 0.83, 1.66 → [0, 1, 2]:
    # the first recipient's exact share rose (0.44 → 0.52) but its rounded amount fell from 1 to 0,
    # because the remainders of the others grew more (the new-states paradox of largest remainder).
    assert largest_remainder(3, weights(5, 5, 8, 16)) == [1, 0, 1, 1]
    assert largest_remainder(3, weights(5, 8, 16)) == [0, 1, 2]

    everybody = (recipient("A", 2, x=5), recipient("B", 3, x=5), recipient("C", 4, x=8), recipient("D", 5, x=16))
    declined = (everybody[0], recipient("B", 3, participates=False, x=5), *everybody[2:])
    post = Post("Medel", 3, KEY, (0, 1, 2, 3), one_column("x"))
    assert allocate(make_case(everybody, [post], 3)).totals == (1, 0, 1, 1)
    assert allocate(make_case(declined, [post], 3)).totals == (0, 0, 1, 2)


# --- properties ----------------------------------------------------------------------------------

BASES = st.one_of(st.integers(0, 10**6).map(Decimal),
                  st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False, allow_infinity=False))
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def multiples(unit: int, most: int = 10**7) -> st.SearchStrategy[int]:
    return st.integers(0, most // unit).map(lambda n: n * unit)


@st.composite
def cases(draw) -> Case:
    """A valid case: a weighted key, a one-column key, lika, per mottagare, fast, and maybe a rest post."""
    unit = draw(st.sampled_from(ROUNDING_UNITS))
    n = draw(st.integers(2, 25))
    rows = draw(st.lists(st.tuples(BASES, BASES, st.booleans(), st.sampled_from(["Kommun", "Stadsdel"])),
                         min_size=n, max_size=n))
    participants = [i for i, (_, _, declines, _) in enumerate(rows) if not declines] or [0]
    recipients = []
    for i, (population, patients, declines, group_name) in enumerate(rows):
        if i == participants[0]:  # every key column sums to more than 0 over the participants
            population, patients, declines = population + 1, patients + 1, False
        recipients.append(recipient(f"Mottagare {i}", i + 2, group_name, participates=not declines,
                                    Befolkning=population, Patienter=patients))
    recipients = tuple(recipients)
    weight = draw(st.one_of(st.integers(1, 99).map(Decimal), st.decimals(min_value="0.1", max_value="99.9", places=1)))
    fixed_to = draw(st.sampled_from(participants))
    posts = [
        Post("Viktad", draw(multiples(unit)), KEY, everyone(recipients),
             key(("Befolkning", weight), ("Patienter", 100 - weight))),
        Post("Befolkning", draw(multiples(unit)), KEY, everyone(recipients), one_column("Befolkning")),
        Post("Lika", draw(multiples(unit)), EQUAL, everyone(recipients)),
        Post("Grundstöd", draw(multiples(unit, 10**5)), PER_RECIPIENT, group(recipients, "Kommun")),
        Post("Fast", draw(st.integers(0, 10**6)), FAST, (fixed_to,)),
    ]
    rest_method = draw(st.sampled_from([None, FAST, EQUAL, KEY]))
    rest_amount = draw(multiples(unit)) if rest_method != FAST else draw(st.integers(0, 10**6))
    if rest_method is not None:
        rest_key = one_column("Patienter") if rest_method == KEY else ()
        rest_to = (fixed_to,) if rest_method == FAST else everyone(recipients)
        posts.append(Post("Rest", None, rest_method, rest_to, rest_key))
    per_recipient = posts[3].amount * sum(recipients[i].participates for i in posts[3].recipients)
    grant = sum(p.amount for p in posts if p.method != PER_RECIPIENT and not p.is_rest) + per_recipient
    grant += rest_amount if rest_method is not None else 0
    assume(grant > 0)
    return make_case(recipients, posts, grant, rounding=unit)


def exact_amounts(case: Case, post: Post, amount: int) -> dict[int, Fraction]:
    """The exact, unrounded amounts of a ``lika`` or ``nyckel`` post, from the spec's formula."""
    members = [i for i in post.recipients if case.recipients[i].participates]
    if post.method == EQUAL:
        return {i: Fraction(amount, len(members)) for i in members}
    share = {i: Fraction(0) for i in members}
    for part in post.key:
        column_sum = sum(Fraction(case.recipients[j].bases[part.column]) for j in members)
        for i in members:
            share[i] += Fraction(part.weight) / 100 * Fraction(case.recipients[i].bases[part.column]) / column_sum
    return {i: amount * s for i, s in share.items()}


@PROPERTY_SETTINGS
@given(cases())
def test_every_post_sums_to_its_amount_in_multiples_of_the_unit_within_a_unit_of_exact(case):
    allocation = allocate(case)
    unit = case.info.rounding
    for result in allocation.posts:
        post = result.post
        assert sum(result.shares.values()) == result.amount
        if post.method != FAST:
            assert all(share % unit == 0 for share in result.shares.values())
        if post.method in (EQUAL, KEY):
            for i, exact in exact_amounts(case, post, result.amount).items():
                assert abs(result.shares[i] - exact) < unit
        if post.method != FAST:
            assert all(case.recipients[i].participates for i in result.shares)
    assert sum(allocation.totals) == allocation.total == case.info.total
    assert list(allocation.totals) == [sum(r.shares.get(i, 0) for r in allocation.posts)
                                       for i in range(len(case.recipients))]


@PROPERTY_SETTINGS
@given(cases())
def test_allocation_is_deterministic(case):
    assert allocate(case) == allocate(case)


@PROPERTY_SETTINGS
@given(cases())
def test_more_basis_never_means_less_money_in_a_one_column_key(case):
    result = post_result(allocate(case), "Befolkning")
    for i, a in result.shares.items():
        for j, b in result.shares.items():
            x_i, x_j = case.recipients[i].bases["Befolkning"], case.recipients[j].bases["Befolkning"]
            if x_i > x_j:
                assert a >= b
            if x_i == x_j:
                assert abs(a - b) <= case.info.rounding


def single_post_case(bases: list[tuple[Decimal, Decimal]], weight: int, amount_units: int, unit: int,
                     method: str) -> Case:
    recipients = tuple(recipient(f"Mottagare {i}", i + 2, Befolkning=x + 1, Patienter=y + 1)
                       for i, (x, y) in enumerate(bases))
    post_key = key(("Befolkning", weight), ("Patienter", 100 - weight)) if weight < 100 else one_column("Befolkning")
    if method == EQUAL:
        post_key = ()
    post = Post("Medel", amount_units * unit, method, everyone(recipients), post_key)
    return make_case(recipients, [post], post.amount, rounding=unit)


SINGLE_POSTS = dict(
    bases=st.lists(st.tuples(BASES, BASES), min_size=2, max_size=20),
    weight=st.integers(1, 100),
    amount_units=st.integers(1, 10**6),
    unit=st.sampled_from(ROUNDING_UNITS),
    method=st.sampled_from([KEY, KEY, EQUAL]),
)


@PROPERTY_SETTINGS
@given(data=st.data(), **{**SINGLE_POSTS, "method": st.just(KEY)})
def test_permuting_recipients_permutes_the_result_when_there_are_no_ties(data, bases, weight, amount_units, unit,
                                                                         method):
    case = single_post_case(bases, weight, amount_units, unit, method)
    (post,) = case.posts
    exact = exact_amounts(case, post, post.amount)
    assume(len(set(exact.values())) == len(exact))
    order = data.draw(st.permutations(range(len(bases))))
    permuted = single_post_case([bases[i] for i in order], weight, amount_units, unit, method)
    assert list(allocate(permuted).totals) == [allocate(case).totals[i] for i in order]


@PROPERTY_SETTINGS
@given(data=st.data(), **SINGLE_POSTS)
def test_a_recipient_declining_never_lowers_anothers_exact_share_and_its_amount_by_at_most_a_unit(
        data, bases, weight, amount_units, unit, method):
    case = single_post_case(bases, weight, amount_units, unit, method)
    (post,) = case.posts
    k = data.draw(st.integers(0, len(bases) - 1))
    recipients = list(case.recipients)
    recipients[k] = recipient(recipients[k].name, recipients[k].row, participates=False, **recipients[k].bases)
    declined = make_case(recipients, case.posts, case.info.grant, rounding=unit)
    before, after = allocate(case).totals, allocate(declined).totals
    exact_before, exact_after = exact_amounts(case, post, post.amount), exact_amounts(declined, post, post.amount)
    assert after[k] == 0
    for j in exact_after:
        assert exact_after[j] >= exact_before[j]
        assert after[j] >= before[j] - unit


@PROPERTY_SETTINGS
@given(st.lists(st.integers(0, 50), min_size=1, max_size=12).filter(any), st.integers(0, 200),
       st.sampled_from(ROUNDING_UNITS))
def test_largest_remainder_rounds_up_exactly_the_largest_fractions_then_larger_amounts_then_earlier_rows(
        raw_weights, amount_units, unit):
    amount = amount_units * unit
    split = largest_remainder(amount, weights(*raw_weights), unit)
    exact = [Fraction(amount_units * w, sum(raw_weights)) for w in raw_weights]
    rounded_up = [s // unit > math.floor(e) for s, e in zip(split, exact)]
    assert all(s // unit - math.floor(e) in (0, 1) for s, e in zip(split, exact))
    assert sum(split) == amount
    rank = [(e - math.floor(e), e, -i) for i, e in enumerate(exact)]
    assert all(rank[i] > rank[j] for i in range(len(split)) for j in range(len(split))
               if rounded_up[i] and not rounded_up[j])
