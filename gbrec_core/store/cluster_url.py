"""``redis+cluster://`` URLs: a Redis Cluster's startup nodes in one setting.

``redis+cluster://[user:password@]host:port[,host:port...][/0][?option=value...]``
(``rediss+cluster://`` for TLS) names one or more nodes of the same cluster; the client
discovers the others from them. Credentials and options (``ssl_ca_certs=...``, any
redis-py URL option) apply to every node, as with a single-server URL. A cluster has
only database 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

#: Cluster scheme -> the single-server scheme of each node's connection.
SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
DEFAULT_PORT = 6379


@dataclass(frozen=True)
class ClusterUrl:
    """``first``: a plain ``redis://``/``rediss://`` URL of the first node, credentials
    and options kept (what redis-py parses); ``nodes``: every startup node."""

    first: str
    nodes: tuple[tuple[str, int], ...]


def is_cluster_url(url: str) -> bool:
    return url.partition("://")[0].lower() in SCHEMES


def parse_cluster_url(url: str) -> ClusterUrl:
    """Split a cluster URL into its nodes; ValueError naming what is wrong."""
    parts = urlsplit(url)
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(f"not a Redis Cluster URL (use {' or '.join(SCHEMES)}://)")
    if parts.path not in ("", "/", "/0"):
        raise ValueError("a Redis Cluster has only database 0; drop the path of the URL")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    nodes = tuple(_node(text) for text in hosts.split(","))
    credentials = f"{userinfo}@" if userinfo else ""
    host, port = nodes[0]
    netloc = f"{credentials}{_bracketed(host)}:{port}"
    first = urlunsplit((scheme, netloc, "", parts.query, ""))
    return ClusterUrl(first=first, nodes=nodes)


def _node(text: str) -> tuple[str, int]:
    """``host:port``, ``host`` (port 6379) or ``[ipv6]:port``."""
    if not text:
        raise ValueError("a Redis Cluster URL needs at least one host:port")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = text.partition(":")
    if not host:
        raise ValueError(f"no host in {text!r} of the Redis Cluster URL")
    if not port:
        return host, DEFAULT_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad port in {text!r} of the Redis Cluster URL")
    return host, int(port)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host
