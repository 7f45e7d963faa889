"""The flat public API: complete, sorted, documented, and nothing leaks from private modules."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import socialvalue_tom as sv

ROOT = Path(__file__).resolve().parent.parent


def test_all_is_sorted_and_unique() -> None:
    assert list(sv.__all__) == sorted(set(sv.__all__))


def test_all_names_exist_and_every_public_name_is_listed() -> None:
    for name in sv.__all__:
        assert hasattr(sv, name), name
    public = {n for n, obj in vars(sv).items()
              if not n.startswith("_") and not inspect.ismodule(obj)}
    assert public <= set(sv.__all__), public - set(sv.__all__)


def test_contract_names_from_the_issues_are_exported() -> None:
    for name in ("available_tables", "load_table", "Outcome", "value", "Valuation",
                 "value_frame", "explain_row", "SocialValueError", "UnknownMeasureError",
                 "UnknownRegionError", "UnitError", "OutcomeError", "NoTableInForceError",
                 "ProxyTableError", "sensitivity", "TableRef", "Measure"):
        assert name in sv.__all__, name


def test_public_names_have_docstrings() -> None:
    for name in sv.__all__:
        obj = getattr(sv, name)
        if name == "Quantity":  # pint's class, documented by pint
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name


def test_public_classes_do_not_come_from_private_modules() -> None:
    for name in sv.__all__:
        obj = getattr(sv, name)
        module = getattr(obj, "__module__", "") or ""
        if inspect.isclass(obj) or inspect.isfunction(obj):
            parts = module.split(".")
            assert not any(p.startswith("_") for p in parts[1:]), (name, module)


def test_every_error_is_a_social_value_error_with_a_code() -> None:
    errors = [getattr(sv, n) for n in sv.__all__ if n.endswith("Error")]
    assert len(errors) >= 10
    for cls in errors:
        assert issubclass(cls, sv.SocialValueError)
        assert cls.code and cls.code == cls.code.lower()


def test_api_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_api", ROOT / "docs" / "gen_api.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "api.md").read_text(encoding="utf-8") == module.render(), (
        "docs/api.md is stale: run python docs/gen_api.py")


def test_import_does_not_pull_heavy_optional_extras() -> None:
    # pandas and pint import pyarrow and dask themselves when installed; our extras must wait.
    code = ("import sys, socialvalue_tom; heavy = [m for m in ('matplotlib', 'openpyxl', "
            "'typer', 'rich', 'distributed') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_typed_constructors_name_every_model_field() -> None:
    """Type checkers see Outcome(...) and Assumptions(...) through a signature written for them
    (the runtime one wraps pydantic's errors): it must name exactly the model's fields, with
    the same required ones, or mypy would pass a misspelt name or refuse a real one."""
    import ast

    from socialvalue_tom import outcome

    tree = ast.parse(Path(outcome.__file__).read_text(encoding="utf-8"))
    for cls in (sv.Outcome, sv.Assumptions):
        node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
        stub = next(f for b in node.body if isinstance(b, ast.If)
                    and ast.unparse(b.test) == "TYPE_CHECKING"
                    for f in b.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
        args = stub.args.kwonlyargs
        required = {a.arg for a, d in zip(args, stub.args.kw_defaults, strict=True) if d is None}
        assert [a.arg for a in args] and {a.arg for a in args} == set(cls.model_fields), cls
        assert required == {n for n, f in cls.model_fields.items() if f.is_required()}, cls


@pytest.mark.parametrize("plugin", [True, False], ids=["pydantic-plugin", "plain"])
def test_integrator_client_type_checks_strictly(tmp_path: Path, plugin: bool) -> None:
    """tests/typing/client.py uses the API as a procurement system does (typed error details,
    the trace's length, pint quantities, Decimal money) and must pass ``mypy --strict``: an
    attribute only set at run time, an Optional where a value always is, or an ``Any`` leaking
    out of the public names fails here. Its ``type: ignore`` lines must be used: what raises
    at run time (assigning to a frozen model or a sealed table, a read-only mapping, a call
    load_table refuses) is refused by the checker too. Checked with the pydantic plugin, as
    this project runs mypy, and without it, as most clients do (and as pyright reads the
    models: frozen is a class keyword, which both see)."""
    from mypy import api

    client = Path(__file__).parent / "typing" / "client.py"
    config = Path(__file__).parent.parent / "pyproject.toml"  # its pydantic plugin
    limit = sys.getrecursionlimit()
    try:
        out, err, status = api.run(["--strict", "--no-incremental", "--cache-dir", str(tmp_path),
                                    "--config-file", str(config) if plugin else "",
                                    str(client)])
    finally:  # mypy raises the interpreter's recursion limit and leaves it raised
        sys.setrecursionlimit(limit)
    assert status == 0, out + err


def test_quantity_annotations_evaluate_at_run_time() -> None:
    """``q: sv.Quantity[float]``, as the typing client writes it, passed mypy but raised
    "not a generic class" wherever annotations are evaluated (pydantic, FastAPI,
    get_type_hints): the registry's class is subscriptable now, and still the class."""
    import typing

    def tonnes(q: sv.Quantity[float]) -> float:
        return float(q.to("tCO2e").magnitude)

    hints = typing.get_type_hints(tonnes)
    assert typing.get_origin(hints["q"]) is sv.Quantity
    assert typing.get_args(hints["q"]) == (float,)
    assert tonnes(sv.Quantity(3500.0, "kgCO2e")) == 3.5
    assert isinstance(sv.Quantity(1.0, "tCO2e"), sv.Quantity)


def test_every_error_has_field_and_row_as_attributes() -> None:
    """errors.md's one handler reads ``err.field`` whatever the class: an unknown table had
    no such attribute (AttributeError), though ``to_dict()["field"]`` was None."""
    with pytest.raises(sv.SocialValueError) as info:
        sv.load_table("no-such-family")
    assert (info.value.field, info.value.row) == (None, None)
    assert info.value.to_dict()["field"] is None


def test_lookup_errors_carry_the_alternatives_as_data() -> None:
    """An integrator's review: the valid alternatives and "did you mean" codes were only in
    the message. An unknown family or version lists what is available, an unknown measure
    its close codes, an unknown region the table's codes."""
    with pytest.raises(sv.UnknownTableError) as family:
        sv.load_table("uk-nationl", version="2024")
    assert family.value.available == ["uk-national"]
    with pytest.raises(sv.UnknownTableError) as version:
        sv.load_table("uk-national", version="2022")
    assert version.value.available == ["2023", "2024", "2025"]
    table = sv.load_table("uk-national", version="2024")
    with pytest.raises(sv.UnknownMeasureError) as measure:
        table.measure("jobs-local-ft")
    assert measure.value.suggestions and measure.value.suggestions[0] == "jobs-local-fte"
    assert "did you mean jobs-local-fte" in str(measure.value)
    with pytest.raises(sv.UnknownRegionError) as region:
        table.region_code("atlantis")
    assert region.value.expected == list(table.region_codes)
    assert region.value.version == "2024"
    assert sv.UnknownMeasureError("x").to_dict()["details"] == {}


def test_table_parts_built_in_python_raise_the_typed_error(tmp_path: Path) -> None:
    """An API review: ``sv.Measure`` and ``sv.Source`` (and a proxy value for ``amend_table``)
    are public models, but bad input raised pydantic's ``ValidationError``, which a caller
    catching ``SocialValueError`` missed, and ``model_copy(update=...)`` built a measure no
    constructor accepts. They raise ``ProxyTableError`` naming the field (a ValueError still,
    as pydantic's was); a table file's errors stay the loader's, with file and line."""
    import pydantic
    from conftest import line_of, sub, tiny_variant

    from socialvalue_tom.tables.schema import ProxyValue

    measure = sv.load_table("uk-national", version="2024").measure("env-carbon-saved")
    source = sv.load_table("uk-national", version="2024").sources["desnz-carbon-values"]
    bad_proxies = {"uk": {"value": -1.0, "source": "desnz-carbon-values", "illustrative": True}}
    calls = {
        "code": lambda: sv.Measure(**{**measure.model_dump(), "code": 3}),
        "deadweight": lambda: sv.Measure.model_validate({**measure.model_dump(),
                                                         "deadweight": 2.0}),
        "cap_ratio": lambda: measure.model_copy(update={"cap_ratio": -5.0}),
        "proxies.uk.value": lambda: measure.model_copy(update={"proxies": bad_proxies}),
        "url": lambda: sv.Source.model_validate_json(
            source.model_copy(update={"notes": None}).model_dump_json().replace("https", "ftp")),
        "id": lambda: sv.Source(title="t"),  # type: ignore[call-arg]
        "value": lambda: ProxyValue(value=1.234, source="s", illustrative=True),
        "nope": lambda: source.model_copy(update={"nope": 1}),
        None: lambda: sv.Measure.model_validate_json("[1"),  # not JSON: no field at fault
    }
    for field, call in calls.items():
        with pytest.raises(sv.ProxyTableError) as info:
            call()
        err = info.value
        assert not isinstance(err, pydantic.ValidationError) and isinstance(err, ValueError)
        assert err.field == field, (field, str(err))
        assert (err.path, err.line) == (None, None)
        assert err.__context__ is None  # nothing that cannot travel pickled
        if field is not None:
            assert f"field {field!r}" in err.message, err.message
    assert measure.model_copy(update={"cap_ratio": 0.5}).cap_ratio == 0.5
    assert sv.Measure(**measure.model_dump()) == measure
    # In a file, a proxy value is checked as part of it: the loader's message, with the line.
    text = sub("uk: {value: 250.00,", "uk: {value: -250.00,")
    path = tiny_variant(tmp_path, ("uk: {value: 250.00,", "uk: {value: -250.00,"))
    with pytest.raises(sv.ProxyTableError) as loaded:
        sv.load_table(path=path)
    assert loaded.value.line == line_of(text, "uk: {value: -250.00,")
    assert str(loaded.value).startswith(f"{path}:{loaded.value.line}: field measures[")


def test_explain_row_names_the_frame_valued_and_still_takes_out_deprecated() -> None:
    """An API review: ``explain_row(out, i)`` named the valued frame ``out``, where
    ``summarise``, ``targets_vs_delivered``, ``with_crosswalk`` and ``report_html`` name it
    ``valued`` and ``value_file`` names its output file ``out``. It is ``valued`` now;
    ``out=`` still works, warning at the caller's line (docs/api-stability.md)."""
    import warnings

    import pandas as pd

    from socialvalue_tom.explain import valuation_of_row

    for func in (sv.explain_row, sv.summarise, sv.targets_vs_delivered, sv.with_crosswalk):
        assert next(iter(inspect.signature(func).parameters)) == "valued", func
    valued = sv.value_frame(pd.DataFrame({
        "measure": ["env-carbon-saved"], "quantity": [3500], "unit": ["kgCO2e"],
        "region": ["scotland"], "date": ["2024-09-30"]}))
    trace = sv.explain_row(valued=valued, i=0)
    assert trace == sv.explain_row(valued, 0) and trace.endswith("= £1,052.87 (2024 prices)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name warns of nothing
        sv.explain_row(valued=valued, i=0)
    with pytest.warns(DeprecationWarning, match=r"explain_row\(out=\.\.\.\) is deprecated: "
                      r"the parameter is valued= now; out= will be removed in 2\.0") as caught:
        old = sv.explain_row(out=valued, i=0)  # type: ignore[call-arg]
    assert old == trace
    assert caught[0].filename == __file__  # the caller's line, not the library's
    with pytest.warns(DeprecationWarning, match="valuation_of_row"):
        assert valuation_of_row(out=valued, i=0) == valuation_of_row(valued, 0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="give valued= alone"):
        sv.explain_row(out=valued, valued=valued, i=0)  # type: ignore[call-arg]


def test_example_path_refuses_an_unknown_name_with_the_typed_error() -> None:
    """An API review: ``example_path("nope.csv")`` raised a plain ``ValueError``, the one
    error of the flat API outside ``SocialValueError``; it is a ``RuleError`` now (still a
    ``ValueError``), naming the files, as ``json_schema`` refuses an unknown kind."""
    for name in ("nope.csv", ["portfolio.csv"]):
        with pytest.raises(sv.RuleError, match=r"the examples are portfolio\.csv, cases\.yaml"
                           ) as info:
            sv.example_path(name)  # type: ignore[arg-type]
        assert isinstance(info.value, ValueError) and info.value.field == "name"
        assert info.value.to_dict()["code"] == "rule-error"


def test_every_flat_name_is_in_its_own_modules_all() -> None:
    """An API review: ``sv.RowIssueCode``, ``sv.Sensitivity`` and ``sv.IssueTable`` were
    exported by the package but missing from the ``__all__`` of the module defining them
    (``from socialvalue_tom.errors import *`` went without the code type), so the two public
    lists disagreed on what is public. Each name the package imports from a module with an
    ``__all__`` is in it."""
    import ast

    tree = ast.parse(Path(sv.__file__).read_text(encoding="utf-8"))
    checked = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "socialvalue_tom":
            names = [a.name for a in node.names if not a.name.startswith("__")]
            if not names:  # __version__, from the module reading the installed metadata
                continue
            listed = importlib.import_module(node.module).__all__
            for name in names:
                assert name in listed, (node.module, name)
                checked += 1
    assert checked == len(sv.__all__) - 1  # all but __version__
