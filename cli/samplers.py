"""``dllm samplers``: the registry with each sampler's parameters and defaults."""

from __future__ import annotations

import dataclasses
import json

import click
from rich.console import Console
from rich.table import Table

from dllm.samplers import available_samplers


def _default(field: dataclasses.Field):
    return field.default if field.default is not dataclasses.MISSING else None


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def samplers(as_json: bool) -> None:
    """List registered samplers (built-in and entry-point group ``dllm.samplers``)."""
    registry = available_samplers()
    if as_json:
        data = {name: {"summary": cls.summary(), "module": cls.__module__,
                       "parameters": {f.name: _default(f) for f in cls.parameters()}} for name, cls in registry.items()}
        click.echo(json.dumps(data))
        return
    table = Table(title="dllm samplers")
    table.add_column("name", style="bold")
    table.add_column("parameters (defaults)")
    table.add_column("description")
    for name, cls in registry.items():
        params = ", ".join(f"{f.name}={_default(f)!r}" for f in cls.parameters()) or "-"
        table.add_row(name, params, cls.summary())
    Console().print(table)
