"""Settings: one object, read from ``GBREC_*`` environment variables and passed down.

Nothing deep inside gbrec reads the environment: entry points (CLI, Dagster
resources, the API lifespan) build a :class:`Settings` and hand it to the code
that needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Scale = Literal["tiny", "small", "goodbooks"]
Environment = Literal["dev", "production"]
VectorBackend = Literal["faiss", "hnsw", "milvus", "exact"]


class Settings(BaseSettings):
    """Every knob of gbrec; see the configuration table in the README."""

    model_config = SettingsConfigDict(env_prefix="GBREC_", extra="ignore", protected_namespaces=())

    home: Path = Field(default=Path(".gbrec"), description="State folder for all embedded engines.")
    env: Environment = Field(default="dev", description="dev enables GraphiQL and introspection.")

    # data
    dataset: str = Field(
        default="synthetic",
        description="'synthetic', 'goodbooks-10k' (download) or a folder of GoodBooks CSVs.",
    )
    synthetic_scale: Scale = "goodbooks"
    synthetic_seed: int = 42
    download_url: str = (
        "https://github.com/zygmuntz/goodbooks-10k/releases/download/v1.0/goodbooks-10k.zip"
    )
    download_sha256: str | None = Field(
        default=None, description="Optional sha256 the downloaded zip must match."
    )
    min_user_ratings: int = Field(default=1, ge=0, description="Validation: minimum ratings/user.")

    # models and evaluation
    primary_metric: str = "ndcg"
    eval_k: int = Field(default=10, ge=1)
    als_factors: int = Field(default=64, ge=1)
    als_iterations: int = Field(default=15, ge=1)

    # MLflow and the registry
    mlflow_tracking_uri: str | None = None
    mlflow_artifact_root: str | None = None
    mlflow_experiment: str = "gbrec"
    model_name: str = "goodbooks_recommender"
    promotion_tolerance: float = Field(default=0.01, ge=0.0)

    # serving
    model_watch_interval: float = Field(default=300.0, gt=0)
    model_cache_size: int = Field(default=3, ge=1)
    model_cache_max_bytes: int = Field(default=4 * 1024**3, gt=0)

    # redis and experiments
    redis_url: str | None = None
    event_retention_days: int = Field(default=30, ge=1)
    event_buffer_size: int = Field(default=100_000, ge=0)
    experiment_cache_seconds: float = Field(
        default=1.0, ge=0.0, description="How long a process reuses an experiment definition."
    )
    experiment_snapshot_seconds: float = Field(
        default=60.0, ge=0.0, description="Minimum interval between stored result snapshots."
    )

    # vector index
    vector_backend: VectorBackend = "faiss"
    index_kind: str = "faiss-hnsw"
    index_shards: int = Field(default=4, ge=1)
    milvus_uri: str | None = None

    # api
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    require_key_for_reads: bool = False
    mutation_rate_limit: int = Field(default=60, ge=1, description="Mutations per key per minute.")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    event_rate_limit: int = Field(
        default=6000, ge=1, description="recordEvents calls per key per minute."
    )
    graphql_max_depth: int = Field(default=10, ge=2, description="Deepest selection allowed.")
    graphql_max_aliases: int = Field(default=30, ge=0, description="Aliases per document.")
    graphql_max_tokens: int = Field(default=2000, ge=100, description="Tokens per document.")
    graphql_cache_size: int = Field(default=256, ge=1, description="Parse/validation LRU size.")
    audit_max_entries: int = Field(default=100_000, ge=100, description="Audit stream cap.")
    api_workers: int = Field(default=1, ge=1, description="uvicorn worker processes.")

    # orchestration
    freshness_warn_days: float = 5.0
    freshness_fail_days: float = 7.0
    retrain_cron: str = "0 3 * * 1"
    degradation_threshold: float = Field(default=0.1, ge=0.0, le=1.0)
    alert_webhook_url: str | None = None
    alert_smtp_host: str | None = None
    alert_smtp_port: int = 25
    alert_email_to: str | None = None
    alert_email_from: str = "gbrec@localhost"

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{self.resolved_home / 'mlflow.db'}"

    @property
    def artifact_root(self) -> str:
        if self.mlflow_artifact_root:
            return self.mlflow_artifact_root
        return (self.resolved_home / "mlartifacts").as_uri()

    @property
    def data_dir(self) -> Path:
        return self.resolved_home / "data"

    @property
    def index_dir(self) -> Path:
        return self.resolved_home / "indices"

    @property
    def redis_socket(self) -> Path:
        return self.resolved_home / "redis" / "redis.sock"

    @property
    def resolved_milvus_uri(self) -> str:
        return self.milvus_uri or str(self.resolved_home / "milvus" / "milvus.db")

    def ensure_home(self) -> Path:
        home = self.resolved_home
        home.mkdir(parents=True, exist_ok=True)
        return home
