"""Retry policies of the steps that call MLflow or Milvus over the network.

A tracking server restarting or a Milvus node failing over is usually back within
seconds, so these steps retry three times with exponential backoff and jitter (5 s,
10 s, 20 s, each +/- up to the delay) before the run fails and alerts.

Only idempotent steps retry: ``model_evaluation`` (at worst one more finished MLflow
run), ``item_embeddings`` (reads a bundle), ``baseline_model`` (registers only when the
data fingerprint changed) and ``milvus_collection`` (a retry first drops the collection
a failed attempt may have partly written).
``registered_model`` and the rollback op do not: a retry after a partial success would
register a second version or roll back twice. Their MLflow calls still ride out short
outages through MLflow's own HTTP retries (``MLFLOW_HTTP_REQUEST_MAX_RETRIES``).
"""

import dagster as dg

NETWORK_RETRY = dg.RetryPolicy(
    max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
