"""units: the package registry, canonical units, conversion factors and unit errors."""

from __future__ import annotations

import re
from pathlib import Path

import pint
import pytest

import socialvalue_tom as sv
from socialvalue_tom.errors import UnitError
from socialvalue_tom.units import canonical_unit, conversion_factor, normalise_unit, ureg


@pytest.mark.parametrize(("unit", "canonical", "factor"), [
    ("kgCO2e", "tCO2e", 0.001), ("tCO2e", "tCO2e", 1.0), ("ktCO2e", "tCO2e", 1000.0),
    ("MtCO2e", "tCO2e", 1e6), ("FTE", "FTE", 1.0), ("fte", "FTE", 1.0),
    ("GBP", "GBP", 1.0), ("£", "GBP", 1.0), ("£k", "GBP", 1000.0), ("kGBP", "GBP", 1000.0),
    ("pence", "GBP", 0.01), ("p", "GBP", 0.01), ("day", "week", 1 / 7), ("hour", "minute", 60.0),
    ("minute", "hour", 1 / 60), ("person", "person", 1.0), ("hires", "person", 1.0),
    (" kgCO2e ", "tCO2e", 0.001),
    # Thousands of pounds in any case (the aliases are looked up lower-cased too).
    ("£K", "GBP", 1000.0), ("K£", "GBP", 1000.0), ("KGBP", "GBP", 1000.0),
    ("kGbp", "GBP", 1000.0),
])
def test_conversion_factor_when_same_dimension_gives_factor(unit: str, canonical: str,
                                                            factor: float) -> None:
    """A unit of the measure's dimension converts with the exact factor."""
    assert conversion_factor(unit, canonical) == pytest.approx(factor, rel=1e-15)


@pytest.mark.parametrize(("unit", "canonical"), [
    ("hour", "FTE"), ("FTE", "hour"), ("person", "FTE"), ("tCO2e", "GBP"), ("kg", "tCO2e"),
    ("GBP", "FTE"), ("dimensionless", "GBP"),
])
def test_conversion_factor_when_wrong_dimension_raises_unit_error(unit: str,
                                                                  canonical: str) -> None:
    """Hours given where FTE is expected (and the like) is a UnitError naming both."""
    with pytest.raises(sv.UnitError) as info:
        conversion_factor(unit, canonical, "some-measure")
    err = info.value
    assert repr(unit) in str(err) and repr(canonical) in str(err)
    assert "some-measure" in str(err)
    assert err.unit == unit and err.expected == canonical
    assert isinstance(err.__cause__, pint.errors.DimensionalityError)


@pytest.mark.parametrize("unit", ["parsec_of_joy", "foo bar", "", "   ", "FTE)", "**",
                                  "x" * 65, "__import__('os')", "1e999999 FTE", "FTE; rm"])
def test_conversion_factor_when_unit_unknown_raises_unit_error(unit: str) -> None:
    """Unknown, empty, over-long or unparsable units are UnitError (never a pint error)."""
    with pytest.raises(sv.UnitError) as info:
        conversion_factor(unit, "FTE")
    assert repr(unit[:20]) in str(info.value) or unit.strip() == ""


@pytest.mark.parametrize(("unit", "hint"), [
    ("MTCO2e", ": 'MT' stands for metric tonnes in some reports and megatonnes in others: "
     "write 'tCO2e' for tonnes, or 'MtCO2e' for megatonnes (a million tonnes)"),
    ("mt_co2", ": 'mt' stands for metric tonnes"),
    ("Kg_CO2e", ": write 'kgCO2e'"),  # a form's capitals
    ("kilogram_CO2e", ": write 'kgCO2e'"),
    ("tonne_CO2", ": write 'tCO2e'"),
    ("kilotonnes_co2eq", ": write 'ktCO2e'"),
    ("gram_CO2e", ": carbon is written 'kgCO2e', 'tCO2e' (tonnes), 'ktCO2e' or 'MtCO2e' "
     "(megatonnes)"),
    ("CO2e", ": carbon is written"),
    ("parsec_of_joy", ""),
])
def test_an_unknown_carbon_unit_is_told_how_carbon_is_written(unit: str, hint: str) -> None:
    """A newcomer's review: 'MTCO2e' and 'kilogram_CO2e' were only "unknown", with nothing
    to act on; 'MT' is never guessed at (tonnes or megatonnes: a factor of a million)."""
    with pytest.raises(sv.UnitError) as info:
        conversion_factor(unit, "tCO2e")
    assert info.value.message.startswith(f"unknown unit {unit!r}{hint}")
    if not hint:
        assert info.value.message == f"unknown unit {unit!r}"


