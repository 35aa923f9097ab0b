"""Settings: one object, read from ``GBREC_*`` environment variables and passed down.

Nothing deep inside gbrec reads the environment: entry points (CLI, Dagster
resources, the API lifespan) build a :class:`Settings` and hand it to the code
that needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Scale = Literal["tiny", "small", "goodbooks"]
Environment = Literal["dev", "production"]
LogFormat = Literal["json", "text"]
VectorBackend = Literal["faiss", "hnsw", "milvus", "exact"]
IndexStorage = Literal["flat", "sq8"]
OnlineMetricName = Literal["ctr", "precision"]
DeliveryMode = Literal["experiment", "gate"]


def _comma_list(value: object, kind: type) -> object:
    """``"0.05,0.2"`` (an environment variable) as a tuple; other values unchanged."""
    if isinstance(value, str):
        return tuple(kind(part.strip()) for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    """Every knob of gbrec; see the configuration table in the README."""

    # A .env file in the working directory is read too; real environment variables win.
    model_config = SettingsConfigDict(
        env_prefix="GBREC_",
        env_file=".env",
        extra="ignore",
        protected_namespaces=(),
    )

    home: Path = Field(default=Path(".gbrec"), description="State folder for all embedded engines.")
    env: Environment = Field(
        default="dev",
        description="dev enables GraphiQL, introspection and keyless reads; production "
        "fails closed (every operation needs a key, GET /graphql answers 405).",
    )
    log_format: LogFormat | None = Field(
        default=None, description="Log lines as json or text; default json in production."
    )
    pseudonym_key: str | None = Field(
        default=None,
        description="HMAC key that pseudonymises user ids in Redis; default a random key "
        "generated into $GBREC_HOME/secrets.",
    )
    signing_key: str | None = Field(
        default=None,
        description="HMAC key that signs model bundles and index manifests; default a "
        "random key generated into $GBREC_HOME/secrets.",
    )

    # data
    dataset: str = Field(
        default="synthetic",
        description="'synthetic', 'goodbooks-10k' (download) or a folder of GoodBooks CSVs.",
    )
    synthetic_scale: Scale = Field(
        default="goodbooks",
        description="Synthetic data size: tiny, small or goodbooks (53k users, 6M ratings).",
    )
    synthetic_seed: int = Field(
        default=42, description="Seed of the synthetic generator (same seed, same files)."
    )
    download_url: str = Field(
        default="https://github.com/zygmuntz/goodbooks-10k/releases/download/v1.0/goodbooks-10k.zip",
        description="Where `gbrec data download` fetches the real data set's zip.",
    )
    download_sha256: str | None = Field(
        default=None, description="Optional sha256 the downloaded zip must match."
    )
    min_user_ratings: int = Field(default=1, ge=0, description="Validation: minimum ratings/user.")

    # models and evaluation
    primary_metric: str = Field(
        default="ndcg", description="Offline metric (at eval_k) used to pick and gate models."
    )
    eval_k: int = Field(default=10, ge=1, description="Cut-off k of the offline evaluation.")
    als_factors: int = Field(default=64, ge=1, description="ALS latent factors.")
    als_iterations: int = Field(default=15, ge=1, description="ALS iterations.")

    # MLflow and the registry
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking/registry URI; default sqlite:///$GBREC_HOME/mlflow.db.",
    )
    mlflow_artifact_root: str | None = Field(
        default=None,
        description="Artifact location for new experiments; default $GBREC_HOME/mlartifacts.",
    )
    mlflow_experiment: str = Field(
        default="gbrec", description="MLflow experiment holding the training runs."
    )
    model_name: str = Field(
        default="goodbooks_recommender", description="Registered model name in the MLflow registry."
    )
    promotion_tolerance: float = Field(
        default=0.01,
        ge=0.0,
        description="Gate: a challenger may trail the champion's metric by this relative amount.",
    )

    # serving
    model_watch_interval: float = Field(
        default=300.0, gt=0, description="Seconds between polls of the registry's champion alias."
    )
    model_cache_size: int = Field(
        default=3, ge=1, description="Model versions kept in memory per API process."
    )
    model_cache_max_bytes: int = Field(
        default=4 * 1024**3, gt=0, description="Memory budget of the in-memory version cache."
    )
    precompute_depth: int = Field(
        default=100,
        ge=0,
        le=1000,
        description="Books per user ranked in the background for each loaded version and "
        "served from memory (0: score every request with the model).",
    )
    precompute_max_bytes: int = Field(
        default=1024**3,
        gt=0,
        description="Largest precomputed table per version (users x depth x 8 bytes); "
        "bigger models are scored per request.",
    )

    # redis and experiments
    redis_url: str | None = Field(
        default=None,
        description="Redis/Valkey URL (redis://, rediss://, unix://), or a Redis Cluster's "
        "nodes: redis+cluster://host:port[,host:port...] (rediss+cluster:// for TLS); "
        "default an embedded redis-server under $GBREC_HOME/redis.",
    )
    event_retention_days: int = Field(
        default=30, ge=1, description="Raw experiment events older than this are trimmed."
    )
    event_buffer_size: int = Field(
        default=100_000, ge=0, description="Events buffered in memory while Redis is unreachable."
    )
    experiment_cache_seconds: float = Field(
        default=1.0, ge=0.0, description="How long a process reuses an experiment definition."
    )
    experiment_snapshot_seconds: float = Field(
        default=60.0, ge=0.0, description="Minimum interval between stored result snapshots."
    )

    # vector index
    vector_backend: VectorBackend = Field(
        default="faiss", description="Vector store: faiss, hnsw, exact or milvus."
    )
    index_kind: str = Field(
        default="faiss-hnsw", description="Index kind the API serves similar books from."
    )
    index_shards: int = Field(
        default=4, ge=1, description="Shards of the vector index (one Dagster partition each)."
    )
    index_target_recall: float = Field(
        default=0.95,
        gt=0.0,
        le=1.0,
        description="Recall@10 an approximate index must reach on held-out queries; the "
        "build picks the cheapest search parameter that does.",
    )
    index_storage: IndexStorage = Field(
        default="flat",
        description="How faiss-hnsw stores vectors: flat floats, or sq8 (graph walked on "
        "8-bit codes, candidates re-ranked exactly; faster from ~100k vectors).",
    )
    milvus_uri: str | None = Field(
        default=None, description="Milvus URI; default a Milvus Lite file under $GBREC_HOME/milvus."
    )

    # api
    api_host: str = Field(default="127.0.0.1", description="Address `gbrec serve` binds.")
    api_port: int = Field(default=8000, description="Port `gbrec serve` binds.")
    ssl_certfile: Path | None = Field(
        default=None, description="PEM certificate (chain): `gbrec serve` answers over HTTPS."
    )
    ssl_keyfile: Path | None = Field(
        default=None, description="PEM private key of GBREC_SSL_CERTFILE."
    )
    require_key_for_reads: bool = Field(
        default=False, description="Require a read-scope key for queries (always in production)."
    )
    read_rate_limit: int = Field(
        default=300_000,
        ge=1,
        description="Keyed reads per key per minute, per API process (when keys are required).",
    )
    address_rate_limit: int = Field(
        default=300_000,
        ge=1,
        description="Reads per client address per minute, per API process (when keys are "
        "required).",
    )
    mutation_rate_limit: int = Field(default=60, ge=1, description="Mutations per key per minute.")
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest accepted request body (413 above)."
    )
    event_rate_limit: int = Field(
        default=6000, ge=1, description="recordEvents calls per key per minute."
    )
    graphql_max_depth: int = Field(default=10, ge=2, description="Deepest selection allowed.")
    graphql_max_aliases: int = Field(default=30, ge=0, description="Aliases per document.")
    graphql_max_tokens: int = Field(default=2000, ge=100, description="Tokens per document.")
    graphql_max_cost: int = Field(
        default=20_000,
        ge=1,
        description="Largest estimated cost of a document (list fields weigh by their "
        "page size); above it QUERY_TOO_COSTLY.",
    )
    graphql_cache_size: int = Field(default=256, ge=1, description="Parse/validation LRU size.")
    graphql_compiled: bool = Field(
        default=True,
        description="Execute hot queries (recommendations) through compiled plans; "
        "false sends every request through Strawberry's standard execution.",
    )
    audit_max_entries: int = Field(default=100_000, ge=100, description="Audit stream cap.")
    api_workers: int = Field(default=1, ge=1, description="uvicorn worker processes.")

    # orchestration
    keep_versions: int = Field(
        default=10,
        ge=1,
        description="Registry versions kept; older ones without an alias are pruned with "
        "their bundles, index folders and Milvus collections.",
    )
    freshness_warn_days: float = Field(
        default=5.0, description="Trained models warn as stale after this many days."
    )
    freshness_fail_days: float = Field(
        default=7.0, description="Trained models fail freshness (and retrain) after this many days."
    )
    retrain_cron: str = Field(
        default="0 3 * * 1", description="Weekly retraining tick (cron, UTC)."
    )
    degradation_threshold: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Relative drop of the champion's online metric (recent window vs "
        "reference) that requests a retrain, when also significant.",
    )
    online_metric: OnlineMetricName = Field(
        default="ctr",
        description="Online metric the degradation sensor tests: ctr (requests with a click "
        "/ requests) or precision (clicked shown books / shown books).",
    )
    online_window_hours: int = Field(
        default=24, ge=1, description="Degradation sensor: length of the recent window (hours)."
    )
    online_reference_hours: int = Field(
        default=168,
        ge=1,
        description="Degradation sensor: the reference window, just before the recent one (hours).",
    )
    online_settle_minutes: float = Field(
        default=60.0,
        ge=0.0,
        description="The recent window ends this long before now, so its last responses "
        "have had time to collect their clicks.",
    )
    online_min_requests: int = Field(
        default=1000,
        ge=2,
        description="Requests each window needs before the degradation sensor judges.",
    )
    online_alpha: float = Field(
        default=0.01,
        gt=0.0,
        lt=1.0,
        description="Significance level of the sensor's one-sided test for a drop.",
    )
    online_attribution_minutes: float = Field(
        default=60.0,
        gt=0.0,
        description="Served responses accept feedback (clicks, ratings) this long; each "
        "is held in Redis meanwhile (~200 bytes).",
    )
    online_buffer_size: int = Field(
        default=100_000,
        ge=1,
        description="Served responses an API process holds in memory for Redis (oldest "
        "dropped when Redis is unreachable).",
    )
    online_sample_rate: float = Field(
        default=1.0,
        gt=0.0,
        le=1.0,
        description="Share of responses logged for online metrics (by request id hash).",
    )
    alert_webhook_url: str | None = Field(
        default=None,
        description="Alerts (failed runs and checks, retrains, delivery decisions) are "
        "POSTed here (JSON).",
    )
    alert_smtp_host: str | None = Field(default=None, description="SMTP server for alert e-mails.")
    alert_smtp_port: int = Field(default=25, description="SMTP port.")
    alert_email_to: str | None = Field(default=None, description="Recipient of alert e-mails.")
    alert_email_from: str = Field(default="gbrec@localhost", description="Sender of alert e-mails.")
    alert_smtp_user: str | None = Field(
        default=None, description="SMTP login user (with GBREC_ALERT_SMTP_PASSWORD)."
    )
    alert_smtp_password: str | None = Field(default=None, description="SMTP login password.")
    alert_smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS before login."
    )
    dashboard_url: str | None = Field(
        default=None,
        description="Public URL of the A/B dashboard, linked from alerts; default "
        "http://GBREC_API_HOST:GBREC_API_PORT/dashboard.",
    )

    # model delivery (the closed loop)
    delivery: DeliveryMode = Field(
        default="experiment",
        description="experiment: a gate-passing challenger earns promotion through a staged "
        "champion-challenger A/B test (the first version becomes champion directly); gate: "
        "it becomes champion at once.",
    )
    delivery_stages: Annotated[tuple[float, ...], NoDecode] = Field(
        default=(0.05, 0.2, 0.5),
        description="Coverage of each stage of a challenger experiment (comma-separated).",
    )
    delivery_min_users: int = Field(
        default=100, ge=1, description="Users per arm a stage needs before it can advance."
    )
    delivery_guardrails: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("precision",),
        description="Guardrail metrics of challenger experiments (comma-separated).",
    )
    delivery_max_days: float = Field(
        default=14.0,
        gt=0,
        description="A challenger experiment still undecided after this "
        "many days ends STOPPED, champion unchanged.",
    )
    experiment_sweep_seconds: float = Field(
        default=30.0, gt=0, description="Period of the sweep that decides experiments."
    )
    experiment_history_days: float = Field(
        default=30.0, gt=0, description="Result snapshots older than this are trimmed."
    )

    @field_validator("delivery_stages", mode="before")
    @classmethod
    def _stages(cls, value: object) -> object:
        return _comma_list(value, float)

    @field_validator("delivery_guardrails", mode="before")
    @classmethod
    def _guardrails(cls, value: object) -> object:
        return _comma_list(value, str)

    @property
    def resolved_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env == "production" else "text"

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

    def index_params(self, kind: str) -> dict[str, Any]:
        """Build parameters of index ``kind`` that the settings choose."""
        return {"storage": self.index_storage} if kind == "faiss-hnsw" else {}

    @property
    def resolved_milvus_uri(self) -> str:
        return self.milvus_uri or str(self.resolved_home / "milvus" / "milvus.db")

    def ensure_home(self) -> Path:
        home = self.resolved_home
        home.mkdir(parents=True, exist_ok=True)
        return home
