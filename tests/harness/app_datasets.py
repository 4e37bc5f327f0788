"""Application-shaped databases that the end-to-end tests and `make compare` share.

Pagila (the PostgreSQL sample application, dumped from PostgreSQL 18) with a few seeded rows,
and a Laravel/WordPress-shaped MariaDB schema with the values MySQL applications really hold
(zero dates, TINYINT(1) flags other than 0 and 1, a case-insensitive unique e-mail).
"""

from __future__ import annotations

import psycopg

from harness.catalog import Probe
from harness.databases import Database
from harness.datasets import SHARED, load_dump_postgresql

PAGILA = SHARED / "datasets" / "pagila" / "pagila-schema.sql"
# The servers here run PostgreSQL 15: stand-ins for what 18 added (uuidv7(), virtual generated columns).
PG15_STAND_INS = {"uuidv7()": "gen_random_uuid()", ") VIRTUAL": ") STORED"}
# pgvector is not installed here: its extension and the one table using it are left out.
PAGILA_DROP = ("Name: vector;", "EXTENSION vector", "public.vector", "film_embedding")

PAGILA_SEED = (
    "INSERT INTO language (name) VALUES ('English')",
    "INSERT INTO country (country) VALUES ('Nowhere')",
    "INSERT INTO city (city, country_id) VALUES ('Town', 1)",
    "INSERT INTO address (address, district, city_id, phone) VALUES ('1 Main St', 'D', 1, '555')",
    # store and staff reference each other: load them as a restore does, without the FK triggers.
    "SET session_replication_role = replica",
    "INSERT INTO staff (first_name, last_name, address_id, store_id, username) "
    "VALUES ('Mike', 'H', 1, 1, 'mike')",
    "INSERT INTO store (manager_staff_id, address_id) VALUES (1, 1)",
    "SET session_replication_role = origin",
    "INSERT INTO customer (store_id, first_name, last_name, email, address_id, active) "
    "VALUES (1, 'Mary', 'Smith', 'mary@example.com', 1, 1), (1, 'Pat', 'Jones', NULL, 1, 1)",
    "INSERT INTO actor (first_name, last_name) VALUES ('Penelope', 'Guiness'), ('Nick', 'Wahlberg')",
    "INSERT INTO category (name) VALUES ('Action')",
    "INSERT INTO film (title, description, release_year, language_id, rating, length) VALUES "
    "('Academy Dinosaur', 'An epic drama of a dentist', 2006, 1, 'PG', 86), "
    "('Ace Goldfinger', 'A thriller about a database', 2006, 1, 'G', 48)",
    "INSERT INTO film_actor (actor_id, film_id) VALUES (1, 1), (2, 1), (2, 2)",
    "INSERT INTO film_category (film_id, category_id) VALUES (1, 1), (2, 1)",
    "INSERT INTO inventory (film_id, store_id) VALUES (1, 1), (2, 1)",
    "INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id) VALUES "
    "('2022-05-24 22:53:30+00', 1, 1, 1), ('2022-06-01 10:00:00+00', 2, 2, 1)",
    "INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date) VALUES "
    "(1, 1, 1, 2.99, '2022-05-25 11:30:37+00'), (2, 1, 2, 0.99, '2022-06-02 10:00:00+00')",
    "REFRESH MATERIALIZED VIEW rental_by_category",
)


def load_pagila(db: Database) -> None:
    """Pagila's schema and `PAGILA_SEED` into `db` (connect as a superuser: it creates extensions)."""
    load_dump_postgresql(db, PAGILA, drop=PAGILA_DROP, replace=PG15_STAND_INS)
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        for statement in PAGILA_SEED:
            conn.execute(statement)


