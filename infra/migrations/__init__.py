"""The schema's migrations (Alembic: ``env.py``, ``script.py.mako``, ``versions/``), shipped inside
the installed package so that ``shortlist migrate`` needs no source tree: Alembic finds them as the
package resource ``infra:migrations`` (see ``infra.migrate``)."""
