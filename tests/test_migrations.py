"""Migrations are numbered uniquely and typed as what they receive; a renumbered one never runs twice."""

import inspect
import pkgutil
from collections import Counter

from services import migrations
from services.store import Schema, Store, _migration_modules


def test_every_migration_number_is_used_once():
    numbers = Counter(m.name.split("_")[0] for m in pkgutil.iter_modules(migrations.__path__) if m.name.startswith("m"))
    assert [n for n, count in numbers.items() if count > 1] == []


def test_every_migration_takes_the_schema_it_is_given():
    for name, module in _migration_modules():
        annotation = inspect.signature(module.up, eval_str=True).parameters["db"].annotation
        assert annotation is Schema, name


def test_a_database_that_ran_the_old_m600_user_keys_does_not_run_it_again(database):
    store = Store(database)
    store.execute("delete from schema_migrations where name = ?", ["m601_user_keys"])
    store.execute("insert into schema_migrations (name, applied_at) values (?, ?)", ["m600_user_keys", 1.0])
    store.execute("insert into user_keys (user_id, ciphertext) values (?, ?)", ["U1", "sealed"])
    store.close()

    again = Store(database)  # would fail on "table user_keys already exists" if it ran again
    assert again.applied == []
    names = {r["name"] for r in again.execute("select name from schema_migrations")}
    assert {"m600_user_keys", "m601_user_keys"} <= names
    assert again.execute("select ciphertext from user_keys where user_id = ?", ["U1"])[0]["ciphertext"] == "sealed"
    again.close()
    assert Store(database).applied == []


def test_a_fresh_database_runs_the_renumbered_migration(database):
    store = Store(database)
    assert "m601_user_keys" in store.applied and "m600_user_keys" not in store.applied
    assert store.execute("select count(*) as n from user_keys")[0]["n"] == 0
    store.close()
