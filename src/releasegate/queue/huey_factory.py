"""Building the huey instance: SqliteHuey on a file, or RedisHuey on a URL."""

from __future__ import annotations

from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey

from releasegate.errors import ConfigError

__all__ = ["DEFAULT_NAME", "default_queue_file", "open_huey"]

#: The huey name (Redis key prefix ``huey.redis.<name>``; SQLite rows' queue name).
DEFAULT_NAME = "releasegate"
_REDIS = ("redis://", "rediss://", "unix://")


def default_queue_file(database_url: str) -> Path:
    """Where the embedded queue lives: next to a SQLite database file
    (``<name>.queue.sqlite``), else ``.releasegate/queue.sqlite`` in the current folder."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and ":memory:" not in database_url:
        db = Path(database_url[len(prefix) :].split("?", 1)[0])
        return db.with_name(db.stem + ".queue.sqlite")
    return Path(".releasegate") / "queue.sqlite"


def open_huey(location: str | Path, *, name: str = DEFAULT_NAME) -> Huey:
    """The queue at ``location``: a ``redis://`` URL (RedisHuey) or a SQLite file path
    (SqliteHuey; its folder is created). Results are not stored: jobs write to the
    database.

    Raises:
        ConfigError: a URL of another scheme (``amqp://``), or the huey name is empty.
    """
    if not name.strip():
        raise ConfigError("the queue name must not be empty")
    text = str(location)
    if text.startswith(_REDIS):
        return RedisHuey(name, url=text, results=False, utc=True)
    if "://" in text:
        raise ConfigError(
            f"online.queue: {text.split('://', 1)[0]}:// is not a supported queue; give a "
            "redis:// URL or a SQLite file path"
        )
    path = Path(text).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(path), results=False, utc=True, timeout=30)
