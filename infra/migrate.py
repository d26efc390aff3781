"""Run Alembic programmatically: the CLI, ``make run`` and the tests make the schema so.

The migrations are the package resource ``infra:migrations`` (inside the installed package, wheel
or editable), so no ``alembic.ini`` and no source tree are needed; ``alembic.ini`` at the root
points at the same place for developers running ``alembic revision --autogenerate``."""

from alembic import command
from alembic.config import Config

SCRIPT_LOCATION = "infra:migrations"
FILE_TEMPLATE = "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise when the models and the migrations disagree."""
    command.check(alembic_config(database_url))
