"""Spark over the lake: a session in local mode, on a cluster (a master URL) or through a Spark Connect endpoint,
that says in one sentence within seconds why it cannot start; and a lake's tables as Spark DataFrames.

Nothing is downloaded when a session starts (no `spark.jars.packages`): Parquet is Spark's own format.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import warnings
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from store import lake
from store.errors import LakeError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

REMOTE_ENV = "TANDEM_SPARK_REMOTE"  # sc://host:port (Spark Connect) or a master URL (spark://..., yarn, local[4])
LOCAL = "local[2]"
TIMEOUT_S = 10.0  # how long an endpoint may take to answer before we say it does not
CONNECT_PORT = 15002  # Spark Connect's default port
MASTER_PORT = 7077  # a standalone master's default port
LOG4J = Path(__file__).with_name("lake_log4j2.properties")  # errors only: Spark's INFO lines are not for users
MIN_JAVA = 17  # Spark 4 runs on Java 17 and 21

# Spark Connect's client warns when it gives up retrying, then raises: the error is said, in one sentence, once.
warnings.filterwarnings("ignore", message=r"\[RETRIES_EXCEEDED\]", category=UserWarning)


def session(remote: str | None = None, *, timeout_s: float = TIMEOUT_S, driver_memory: str | None = None,
            warehouse: Path | None = None, shuffle_partitions: int = 2) -> SparkSession:
    """A Spark session on `remote` (default: $TANDEM_SPARK_REMOTE, else local mode on two cores).

    `sc://host:port` is a Spark Connect endpoint, anything else a master URL. An endpoint that does not answer
    within `timeout_s` is a LakeError, never a wait: Spark Connect's client retries an unavailable server for
    ten minutes, and a driver for a standalone master that is down for a minute.
    """
    target = remote or os.environ.get(REMOTE_ENV) or LOCAL
    if target.startswith("sc://"):
        return _connect(target, timeout_s)
    return _classic(target, timeout_s, driver_memory, warehouse, shuffle_partitions)


def _classic(master: str, timeout_s: float, driver_memory: str | None, warehouse: Path | None,
             shuffle_partitions: int) -> SparkSession:
    local = master.startswith("local")
    if master.startswith("spark://"):
        for host_port in master.removeprefix("spark://").split(","):  # a standby master: host1:7077,host2:7077
            host, _, port = host_port.partition(":")
            _reachable(master, host, int(port or MASTER_PORT), timeout_s)
    _java()  # the driver runs in a JVM here whatever the master
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no lookup of the machine's public address
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(master).appName("tandem")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.warehouse.dir", str(warehouse or Path(tempfile.gettempdir()) / "tandem-spark-warehouse"))
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG4J.as_uri()}"))
    if local:
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start, or the master refused the application
        raise LakeError(f"Spark could not start on {master} ({_first_line(exc)}); check that Java {MIN_JAVA} or 21 is "
                        f"installed (apt-get install default-jre-headless) and that {REMOTE_ENV} names a cluster "
                        "this machine can reach.") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _connect(url: str, timeout_s: float) -> SparkSession:
    """A Spark Connect session, once its endpoint has answered a first request within `timeout_s`."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise LakeError(f"{REMOTE_ENV}={url} names no host; write it as sc://host:{CONNECT_PORT}.")
    _reachable(url, parts.hostname, parts.port or CONNECT_PORT, timeout_s)
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.client.retries import DefaultPolicy
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    # The first request goes through a session of its own: the builder's marks the whole process as a Spark
    # Connect client (SPARK_CONNECT_MODE_ENABLED), which it must not be when the endpoint turns out not to answer.
    probe = ConnectSession(connection=url)
    probe.client.set_retry_policies([DefaultPolicy(max_retries=1, initial_backoff=200, max_backoff=1000)])
    answered: list[object] = []

    def first_request() -> None:
        try:
            answered.append(probe.version)
        except Exception as exc:  # noqa: BLE001 - whatever it is, it is said in one sentence below
            answered.append(exc)

    asking = threading.Thread(target=first_request, daemon=True)  # a silent server would hold it for an hour
    asking.start()
    asking.join(timeout_s)
    if not answered:
        raise LakeError(f"The Spark Connect endpoint {url} accepted the connection but did not answer within "
                        f"{timeout_s:g} s; check that it is a Spark Connect server and that it is not overloaded.")
    probe.client.close()
    if isinstance(answered[0], Exception):
        raise LakeError(f"The Spark Connect endpoint {url} did not answer as a Spark Connect server "
                        f"({_first_line(answered[0])}); check {REMOTE_ENV}.")
    try:
        spark = SparkSession.builder.remote(url).getOrCreate()
    except PySparkException as exc:  # a local Spark session already runs in this process
        raise LakeError(f"Spark Connect ({url}) cannot be used from this process ({_first_line(exc)}); run the "
                        "command in a new process.") from None
    # A server that goes away later: a few quick retries, not the default ten minutes.
    spark.client.set_retry_policies([DefaultPolicy(max_retries=3, initial_backoff=200,
                                                   max_backoff=int(timeout_s * 1000))])
    close_at_exit(spark)
    return spark


