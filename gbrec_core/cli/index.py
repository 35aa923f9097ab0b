"""``gbrec index rebuild``: the CLI twin of ``rebuildVectorIndex``.

Rebuilds the champion's vector index folder from its stored item vectors (or the
bundle's), signed and tuned to ``GBREC_INDEX_TARGET_RECALL``, audited like the
mutation. An API process swaps the rebuilt folder in when it next loads the version
(the mutation also swaps it into the answering process at once).
"""

from __future__ import annotations

import typer

from gbrec_core.access.audited import operator_id, run_audited
from gbrec_core.cli.output import attempt, emit_json
from gbrec_core.serving.index_info import IndexBuildInfo
from gbrec_core.settings import Settings

app = typer.Typer(help="The vector index of the served version.", no_args_is_help=True)


def _rebuild(settings: Settings) -> IndexBuildInfo:
    from gbrec_core.serving import CountingObserver
    from gbrec_core.serving.stack import ServingStack

    stack = ServingStack.open(settings, CountingObserver(), one_off=True)
    try:
        return stack.indexes.rebuild()
    finally:
        stack.close()


@app.command("rebuild")
def rebuild() -> None:
    """Rebuild the champion's index from its stored vectors; prints what was built."""
    settings = Settings()
    built = attempt(
        lambda: run_audited(
            settings,
            key_id=operator_id(),
            operation="rebuildVectorIndex",
            arguments={},
            action=lambda: _rebuild(settings),
            summary=IndexBuildInfo.summary,
        )
    )
    emit_json(built.summary())