@pytest.mark.parametrize(("unit", "hint"), [
    ("MT CO2e", "'MT' stands for metric tonnes in some reports and megatonnes in others"),
    ("tonne CO2eq", "write 'tCO2e'"),
    ("KG CO2E", "write 'kgCO2e'"),
])
def test_a_carbon_unit_written_in_words_is_told_its_name(unit: str, hint: str) -> None:
    """A diff re-read: 'MT CO2e' (two words) was told only the generic one-name rule."""
    with pytest.raises(sv.UnitError) as info:
        conversion_factor(unit, "tCO2e")
    assert info.value.message.startswith(f"unit {unit!r} is not one unit name: {hint}")


@pytest.mark.parametrize("unit", ["FTE**2", "1/FTE", "FTE*kg/g", "FTE*(kg/g)**999",
                                  "tCO2e*1000", "GBP/100", "kg CO2e", "2 hour", "hour^1"])
def test_conversion_factor_when_unit_is_arithmetic_raises_unit_error(unit: str) -> None:
    """A unit is one name: pint would read 'FTE*kg/g' as FTE times 1000, a claim multiplied
    silently (or an OverflowError for a large power)."""
    with pytest.raises(sv.UnitError, match="not one unit name") as info:
        conversion_factor(unit, "FTE")
    assert info.value.unit == unit


def test_ureg_when_imported_is_not_pints_global_registry() -> None:
    """The package registry is its own: pint's application registry is untouched."""
    assert ureg is not pint.get_application_registry()
    assert sv.ureg is ureg and sv.Quantity is ureg.Quantity
    with pytest.raises(pint.errors.UndefinedUnitError):
        pint.UnitRegistry().parse_units("FTE")


def test_canonical_unit_when_alias_normalises() -> None:
    """canonical_unit validates and maps currency symbols to registry names."""
    assert canonical_unit("£") == "GBP"
    assert normalise_unit(" £k ") == "kGBP"
    with pytest.raises(sv.UnitError):
        canonical_unit("nonsense-unit")


def test_quantity_when_built_from_registry_converts() -> None:
    """sv.Quantity carries the domain dimensions: 3,500 kgCO2e is 3.5 tCO2e."""
    assert sv.Quantity(3500, "kgCO2e").to("tCO2e").magnitude == pytest.approx(3.5)


@pytest.mark.parametrize("unit", ["€GBP", "$GBP", "GBP€", "FTE#x", "?FTE", "FTE!", "£,FTE",
                                  "kgCO2e # scope 2", "£kg"])
def test_unit_with_characters_a_unit_cannot_have_is_refused(unit: str) -> None:
    """pint drops characters it does not know: '€GBP' must not read as pounds."""
    with pytest.raises(UnitError, match="characters a unit cannot have"):
        conversion_factor(unit, "GBP")


@pytest.mark.parametrize(("unit", "canonical"), [
    ("mtCO2e", "tCO2e"), ("megatCO2e", "tCO2e"), ("mGBP", "GBP"), ("pGBP", "GBP"),
    ("Ep", "GBP"), ("mFTE", "FTE"), ("kperson", "person"), ("mt", "tonne")])
def test_prefixed_domain_units_are_refused_as_ambiguous(unit: str, canonical: str) -> None:
    """'mtCO2e' means metric tonnes in many reports, not milli-tonnes: never a silent 1e-3."""
    with pytest.raises(UnitError, match="easily meant as something else"):
        conversion_factor(unit, canonical)


def test_the_us_short_ton_is_refused_with_a_hint() -> None:
    with pytest.raises(UnitError, match="short ton"):
        conversion_factor("tons", "tonne")


