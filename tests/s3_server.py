"""A real S3-speaking server for tests: moto's standalone server on a free local port.

MLflow's S3 artifact repository and boto3 talk to it over HTTP exactly as they would
to MinIO or AWS (``MLFLOW_S3_ENDPOINT_URL`` and the ``AWS_*`` variables), so nothing of
gbrec or MLflow is mocked. moto keeps the objects in memory for the server's life.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.process_support import free_port

REGION = "us-east-1"


@dataclasses.dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        """What an MLflow client needs to reach this server (as compose sets for MinIO)."""
        return {
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "gbrec-test",
            "AWS_SECRET_ACCESS_KEY": "gbrec-test-secret",
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def keys(self, prefix: str = "") -> list[str]:
        pages = (
            self.client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix)
        )
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


@contextmanager
def s3_server(bucket: str = "gbrec-artifacts") -> Iterator[S3Server]:
    """Start the server, create ``bucket``, yield; stopped afterwards."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s3 = S3Server(f"http://127.0.0.1:{port}", bucket)
        s3.client().create_bucket(Bucket=bucket)
        yield s3
    finally:
        server.stop()
