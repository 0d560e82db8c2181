"""A SQLite database shaped like a small Mexican shop's POS (products, customers, sales, sale lines)
of a requested size: ``make_pos_database``.

Everything comes from ``random.Random(seed)``, so one seed always gives the same data. The catalogs
(catalog.json) are built in Python; the bulk rows (sales and their lines) are computed by SQLite itself
from batches of random numbers passed as one JSON array, which is what makes a 1 GiB database take
seconds instead of minutes: per row, Python only formats one integer.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
from array import array
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib import resources
from itertools import chain, repeat
from pathlib import Path

logger = logging.getLogger(__name__)

# First ticket of the history; tickets then advance day by day during opening hours.
_HISTORY_START = int(datetime(2016, 1, 4, tzinfo=UTC).timestamp())
_SALES_PER_DAY = 480
_OPENING_SECONDS = 9 * 3600
_OPEN_HOURS_SECONDS = 12 * 3600

# Lines per ticket: 1..16 (4.3 on average), most tickets are short.
_LINES_PER_SALE = list(range(1, 17))
_LINES_WEIGHTS = [20, 16, 13, 11, 9, 7, 6, 4, 3, 3, 2, 2, 1, 1, 1, 1]

# Random bits are turned into attributes through small lookup tables (4096 rows each) rather than
# CASE chains: a rowid lookup is cheaper than evaluating expressions for every row.
_KINDS = 4096

# Size of the bulk indexes once built (sorted, so pages are full), per row; measured on 1 GiB files.
_INDEX_BYTES_PER_LINE = 24.0
_INDEX_BYTES_PER_SALE = 38.0

# Column layout after the POS systems this app backs up (SICAR-like): wide rows, prices and amounts
# with and without tax, unrounded REALs. That width is what makes real files compress to ~0.4.
_SCHEMA = """
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    barcode TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    unit TEXT NOT NULL,
    cost REAL NOT NULL,
    price REAL NOT NULL,
    tax_rate REAL NOT NULL,
    stock REAL NOT NULL,
    min_stock REAL NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX products_name ON products(name);
CREATE INDEX products_category ON products(category);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    rfc TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    address TEXT,
    postal_code TEXT,
    credit_limit REAL NOT NULL,
    credit_balance REAL NOT NULL
);
CREATE INDEX customers_rfc ON customers(rfc);
CREATE INDEX customers_name ON customers(name);

CREATE TABLE cashiers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    username TEXT NOT NULL UNIQUE
);

CREATE TABLE sales (
    id INTEGER PRIMARY KEY,
    folio TEXT NOT NULL,
    created_at TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    cashier_id INTEGER NOT NULL REFERENCES cashiers(id),
    register TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    items INTEGER NOT NULL,
    subtotal REAL NOT NULL,
    discount REAL NOT NULL,
    tax REAL NOT NULL,
    total REAL NOT NULL,
    received REAL NOT NULL,
    change REAL NOT NULL,
    points INTEGER NOT NULL,
    invoice_uuid TEXT,
    status TEXT NOT NULL
);

CREATE TABLE sale_lines (
    id INTEGER PRIMARY KEY,
    sale_id INTEGER NOT NULL REFERENCES sales(id),
    line_no INTEGER NOT NULL,
    product_id INTEGER NOT NULL REFERENCES products(id),
    sku TEXT NOT NULL,
    description TEXT NOT NULL,
    qty REAL NOT NULL,
    unit TEXT NOT NULL,
    list_price REAL NOT NULL,
    unit_price REAL NOT NULL,
    unit_price_net REAL NOT NULL,
    unit_cost REAL NOT NULL,
    discount_pct REAL NOT NULL,
    discount REAL NOT NULL,
    tax_rate REAL NOT NULL,
    tax REAL NOT NULL,
    subtotal REAL NOT NULL,
    amount REAL NOT NULL,
    profit REAL NOT NULL
);
"""

# Indexes on the big tables are built once they are filled: sorting once is several times cheaper
# than keeping them up to date row by row.
_SALES_INDEXES = """
CREATE INDEX sales_created_at ON sales(created_at);
CREATE INDEX sales_customer ON sales(customer_id)
"""
_LINES_INDEXES = """
CREATE INDEX sale_lines_sale ON sale_lines(sale_id);
CREATE INDEX sale_lines_product ON sale_lines(product_id)
"""

# Helper tables for the bulk inserts. TEMP tables live outside the database file.
_HELPER_TABLES = """
CREATE TEMP TABLE product_prices (id INTEGER PRIMARY KEY, sku, name, unit, kg, price, net, cost, tax_rate);
INSERT INTO temp.product_prices
    SELECT id, sku, name, unit, unit = 'KG', price, price / (1 + tax_rate), cost, tax_rate FROM products;