@pytest.mark.parametrize(("unit", "canonical", "hint"), [
    ("kiloton", "tonne", "kilotonne"), ("kton", "tonne", "kilotonne"),
    ("Mton", "tonne", "tonne"), ("gigaton", "tonne", "tonne"),
    ("cwt", "kg", "UK_hundredweight"), ("hundredweight", "kg", "UK_hundredweight"),
    ("gallon", "litre", "imperial_gallon"), ("gal", "litre", "imperial_gallon"),
    ("kilogallon", "litre", "imperial_gallon"), ("pint", "litre", "imperial_pint"),
    ("quart", "litre", "imperial_quart"), ("floz", "ml", "imperial_fluid_ounce"),
    ("gill", "ml", "imperial_gill"), ("cup", "ml", "litre"), ("teaspoon", "ml", "ml"),
    ("tablespoon", "ml", "ml"), ("dry_gallon", "litre", "imperial_gallon"),
    ("barrel", "litre", "oil_barrel"), ("bushel", "litre", "imperial_bushel"),
    ("megaton", "tonne", "megatonne")])
def test_us_customary_units_pint_reads_by_default_are_refused(unit: str, canonical: str,
                                                              hint: str) -> None:
    """pint's 'ton', 'cwt' and 'gallon' are the US units, prefixed or not ('kiloton' is 907
    tonnes): in a UK report they mean tonnes or imperial units, a silent 2-20% error."""
    with pytest.raises(UnitError, match=f"counts US .* write .*{hint}") as err:
        conversion_factor(unit, canonical)
    assert err.value.unit == unit


@pytest.mark.parametrize(("unit", "canonical", "factor"), [
    ("short_ton", "tonne", 0.90718474), ("US_liquid_gallon", "litre", 3.785411784),
    ("short_hundredweight", "kg", 45.359237),
    ("imperial_gallon", "litre", 4.54609), ("UK_hundredweight", "kg", 50.80234544),
    ("long_ton", "tonne", 1.0160469088), ("kilotonne", "tonne", 1000.0)])
def test_units_that_say_which_ton_or_gallon_are_read(unit: str, canonical: str,
                                                    factor: float) -> None:
    assert conversion_factor(unit, canonical) == pytest.approx(factor, rel=1e-12)


@pytest.mark.parametrize(("unit", "canonical", "factor"), [
    ("kgCO2e", "tCO2e", 0.001), ("ktCO2e", "tCO2e", 1000.0), ("MtCO2e", "tCO2e", 1e6),
    ("kGBP", "GBP", 1000.0), ("£k", "GBP", 1000.0), ("pence", "GBP", 0.01),
    ("ktonne", "tonne", 1000.0), ("kg", "tonne", 0.001), ("t", "tonne", 1.0)])
def test_the_multiples_meant_are_still_accepted(unit: str, canonical: str, factor: float) -> None:
    assert conversion_factor(unit, canonical) == pytest.approx(factor)


@pytest.mark.parametrize(("unit", "canonical"), [
    ("day", "hour"), ("week", "hour"), ("days", "hours"), ("month", "hour"), ("hour", "week"),
    ("minute", "day")])
def test_calendar_time_where_work_time_is_expected_is_refused(unit: str, canonical: str) -> None:
    """A day of volunteering is a working day, not 24 hours: never a silent factor of 24."""
    with pytest.raises(UnitError, match="no fixed length"):
        conversion_factor(unit, canonical)


@pytest.mark.parametrize("unit", ["degC", "degF", "dB", "octave", "neper"])
def test_conversion_factor_when_unit_has_an_offset_or_log_scale_raises_unit_error(
        unit: str) -> None:
    """No factor converts 10 degC to kelvin (283.15 K, not 10 x 274.15 K) or decibels to
    anything: an outcome in such a unit is refused, as a table refuses one."""
    with pytest.raises(UnitError, match="scale, which no factor converts"):
        conversion_factor(unit, "kelvin" if unit.startswith("deg") else "dimensionless")
    assert conversion_factor("delta_degC", "kelvin") == 1.0


