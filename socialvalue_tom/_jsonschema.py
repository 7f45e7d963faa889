"""The base of the library's pydantic models: their JSON Schema never looser than the model.

pydantic's own schema of a model leaves out checks the model makes (a date is any
``dddd-dd-dd``, a number may be ``1e400``, a map's keys escape their pattern):
:mod:`socialvalue_tom.schemas` puts them back. This base puts them in wherever pydantic makes
a schema of one of the library's models: ``sv.Outcome.model_json_schema()`` is
``sv.json_schema("outcome")`` (less ``$schema`` and ``$id``), and a schema pydantic makes of a
model holding one (``TypeAdapter(list[sv.Outcome])``, a web framework's request body) has its
dates, numbers and text checked as ``sv.json_schema`` checks them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, GetJsonSchemaHandler
from pydantic.json_schema import (
    DEFAULT_REF_TEMPLATE,
    GenerateJsonSchema,
    JsonSchemaMode,
    JsonSchemaValue,
)
from pydantic_core import CoreSchema


class NeverLooserSchema(BaseModel):
    """A pydantic model whose JSON Schema is never looser than its field checks."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema,
                                     handler: GetJsonSchemaHandler, /) -> JsonSchemaValue:
        # Imported here: socialvalue_tom.schemas imports the models built on this base.
        from socialvalue_tom.schemas import tighten

        json_schema = handler(core_schema)
        # Each model's own schema, tightened once: the models inside it are their own $defs,
        # tightened when theirs is made.
        tighten(handler.resolve_ref_schema(json_schema))
        return json_schema

    @classmethod
    def model_json_schema(cls, by_alias: bool | None = None,
                          ref_template: str = DEFAULT_REF_TEMPLATE,
                          schema_generator: type[GenerateJsonSchema] = GenerateJsonSchema,
                          mode: JsonSchemaMode = "validation", **kwargs: Any) -> dict[str, Any]:
        """pydantic's ``model_json_schema``, made with the library's generator (which checks a
        map's keys as the model reads them) unless the caller gives another."""
        from socialvalue_tom.schemas import NeverLooser

        if schema_generator is GenerateJsonSchema:
            schema_generator = NeverLooser
        if by_alias is not None:  # pydantic before 2.14 takes a bool only: None is its default
            kwargs["by_alias"] = by_alias
        return super().model_json_schema(ref_template=ref_template,
                                         schema_generator=schema_generator, mode=mode, **kwargs)