def close_at_exit(spark: SparkSession) -> None:
    """Close a Spark Connect session when the process ends, before the interpreter tears down: a session left to
    its `__del__` at shutdown closes its gRPC channel after the client's threads are gone, and the process never
    exits (seen with PySpark 4.3 after `tandem kpis`, whose answer was already printed)."""
    import atexit

    def close() -> None:
        with suppress(Exception):  # a server already gone: nothing left to close
            spark.client.close()  # type: ignore[attr-defined]

    atexit.register(close)


def _reachable(url: str, host: str, port: int, timeout_s: float) -> None:
    """A TCP connection to the endpoint, or one sentence on why there is none."""
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except TimeoutError:
        raise LakeError(f"The Spark endpoint {url} does not answer ({host}:{port} did not accept a connection within "
                        f"{timeout_s:g} s); check {REMOTE_ENV} and that the cluster is up.") from None
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise LakeError(f"The Spark endpoint {url} does not answer ({host}:{port}: {why}); check {REMOTE_ENV} and that "
                        "the cluster is up.") from None


def _java() -> None:
    """Java 17 or 21 for Spark's driver, or one sentence on how to install it."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    hint = f"install Java {MIN_JAVA} or 21 (Debian: apt-get install default-jre-headless) or set {REMOTE_ENV}"
    if not java or not Path(java).exists():
        raise LakeError(f"Spark needs Java and none is installed; {hint}.")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LakeError(f"Spark needs Java and {java} does not run ({exc}); {hint}.") from None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(found.group(1)) if found else 0
    major = int(found.group(2) or 0) if major == 1 and found else major  # Java 8 says 1.8
    if major < MIN_JAVA:
        raise LakeError(f"Spark needs Java {MIN_JAVA} or later and {java} is Java {major or '?'}; {hint}.")


def _first_line(exc: BaseException) -> str:
    """What went wrong, short: a gRPC error's details (its text is a multi-line dump), else the first line."""
    text = str(exc).strip()
    details = re.search(r'details = "([^"]*)"', text)
    lines = (details.group(1) if details else text).splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def read_table(spark: SparkSession, dir: Path | str, name: str, manifest: lake.Manifest | None = None) -> DataFrame:
    """A lake table (or a view of one, such as `invoices`) as a Spark DataFrame with the store's columns.

    Files are read as they are (`recursiveFileLookup`): the month=... folders add no column, as in DuckDB.
    """
    root = Path(dir).absolute()
    manifest = manifest or lake.verify(root)
    if name in manifest.views:
        view = manifest.views[name]
        return read_table(spark, root, view.table, manifest).select(*view.columns)
    if name not in manifest.tables:
        raise LakeError(f"The lake at {root} holds no table {name}; export it again (`tandem lake export {root}`).")
    return (spark.read.option("recursiveFileLookup", "true").option("pathGlobFilter", "*.parquet")
            .parquet((root / name).as_uri()))