CREATE TEMP TABLE line_kinds (k INTEGER PRIMARY KEY, pieces, grams, discount_pct);
CREATE TEMP TABLE sale_kinds (k INTEGER PRIMARY KEY, walk_in, payment_method, bill, invoiced, status)
"""

# The lines of one batch, computed from one random value v per line: bits 36.. are the ticket
# (relative to :first_sale), bits 32..35 the line number, bits 0..19 pick the product (skewed towards
# the best sellers, which have low ids), bits 20..31 the quantity and discount. The unit cost drifts up
# with time, as average costs do. Used to insert the lines and, separately, to total the tickets.
_LINE_VALUES = """
SELECT sale_id, line_no, id AS product_id, sku, name AS description, qty, unit, price AS list_price,
       price * keep AS unit_price, net * keep AS unit_price_net, cost AS unit_cost, discount_pct,
       qty * price * (1 - keep) AS discount, tax_rate, qty * net * keep * tax_rate AS tax,
       qty * net * keep AS subtotal, qty * price * keep AS amount, qty * (net * keep - cost) AS profit
FROM (
    SELECT j.sale_id AS sale_id, j.line_no AS line_no, p.id AS id, p.sku AS sku, p.name AS name,
           p.unit AS unit, p.price AS price, p.net AS net, p.tax_rate AS tax_rate,
           p.cost * (1 + (j.sale_id >> 5) * 0.0000137) AS cost,
           CASE WHEN p.kg THEN q.grams / 1000.0 ELSE q.pieces END AS qty,
           q.discount_pct AS discount_pct, 1 - q.discount_pct / 100.0 AS keep
    FROM (
        SELECT :first_sale + (value >> 36) AS sale_id, 1 + ((value >> 32) & 15) AS line_no,
               1 + (((value & 1023) * (((value >> 10) & 1023) + 512) * :n_products) / 1571841) AS product_id,
               (value >> 20) & 4095 AS kind
        FROM json_each(:lines)
    ) AS j
    JOIN temp.product_prices AS p ON p.id = j.product_id
    JOIN temp.line_kinds AS q ON q.k = j.kind
)
"""

_INSERT_LINES = """
INSERT INTO sale_lines(sale_id, line_no, product_id, sku, description, qty, unit, list_price, unit_price,
                       unit_price_net, unit_cost, discount_pct, discount, tax_rate, tax, subtotal, amount,
                       profit)
""" + _LINE_VALUES

# One ticket per random value v (by position in the array). Its totals are summed from the same line
# values, in the same order, so they equal the sums over the stored lines to the last bit; this lets
# tickets and lines be written at the same time by two connections.
_INSERT_SALES = """
INSERT INTO sales(id, folio, created_at, customer_id, cashier_id, register, payment_method, items,
                  subtotal, discount, tax, total, received, change, points, invoice_uuid, status)
SELECT id, 'A-' || id, created_at, customer_id, cashier_id, 'CAJA ' || register, payment_method,
       items, total - tax, discount, tax, total, received, received - total,
       CASE WHEN customer_id > 1 THEN CAST(total / 20 AS INTEGER) ELSE 0 END,
       CASE WHEN invoiced THEN printf('%08X-%04X-4%03X-%04X-%012X', v & 4294967295, (v >> 32) & 65535,
            (v >> 48) & 4095, 32768 | ((v >> 20) & 16383), (id * 2654435761 + (v >> 8)) & 281474976710655)
       END,
       status