def test_value_when_outcome_unit_has_an_offset_then_refused_on_both_paths(
        tmp_path: Path) -> None:
    """A measure counted in kelvin, given 10 degC: a UnitError on the scalar path and a row
    issue in bulk, never 2741.5 K."""
    import pandas as pd
    from conftest import tiny_variant

    path = tiny_variant(tmp_path, ("unit: tCO2e", "unit: kelvin"))
    table = sv.load_table(path=path)
    code = next(c for c, m in table.measures.items() if m.unit == "kelvin")
    with pytest.raises(UnitError, match="offset scale"):
        sv.value(sv.Outcome(measure=code, quantity=10, unit="degC", region="uk",
                            date="2024-06-01"), table)
    out = sv.value_frame(pd.DataFrame({"measure": [code], "quantity": [10.0], "unit": ["degC"],
                                       "region": ["uk"], "date": ["2024-06-01"]}), table,
                         errors="collect")
    assert out["value_gbp"].isna().all()
    assert "offset scale" in out.attrs["issues"]["reason"].iloc[0]


@pytest.mark.parametrize(("unit", "canonical", "factor"), [
    ("megatonne", "tonne", 1e6), ("gigatonne", "tonne", 1e9), ("MtCO2e", "tCO2e", 1e6),
    ("k£", "GBP", 1000.0)])
def test_conversion_factor_for_the_large_spellings_the_docs_accept(unit: str, canonical: str,
                                                                   factor: float) -> None:
    assert sv.units.conversion_factor(unit, canonical) == factor


def test_a_unit_of_exactly_the_length_limit_is_read() -> None:
    """Up to 64 characters once stripped (as the Outcome model counts); 65 is refused."""
    from socialvalue_tom.units import _MAX_UNIT_LENGTH

    assert _MAX_UNIT_LENGTH == 64
    padded = " " * 30 + "tCO2e" + " " * 30
    assert sv.units.conversion_factor(padded, "tCO2e") == 1.0
    with pytest.raises(sv.UnitError) as at_limit:  # read (and found unknown), not cut short
        sv.units.conversion_factor("x" * 64, "tCO2e")
    assert "longer than" not in str(at_limit.value)
    with pytest.raises(sv.UnitError, match="longer than 64 characters"):
        sv.units.conversion_factor("x" * 65, "tCO2e")


@pytest.mark.parametrize(("unit", "spellings", "expected"), [
    ("Weeks", ("week",), "week"), ("HOURS", ("hour", "h"), "hour"),
    ("Mg", ("kg", "g", "mg"), None), ("Ml", ("ml",), None), ("Pg", ("pg",), None),
    ("H", ("hour",), None),
])
def test_accepted_spelling_tries_case_only_for_text_that_is_no_unit(
        unit: str, spellings: tuple[str, ...], expected: str | None) -> None:
    """'Mg' is a megagram: reading it in lower case made it the milligram a table accepts,
    a value a thousand million times too small. Case is tried only where the text, as
    written, is no unit ('Weeks'); 'H' is the henry, not an hour."""
    from socialvalue_tom.units import accepted_spelling

    assert accepted_spelling(unit, spellings) == expected


@pytest.mark.parametrize(("unit", "measure", "quantity"), [
    ("Hours", "social-volunteering", 3.0), ("HOURS", "social-volunteering", 3.0),
    ("TCO2E", "env-carbon", 3.0), ("KGCO2E", "env-carbon", 0.003), ("Kgco2e", "env-carbon", 0.003),
    (" TCO2E ", "env-carbon", 3.0), ("KGCO2", "env-carbon", 0.003), ("TCO2", "env-carbon", 3.0),
    ("T_CO2E", "env-carbon", 3.0), ("TONNES_CO2E", "env-carbon", 3.0),
    ("KTCO2E", "env-carbon", 3000.0),
])
def test_capitals_read_alike_whether_or_not_the_measure_lists_accepts(
        unit: str, measure: str, quantity: float) -> None:
    """'Hours' was an unknown unit for a measure with no ``accepts`` (any convertible unit)
    but the hour for one that listed ``accepts: [hour]``: text that is no unit as written is
    read in lower case for every measure, scalar and bulk; carbon in capitals ('TCO2E') too."""
    import datetime as dt

    import pandas as pd
    from conftest import TINY

    table = sv.load_table(path=TINY)
    assert table.measure(measure).accepts is None
    one = sv.value(sv.Outcome(measure=measure, quantity=3, unit=unit, region="uk",
                              date=dt.date(2024, 5, 1)), table)
    same = sv.value(sv.Outcome(measure=measure, quantity=quantity, unit=None, region="uk",
                               date=dt.date(2024, 5, 1)), table)
    assert one.amount == same.amount > 0
    bulk = sv.value_frame(pd.DataFrame({"measure": [measure], "quantity": [3.0], "unit": [unit],
                                        "region": ["uk"], "date": ["2024-05-01"]}), table)
    assert bulk["value_gbp"].tolist() == [one.amount]


