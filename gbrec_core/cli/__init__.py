"""The ``gbrec`` command line.

Core commands live here; commands that need Dagster or the API server are
contributed by ``gbrec_assets`` and ``gbrec_graphql`` through the ``gbrec.cli``
entry-point group, so that gbrec_core never imports either package.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

app = typer.Typer(
    name="gbrec",
    help="gbrec: GoodBooks recommendation platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _register_core() -> None:
    from gbrec_core.cli import (
        audit,
        backup,
        data,
        demo,
        experiments,
        index,
        keys,
        models,
        recommend,
        retention,
        train,
        users,
    )

    app.add_typer(data.app, name="data")
    app.add_typer(keys.app, name="keys")
    app.add_typer(audit.app, name="audit")
    app.add_typer(models.app, name="models")
    app.add_typer(experiments.app, name="experiments")
    app.add_typer(users.app, name="users")
    app.add_typer(index.app, name="index")
    train.register(app)
    app.command("recommend")(recommend.recommend)
    app.command("demo")(demo.demo)
    backup.register(app)
    retention.register(app)


def _register_plugins() -> None:
    for entry in entry_points(group="gbrec.cli"):
        entry.load()(app)


_registered = False


def main() -> None:
    """Console-script entry point."""
    global _registered
    if not _registered:
        _register_core()
        _register_plugins()
        _registered = True
    app()