FROM (
    SELECT s.id AS id, s.v AS v, l.items AS items, l.cents / 100.0 AS total, l.tax AS tax,
           l.discount AS discount, k.payment_method AS payment_method, k.invoiced AS invoiced,
           k.status AS status, 1 + ((s.v >> 30) & 1) AS register,
           CASE WHEN k.bill THEN (l.cents / (k.bill * 100) + 1) * k.bill ELSE l.cents / 100.0 END AS received,
           datetime(:t0 + ((s.id - 1) / :per_day) * 86400 + :opening
                    + ((s.id - 1) % :per_day) * (:open_seconds / :per_day) + ((s.v >> 8) % 97),
                    'unixepoch') AS created_at,
           CASE WHEN k.walk_in THEN 1 ELSE 2 + ((s.v >> 20) % (:n_customers - 1)) END AS customer_id,
           1 + (((s.id - 1) % :per_day) * 2 / :per_day) * 2 + ((s.v >> 30) & 1) AS cashier_id
    FROM (SELECT :first_sale + key AS id, value AS v FROM json_each(:sales)) AS s
    JOIN temp.sale_kinds AS k ON k.k = s.v & 4095
    CROSS JOIN (SELECT sale_id, count(*) AS items, CAST(sum(amount) * 100 + 0.5 AS INTEGER) AS cents,
                       sum(tax) AS tax, sum(discount) AS discount
                FROM (""" + _LINE_VALUES + """) GROUP BY sale_id) AS l ON l.sale_id = s.id
)
"""

# The shop's catalogs are data: catalog.json beside this module (package data in the wheel and the
# executable).
_CATALOGS = json.loads(resources.files(__package__).joinpath("catalog.json").read_text(encoding="utf-8"))
# Product lines per category: {category: {"unit": "PZA" or "KG", "items": [[name, brands, sizes], ...]}}.
_PRODUCT_LINES = _CATALOGS["products"]
# Variants multiply the catalog into thousands of distinct descriptions, as in a real store.
_VARIANTS = _CATALOGS["variants"]
# Price of a pack relative to one piece ("bolsa c/100 pzas" of nails vs. the per-piece reference).
_PACK_FACTOR = _CATALOGS["pack_factor"]
# (mu, sigma) of the log-normal reference price per category, in pesos (per kilo for KG items).
_PRICE_LEVEL = _CATALOGS["price_level"]
# What customers and cashiers are made of.
_FIRST_NAMES = _CATALOGS["first_names"]
_LAST_NAMES = _CATALOGS["last_names"]
_COMPANY_WORDS = _CATALOGS["company_words"]
_COMPANY_SUFFIXES = _CATALOGS["company_suffixes"]
_STREETS = _CATALOGS["streets"]
_NEIGHBOURHOODS = _CATALOGS["neighbourhoods"]
_CITIES = _CATALOGS["cities"]
_EMAIL_DOMAINS = _CATALOGS["email_domains"]
_RFC_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_RFC_HOMOCLAVE = "ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789"


def _ean13(rng: random.Random) -> str:
    """A plausible Mexican EAN-13 (GS1 prefix 750) with a correct check digit."""
    digits = "750" + "".join(str(rng.randrange(10)) for _ in range(9))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def _money(value: float) -> float:
    """Shop prices end in .00, .50 or .90."""
    whole = int(value)
    return whole + (0.0, 0.5, 0.9)[whole % 3]


def ascii_upper(text: str) -> str:
    """Upper case without accents, as in RFCs, SKUs and user names."""
    return text.upper().translate(str.maketrans("ÁÉÍÓÚÜÑ", "AEIOUUX"))


def _rfc(rng: random.Random, name: str, company: bool) -> str:
    """An RFC-shaped tax id: 3 letters (company) or 4 (person), a date, a 3-character homoclave."""
    letters = "".join(c for c in ascii_upper(name) if c.isalpha())
    initials = (letters + "".join(rng.choice(_RFC_LETTERS) for _ in range(4)))[: 3 if company else 4]
    date = f"{rng.randrange(50, 100) if not company else rng.randrange(0, 24):02d}"
    date += f"{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    return initials + date + "".join(rng.choice(_RFC_HOMOCLAVE) for _ in range(3))


def _products(rng: random.Random, count: int) -> list[tuple]:
    """Product rows, best sellers first (sales pick low ids more often)."""
    choices: dict[str, list[tuple]] = {"KG": [], "PZA": []}
    for category, line in _PRODUCT_LINES.items():
        unit = line["unit"]
        for base, brands, sizes in line["items"]:
            for brand in brands:
                for size in sizes:
                    choices[unit].append((category, unit, base, brand, size))
    rows = []
    prefixes = {category: ascii_upper(category)[:3] for category in _PRODUCT_LINES}
    base_prices: dict[tuple[str, str], float] = {}
    for product_id in range(1, count + 1):
        # Weighed goods (tortillas, produce, deli) are among the best sellers.
        weighed = rng.random() < (0.3 if product_id <= count // 10 else 0.06)
        category, unit, base, brand, size = rng.choice(choices["KG" if weighed else "PZA"])
        variant = rng.choice(_VARIANTS[category])
        name = " ".join(part for part in (base, brand if brand != "a granel" else "", size, variant) if part)
        # Same item and size cost about the same whatever the brand; packs cost more.
        reference = base_prices.setdefault((base, size), rng.lognormvariate(*_PRICE_LEVEL[category]))
        pack = _PACK_FACTOR[variant.split("c/")[1].split()[0]] if "c/" in variant else 1.0
        cost = round(reference * rng.uniform(0.6, 1.1) * pack, 2)
        # Most prices come from cost plus margin (any cents); some were rounded by hand.
        price = round(cost * rng.uniform(1.18, 1.45), 2)
        if rng.random() < 0.35:
            price = _money(price)
        stock = round(rng.uniform(0, 40), 3) if unit == "KG" else float(rng.randrange(0, 250))
        rows.append(
            (
                product_id,
                f"{prefixes[category]}-{product_id:05d}",
                _ean13(rng),
                name,
                category,
                unit,
                cost,
                price,
                0.0 if category in ("FRUTAS Y VERDURAS", "ABARROTES") else 0.16,
                stock,
                float(rng.choice([0, 5, 10, 12, 20, 24])),
                1 if rng.random() > 0.03 else 0,
            )
        )
    return rows


def _customers(rng: random.Random, count: int) -> list[tuple]:
    """Customer rows; id 1 is the walk-in "PÚBLICO EN GENERAL" with the generic RFC."""
    rows = [(1, "PÚBLICO EN GENERAL", "XAXX010101000", None, None, None, None, 0.0, 0.0)]
    for customer_id in range(2, count + 1):
        company = rng.random() < 0.25
        if company:
            kind, word = rng.choice(_COMPANY_WORDS)
            name = f"{kind} {word} {rng.choice(_COMPANY_SUFFIXES)}"
            email = f"facturacion@{ascii_upper(word).lower().replace(' ', '')}.com.mx"
        else:
            first, last1, last2 = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES), rng.choice(_LAST_NAMES)
            name = f"{first} {last1} {last2}"
            user = ascii_upper(f"{first.split()[0]}.{last1}").lower()
            email = f"{user}{rng.randrange(1, 99)}@{rng.choice(_EMAIL_DOMAINS)}"
        city, zip_prefix = rng.choice(_CITIES)
        address = (
            f"{rng.choice(_STREETS)} {rng.randrange(1, 2500)}, {rng.choice(_NEIGHBOURHOODS)}, {city}"
        )
        credit_limit = float(rng.choice([0, 0, 500, 1000, 2000, 5000, 10000]))
        balance = round(rng.uniform(0, credit_limit), 2) if credit_limit else 0.0
        rows.append(
            (
                customer_id,
                name,
                _rfc(rng, name, company),
                email,
                f"{rng.choice(['33', '442', '477', '55', '81', '222'])}{rng.randrange(10**6, 10**7)}",
                address,
                f"{zip_prefix}{rng.randrange(0, 1000):03d}",
                credit_limit,
                balance,
            )
        )
    return rows


def _cashiers(rng: random.Random) -> list[tuple]:
    rows = []
    for cashier_id in range(1, 5):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        rows.append((cashier_id, f"{first} {last}", ascii_upper(f"{first.split()[0][0]}{last}").lower()))
    return rows


def _line_kinds(rng: random.Random) -> list[tuple]:
    """Quantity and discount for each of the 4096 line kinds: mostly one piece, few discounts."""
    rows = []
    for kind in range(_KINDS):
        pieces = rng.choices([1, 2, 3, 4, 5, 6, 10], [63, 18, 8, 4, 3, 3, 1])[0]
        grams = rng.choice([250, 500, 1000]) if rng.random() < 0.3 else rng.randrange(80, 2600)
        discount = rng.choice([5.0, 10.0, 15.0, 20.0]) if rng.random() < 0.08 else 0.0
        rows.append((kind, pieces, grams, discount))
    return rows


def _sale_kinds(rng: random.Random) -> list[tuple]:
    """Customer, payment method, cash tendered, invoice and status for each of the 4096 sale kinds."""
    methods = ["EFECTIVO", "TARJETA DE DÉBITO", "TARJETA DE CRÉDITO", "TRANSFERENCIA", "CRÉDITO CLIENTE"]
    rows = []
    for kind in range(_KINDS):
        method = rng.choices(methods, [58, 20, 13, 5, 4])[0]
        walk_in = 1 if method != "CRÉDITO CLIENTE" and rng.random() < 0.7 else 0
        bill = rng.choice([10, 20, 50, 100, 200, 500]) if method == "EFECTIVO" else 0
        invoiced = 1 if not walk_in and rng.random() < 0.25 else 0
        status = "CANCELADA" if rng.random() < 0.012 else "PAGADA"
        rows.append((kind, walk_in, method, bill, invoiced, status))
    return rows


def _catalog_sizes(target_bytes: int) -> tuple[int, int]:
    """Number of products and customers: a corner shop for small files, a big store for 1 GiB."""
    products = max(150, min(12_000, target_bytes // 60_000))
    customers = max(40, min(5_000, target_bytes // 150_000))
    return products, customers


def _sale_batches(rng: random.Random, first_sale: int, batch: int):
    """Endless (first_sale, count, lines_json, sales_json) batches of ``batch`` tickets each.

    Per line Python only joins one integer into a JSON array, using C-level iterators; SQLite does the
    rest. Consumed from a second thread while SQLite (which releases the GIL) inserts the previous batch.
    """
    while True:
        lines_per_sale = rng.choices(_LINES_PER_SALE, _LINES_WEIGHTS, k=batch)
        # Line keys (ticket << 36) | (line number << 32), then 32 random bits below them.
        starts = list(map(int.__lshift__, range(batch), repeat(36)))
        stops = map(int.__add__, starts, map(int.__lshift__, lines_per_sale, repeat(32)))
        line_keys = chain.from_iterable(map(range, starts, stops, repeat(1 << 32)))
        low_bits = array("I", rng.randbytes(4 * sum(lines_per_sale)))
        lines_json = "[" + ",".join(map(str, map(int.__or__, line_keys, low_bits))) + "]"
        # JSON integers must fit SQLite's signed 64 bits: 63 random bits per ticket.
        sale_bits = array("Q", rng.randbytes(8 * batch))
        sales_json = "[" + ",".join(map(str, map(int.__rshift__, sale_bits, repeat(1)))) + "]"
        yield first_sale, batch, lines_json, sales_json
        first_sale += batch


def _file_bytes(conn: sqlite3.Connection, schema: str = "main") -> int:
    page_size = conn.execute(f"PRAGMA {schema}.page_size").fetchone()[0]
    return conn.execute(f"PRAGMA {schema}.page_count").fetchone()[0] * page_size


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    # Not executescript(): that one commits the open transaction first.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _open_for_generation(path: Path, catalog: dict[str, list[tuple]]) -> sqlite3.Connection:
    """A connection to a new file with the schema, the catalogs and the TEMP helper tables."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # Nobody else reads the file while it is generated: no journal, no fsync, a big cache.
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("BEGIN")
    _execute_script(conn, _SCHEMA)
    conn.executemany("INSERT INTO products VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", catalog["products"])
    conn.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?)", catalog["customers"])
    conn.executemany("INSERT INTO cashiers VALUES (?,?,?)", catalog["cashiers"])
    _execute_script(conn, _HELPER_TABLES)
    conn.executemany("INSERT INTO temp.line_kinds VALUES (?,?,?,?)", catalog["line_kinds"])
    conn.executemany("INSERT INTO temp.sale_kinds VALUES (?,?,?,?,?,?)", catalog["sale_kinds"])
    conn.execute("COMMIT")
    return conn