@pytest.mark.parametrize("unit", ["MTCO2E", "Mg"])
def test_capitals_that_are_ambiguous_or_a_unit_as_written_keep_their_meaning(unit: str) -> None:
    """'MTCO2E' (metric tonnes or megatonnes?) stays refused; 'Mg' is a megagram, of another
    dimension than carbon, and the error names the unit as given."""
    from conftest import TINY

    table = sv.load_table(path=TINY)
    with pytest.raises(UnitError, match=repr(unit)):
        table.unit_factor("env-carbon", unit)


@pytest.mark.parametrize(("old", "new", "spelling"), [
    ("    accepts: [week]\n", "    accepts: [Week]\n", "week"),
    ("    unit: tCO2e\n", "    unit: KGCO2E\n", "kgCO2e"),
    ("    unit: tCO2e\n", "    unit: tco2e\n", "tCO2e"),
])
def test_a_table_unit_in_capitals_is_refused_with_the_spelling_to_use(
        tmp_path: Path, old: str, new: str, spelling: str) -> None:
    """A table writes units as the registry spells them: 'Week' in ``accepts``, or carbon in
    other capitals (which an outcome may give), is refused on load, naming the spelling."""
    from conftest import tiny_variant

    path = tiny_variant(tmp_path, (old, new))
    with pytest.raises(sv.ProxyTableError, match=f"registry spells them: '{spelling}'"):
        sv.load_table(path=path)


def test_a_unit_read_in_lower_case_is_named_as_given_in_its_error() -> None:
    """'Hours' is read as 'hours'; where hours cannot be used, the error names 'Hours', as
    given, in its message and its unit detail."""
    from conftest import TINY

    with pytest.raises(UnitError, match=r"unit 'Hours' \(time\) cannot be used") as info:
        sv.load_table(path=TINY).unit_factor("env-carbon", "Hours")
    assert info.value.details["unit"] == "Hours" and "'hours'" not in str(info.value)


# -- messages an analyst can act on (an error-message review) --------------------------------


@pytest.mark.parametrize(("unit", "canonical", "says"), [
    # The dimension in words, not pint's notation.
    ("hour", "FTE", "unit 'hour' (time) cannot be used: expected a unit of full-time "
                    "equivalents such as 'FTE'"),
    # A weight given for carbon: how to write it.
    ("tonnes", "tCO2e", "unit 'tonnes' (weight) cannot be used: expected a unit of carbon "
                        "(tonnes of CO2 equivalent) such as 'tCO2e': a weight of carbon dioxide "
                        "equivalent is written 'tCO2e' or 'kgCO2e'"),
    # A reading no one meant: what the unit was read as.
    ("MT", "tCO2e", "unit 'MT' (read as megatesla, a unit of another kind) "),
    ("kt", "tCO2e", "unit 'kt' (read as knot, a unit of another kind) "),
    ("k", "tCO2e", "unit 'k' (read as boltzmann constant, a unit of another kind) "),
])
def test_a_unit_of_another_dimension_is_named_in_words(unit: str, canonical: str,
                                                       says: str) -> None:
    """'([mass] / [time] ** 2 / [current])' meant nothing to an analyst who wrote MT for
    metric tonnes: the error names the dimension in words, or what the unit was read as."""
    with pytest.raises(UnitError) as info:
        conversion_factor(unit, canonical)
    assert says in str(info.value)
    assert "[fte]" not in str(info.value) and "[carbon]" not in str(info.value)