# The web application's MariaDB tables and rows.
WEB_APP_MARIADB = (
    """CREATE TABLE users (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
      email varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL, name varchar(255) NOT NULL,
      is_admin tinyint(1) NOT NULL DEFAULT 0, created_at timestamp NULL DEFAULT NULL,
      updated_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
      UNIQUE KEY users_email_unique (email), KEY users_name_prefix (name(20))
    ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    """CREATE TABLE posts (ID bigint(20) unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
      post_author bigint(20) unsigned NOT NULL DEFAULT 0,
      post_date datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
      post_title text NOT NULL, post_content longtext NOT NULL, post_name varchar(200) NOT NULL DEFAULT '',
      sticky tinyint(1) NOT NULL DEFAULT 0,
      KEY post_name (post_name(191)), FULLTEXT KEY post_search (post_title, post_content)
    ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    "INSERT INTO users (email, name, is_admin, created_at, updated_at) VALUES "
    "('Ada@Example.org', 'Ada', 2, '2024-01-02 03:04:05', '2024-01-02 03:04:05'), "
    "('bob@example.org', 'Bob', 0, NULL, '2024-01-03 00:00:00')",
    "INSERT INTO posts (post_author, post_date, post_title, post_content, post_name, sticky) VALUES "
    "(1, '0000-00-00 00:00:00', 'Draft', 'not yet written', 'draft', 0), "
    "(1, '2024-02-01 10:00:00', 'Ferry boats', 'crossing the harbour at dawn', 'ferry-boats', 7), "
    "(2, '2024-02-02 00:00:00', 'Bridges', 'steel and stone', 'bridges', 1)",
)

# What the application does on a target of a migration: `make compare` probes each.
PAGILA_PROBES = (
    Probe(
        "INSERT without an id continues the sequence",
        "SELECT max(actor_id) = 3 FROM actor",
        ("INSERT INTO actor (first_name, last_name) VALUES ('Ed', 'Chase')",),
    ),
    Probe(
        "last_update trigger fires on UPDATE",
        "SELECT last_update > now() - interval '1 minute' FROM actor WHERE actor_id = 1",
        (
            "UPDATE actor SET last_update = '2000-01-01' WHERE actor_id = 1",
            "UPDATE actor SET last_name = 'GUINESS' WHERE actor_id = 1",
        ),
    ),
    Probe(
        "domain `year` refuses 1800", "UPDATE film SET release_year = 1800 WHERE film_id = 1", refused=True
    ),
    Probe("enum mpaa_rating refuses 'X'", "UPDATE film SET rating = 'X' WHERE film_id = 1", refused=True),
    Probe("view film_list reads", "SELECT min(title) = 'Academy Dinosaur' FROM film_list"),
    Probe(
        "materialized view rental_by_category filled",
        "SELECT total_sales = 3.98 FROM rental_by_category WHERE category = 'Action'",
    ),
    Probe("function inventory_in_stock(1)", "SELECT inventory_in_stock(1) IS false"),
    Probe(
        "aggregate group_concat",
        "SELECT group_concat(first_name ORDER BY actor_id) = 'Penelope, Nick' FROM actor",
    ),
    Probe(
        "full-text trigger keeps film.fulltext current",
        "SELECT count(*) = 1 FROM film WHERE fulltext @@ to_tsquery('crocodile')",
        ("UPDATE film SET description = 'A story of a crocodile' WHERE film_id = 2",),
    ),
    Probe(
        "a new payment lands in its month's partition",
        "SELECT tableoid::regclass::text = 'payment_p2022_07' FROM payment WHERE payment_id = 100",
        (
            "INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) "
            "VALUES (100, 1, 1, 1, 5.00, '2022-07-04 12:00:00+00')",
        ),
    ),
    Probe(
        "foreign key refuses an unknown customer",
        "INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) "
        "VALUES (101, 99, 1, 1, 5.00, '2022-06-05 12:00:00+00')",
        refused=True,
    ),
)

WEB_APP_COLUMNS = (
    ("users", "id"),
    ("users", "email"),
    ("users", "is_admin"),
    ("users", "updated_at"),
    ("posts", "id"),
    ("posts", "post_date"),
    ("posts", "sticky"),
)

WEB_APP_PROBES = (
    Probe(
        "INSERT without an id continues the counter (3)",
        "SELECT max(id) = 3 FROM users",
        ("INSERT INTO users (email, name) VALUES ('carol@example.org', 'Carol')",),
    ),
    Probe(
        "unique email refuses a case variant",
        "INSERT INTO users (email, name) VALUES ('ada@example.ORG', 'Imposter')",
        refused=True,
    ),
    Probe(
        "UPDATE moves updated_at",
        "SELECT updated_at > now() - interval '1 minute' FROM users WHERE name = 'Ada L.'",
        ("UPDATE users SET name = 'Ada L.' WHERE email = 'Ada@Example.org'",),
    ),
    Probe(
        "full-text GIN index on posts",
        "SELECT count(*) >= 1 FROM pg_indexes WHERE tablename = 'posts' AND indexdef LIKE '%USING gin%'",
    ),
    Probe(
        "full-text query finds a post",
        "SELECT count(*) = 1 FROM posts WHERE to_tsvector('simple', post_title || ' ' || post_content)"
        " @@ plainto_tsquery('simple', 'harbour')",
    ),
    Probe("zero date arrived as NULL", "SELECT post_date IS NULL FROM posts WHERE post_name = 'draft'"),
    Probe(
        "TINYINT(1) 7 and 2 read as true",
        "SELECT bool_and(sticky::text IN ('true', '1', 't')) FROM posts WHERE post_name = 'ferry-boats'",
    ),
    Probe(
        "a zero-date post can still be written",
        "SELECT count(*) = 4 FROM posts",
        ("INSERT INTO posts (post_title, post_content) VALUES ('New', 'body')",),
    ),
)