def _insert_batch(conn: sqlite3.Connection, sql: str, params: dict) -> int:
    conn.execute("BEGIN")
    rows = conn.execute(sql, params).rowcount
    conn.execute("COMMIT")
    return rows


def make_pos_database(path, target_bytes: int, seed: int = 0, journal_mode: str = "wal") -> Path:
    """Write a realistic POS SQLite database of about ``target_bytes`` at ``path`` and return the path.

    Tables products, customers, cashiers, sales and sale_lines, with their indexes, filled with a
    Mexican shop's history until the file is within ~2 % of ``target_bytes`` (the catalogs alone make
    a few hundred KB, the floor). The same ``seed`` and size always give the same file. The file is
    left in ``journal_mode`` ("wal" or "delete"), as a POS would have it. An existing file at ``path``
    and its -wal/-shm/-journal companions are replaced. Uses both cores: the tickets are written by a
    second connection into a scratch file next to ``path`` while the main one writes their lines.
    """
    path = Path(path)
    journal_mode = journal_mode.lower()
    if journal_mode not in ("wal", "delete"):
        raise ValueError(f"journal_mode must be 'wal' or 'delete', not {journal_mode!r}")
    if target_bytes <= 0:
        raise ValueError("target_bytes must be positive")
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tickets.tmp")
    for leftover in (path, scratch):
        for suffix in ("", "-wal", "-shm", "-journal"):
            leftover.with_name(leftover.name + suffix).unlink(missing_ok=True)

    rng = random.Random(seed)
    n_products, n_customers = _catalog_sizes(target_bytes)
    catalog = {
        "products": _products(rng, n_products),
        "customers": _customers(rng, n_customers),
        "cashiers": _cashiers(rng),
        "line_kinds": _line_kinds(rng),
        "sale_kinds": _sale_kinds(rng),
    }
    # About 60 batches (~700 bytes per ticket): the file lands within half a batch of the target.
    batch = max(100, min(40_000, target_bytes // 700 // 60))
    params = {
        "t0": _HISTORY_START,
        "per_day": _SALES_PER_DAY,
        "opening": _OPENING_SECONDS,
        "open_seconds": _OPEN_HOURS_SECONDS,
        "n_products": n_products,
        "n_customers": n_customers,
    }
    batches = _sale_batches(random.Random(rng.getrandbits(64)), 1, batch)
    conn = _open_for_generation(path, catalog)
    try:
        with ThreadPoolExecutor(1) as prefetch, ThreadPoolExecutor(1) as second_core:
            tickets = second_core.submit(_open_for_generation, scratch, catalog).result()
            tickets_floor = _file_bytes(tickets)
            upcoming = prefetch.submit(next, batches)
            lines = sales = 0
            tickets_bytes = 0
            step = 0.0  # bytes the last batch added, indexes included

            def estimate() -> float:
                """Size once the tickets are merged in and the indexes built (sorted, so dense)."""
                return (_file_bytes(conn) + tickets_bytes + lines * _INDEX_BYTES_PER_LINE
                        + sales * _INDEX_BYTES_PER_SALE)

            # Stop when one more batch would overshoot by more than it undershoots now. Each decision
            # waits for both connections, so the number of batches depends on the seed and size only.
            while estimate() + step / 2 < target_bytes:
                first_sale, _count, lines_json, sales_json = upcoming.result()
                upcoming = prefetch.submit(next, batches)
                before = estimate()
                batch_params = {**params, "first_sale": first_sale, "lines": lines_json, "sales": sales_json}
                sold = second_core.submit(_insert_batch, tickets, _INSERT_SALES, batch_params)
                lines += _insert_batch(conn, _INSERT_LINES, batch_params)
                sales += sold.result()
                tickets_bytes = _file_bytes(tickets) - tickets_floor
                step = estimate() - before
            # The next batch stays prefetched: the top-up below may need it (a cancelled one fails there).

            # Index the tickets in the scratch file while the lines are indexed here, then copy them
            # over: into an empty table with the same indexes SQLite copies records and index entries
            # as they are, without decoding them.
            conn.execute("PRAGMA threads=2")
            tickets_indexed = second_core.submit(_execute_script, tickets, _SALES_INDEXES)
            _execute_script(conn, _LINES_INDEXES)
            _execute_script(conn, _SALES_INDEXES)
            tickets_indexed.result()
            second_core.submit(tickets.close).result()
            conn.execute("ATTACH DATABASE ? AS tickets", (str(scratch),))
            conn.execute("INSERT INTO main.sales SELECT * FROM tickets.sales")
            conn.execute("DETACH DATABASE tickets")
            scratch.unlink()

            # Rarely needed: top up with indexed inserts if the estimate fell short by half a batch.
            while _file_bytes(conn) + step / 2 < target_bytes:
                first_sale, _count, lines_json, sales_json = upcoming.result()
                upcoming = prefetch.submit(next, batches)
                before = _file_bytes(conn)
                batch_params = {**params, "first_sale": first_sale, "lines": lines_json, "sales": sales_json}
                _insert_batch(conn, _INSERT_LINES, batch_params)
                _insert_batch(conn, _INSERT_SALES, batch_params)
                step = _file_bytes(conn) - before
            upcoming.cancel()
        conn.execute(f"PRAGMA journal_mode={journal_mode.upper()}")
    finally:
        conn.close()
        scratch.unlink(missing_ok=True)
    logger.info("Demo POS database %s: %d bytes", path, path.stat().st_size)
    return path