@pytest.mark.parametrize(("unit", "write"), [
    ("kg CO2e", "write 'kgCO2e'"), ("t CO2e", "write 'tCO2e'"),
    ("tonnes CO2e", "write 'tCO2e'"),  # carbon by its own name, not 'tonnes_CO2e'
    ("full time equivalent", "write it as one name, without spaces: 'full_time_equivalent'"),
])
def test_a_unit_written_in_words_is_told_the_one_name_to_write(unit: str, write: str) -> None:
    """'kg CO2e' was told to write a unit 'with no numbers' while the example, tCO2e, has one:
    the error gives a name that reads as the same unit (carbon's own names first: a
    newcomer's second review was told 'tonnes_CO2e' where tCO2e is what reports write)."""
    canonical = "FTE" if unit.startswith("full") else "tCO2e"
    with pytest.raises(UnitError) as info:
        conversion_factor(unit, canonical)
    assert info.value.message == f"unit {unit!r} is not one unit name: {write}"
    expected = {"kg CO2e": 0.001, "t CO2e": 1.0, "tonnes CO2e": 1.0,
                "full time equivalent": 1.0}[unit]
    assert conversion_factor(write.rsplit(" ", 1)[-1].strip("'"), canonical) == expected


def test_pounds_in_thousands_are_read_and_millions_told_how_to_write() -> None:
    """'£000' (thousands, as UK finance tables head a column) is kGBP; '£m' and '£bn' have
    no unit and are told so, not that '£' cannot be in a unit."""
    assert conversion_factor("£000", "GBP") == 1000.0
    assert conversion_factor("£'000", "GBP") == 1000.0
    # As a returns form heads the column (a data-quality steward's review).
    assert conversion_factor("£000s", "GBP") == conversion_factor("£'000s", "GBP") == 1000.0
    for unit in ("£m", "£bn", "£ millions", "m£"):
        with pytest.raises(UnitError, match="millions have no unit of their own"):
            conversion_factor(unit, "GBP")
    with pytest.raises(UnitError, match="characters a unit cannot have"):
        conversion_factor("£kg", "GBP")  # not pounds with a multiple: the general rule


def test_time_for_carbon_gets_no_weight_advice() -> None:
    with pytest.raises(UnitError) as info:
        conversion_factor("hour", "tCO2e")
    assert "kgCO2e" not in str(info.value)


def test_carbon_written_as_co2_or_co2_dash_e_is_read_or_told_how_to_write_it() -> None:
    """A carbon lead's review: 'tCO2' read as tCO2e (a tonne of CO2 is a tonne of CO2e) but
    'ktCO2' and 'MtCO2' were refused with advice about metric tonnes; 'tCO2-e', a common
    spelling, got the generic 'give a single unit'."""
    assert [conversion_factor(u, "tCO2e") for u in ("tCO2", "kgCO2", "ktCO2", "MtCO2")] == [
        1.0, 0.001, 1000.0, 1e6]
    for written, advice in (("tCO2-e", "write 'tCO2e'"), ("kgCO2-e", "write 'kgCO2e'"),
                            ("tonnes CO2-e", "write 'tCO2e'")):
        with pytest.raises(sv.UnitError, match=re.escape(advice)):
            conversion_factor(written, "tCO2e")


def test_units_too_long_to_be_units_are_kept_in_no_cache() -> None:
    """An adversarial review: caching refusals kept each refused 100 KB unit cell alive (a
    column of 2,000 of them retained 200 MB more each run). Text too long to be a unit is
    refused without becoming a cache key; a unit the measure does not accept either."""
    import pandas as pd

    from socialvalue_tom import units

    units._parsed_or_refusal.cache_clear()
    units._accepted_spelling.cache_clear()
    rows = pd.DataFrame({"measure": ["jobs-local-fte", "env-carbon-saved"] * 50,
                         "quantity": 1.0, "unit": [f"{i:06d}" + "x" * 10_000 for i in range(100)],
                         "region": "uk", "date": "2024-06-01"})
    issues = sv.value_frame(rows, errors="collect").attrs["issues"]
    assert len(issues) == 100 and set(issues["code"]) == {"unit-error"}
    assert units._parsed_or_refusal.cache_info().currsize < 50  # the tables' own units
    assert units._accepted_spelling.cache_info().currsize == 0
