"""A second point-of-sale SQLite database, written independently of wizard.core.demo.

    python bench/make_other_db.py OUT --size 1GiB --kind blobs|wal1k [--seed N]

Different schema and data shapes from bench/make_pos_db.py (whose tables are computed by SQLite from
JSON batches): Spanish table names, product photos as BLOBs, customers with long addresses and notes,
sales that keep the printed ticket's text, sale lines with a copy of the product's description.
Everything comes from ``random.Random(seed)``: one seed always gives the same rows.

Two kinds:
  blobs  4 KiB pages, rollback journal (``--journal wal`` for WAL), BLOB-heavy: most of the bytes are
         product photos, mostly incompressible JPEG-like bytes of 20-200 KiB, some small compressible
         icons and drawings.
  wal1k  ``PRAGMA page_size=1024``, WAL mode, fewer photos and more rows; the last quarter of the writes
         is done by a child process with ``wal_autocheckpoint=0`` that ends with ``os._exit(0)``, so the
         database is left with a large ``-wal`` (and ``-shm``) as a POS writer that was killed leaves it.

``--size`` is the total of the database file and its ``-wal``. The facts that matter (page size,
journal, share of BLOB bytes, size of the -wal) are printed after generation. ``prepare_other_database``
caches one database per kind/size/seed in a work folder, with a pristine copy that ``reset_database``
puts back after a run that checkpointed the WAL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.make_pos_db import parse_size

KINDS = ("blobs", "wal1k")
DB_NAME = "tienda.db"
SIDECARS = ("-wal", "-shm", "-journal")

# Share of the bytes written per category, per kind.
_MIX = {
    "blobs": {"fotos": 0.84, "clientes": 0.08, "ventas": 0.08},
    "wal1k": {"fotos": 0.35, "clientes": 0.30, "ventas": 0.35},
}
_WAL_SHARE = 0.25  # wal1k: share of --size written by the child into the -wal (the -wal is then ~1/3 of the db)
_BATCH_BYTES = 4 * 1024 * 1024  # about this many bytes per category per transaction

_SCHEMA = """
CREATE TABLE departamentos (
    clave INTEGER PRIMARY KEY,
    nombre TEXT NOT NULL
);
CREATE TABLE articulos (
    clave INTEGER PRIMARY KEY,
    codigo_barras TEXT NOT NULL,
    descripcion TEXT NOT NULL,
    departamento INTEGER NOT NULL REFERENCES departamentos(clave),
    precio_venta NUMERIC NOT NULL,
    costo NUMERIC NOT NULL,
    existencia REAL NOT NULL,
    unidad TEXT NOT NULL,
    ficha TEXT
);
CREATE TABLE fotos_articulo (
    id INTEGER PRIMARY KEY,
    articulo INTEGER NOT NULL REFERENCES articulos(clave),
    tipo TEXT NOT NULL,
    ancho INTEGER NOT NULL,
    alto INTEGER NOT NULL,
    datos BLOB NOT NULL
);
CREATE TABLE clientes (
    id INTEGER PRIMARY KEY,
    razon_social TEXT NOT NULL,
    contacto TEXT,
    telefono TEXT,
    correo TEXT,
    domicilio_fiscal TEXT NOT NULL,
    domicilio_entrega TEXT,
    notas TEXT,
    limite_credito NUMERIC,
    alta TEXT NOT NULL
);
CREATE TABLE ventas (
    folio INTEGER PRIMARY KEY,
    fecha TEXT NOT NULL,
    cliente INTEGER REFERENCES clientes(id),
    caja INTEGER NOT NULL,
    total NUMERIC NOT NULL,
    forma_pago TEXT NOT NULL,
    ticket TEXT NOT NULL
);
CREATE TABLE renglones_venta (
    folio INTEGER NOT NULL REFERENCES ventas(folio),
    renglon INTEGER NOT NULL,
    articulo INTEGER NOT NULL REFERENCES articulos(clave),
    descripcion TEXT NOT NULL,
    cantidad REAL NOT NULL,
    precio NUMERIC NOT NULL,
    importe NUMERIC NOT NULL,
    PRIMARY KEY (folio, renglon)
) WITHOUT ROWID;
CREATE INDEX fotos_por_articulo ON fotos_articulo(articulo);
CREATE INDEX clientes_por_nombre ON clientes(razon_social);
CREATE INDEX ventas_por_fecha ON ventas(fecha);
CREATE INDEX renglones_por_articulo ON renglones_venta(articulo);
"""

_WORDS_TEXT = ("abarrote aceite agua ajo arroz atun azucar bolsa cafe caja cajeta carne cereal chile chocolate "
          "crema dulce escoba frijol galleta harina huevo jabon jugo leche limon maiz manteca masa miel "
          "pan papel pasta pila queso refresco sal salsa servilleta sopa te tortilla vela vinagre yogur "
          "grande chico mediano natural light integral familiar rojo verde blanco negro dulce picante "
          "botella lata paquete bolsa frasco sobre pieza kilo litro gramos mililitros surtido clasico")
_NOTE_WORDS_TEXT = ("el cliente pide que se le entregue por la tarde antes de las cinco paga con transferencia "
               "factura a nombre de la empresa tiene credito autorizado hasta fin de mes llamar antes de "
               "enviar el pedido dejar con el vigilante en la caseta no acepta cambios sin ticket revisar "
               "saldo pendiente de la nota anterior descuento especial por volumen mayoreo cada semana "
               "prefiere marca local contactar al encargado de compras los lunes y jueves por la manana "
               "domicilio dificil de encontrar frente a la tienda de abarrotes porton azul timbre no sirve")
_WORDS = _WORDS_TEXT.split()
_NOTE_WORDS = _NOTE_WORDS_TEXT.split()
_STREETS = ("Hidalgo", "Morelos", "Juarez", "Allende", "Independencia", "Reforma", "5 de Mayo", "Zaragoza",
            "Guerrero", "Madero", "Aldama", "Obregon", "Insurgentes", "Revolucion", "Constitucion")
_COLONIAS = ("Centro", "Del Valle", "Las Flores", "San Miguel", "Jardines", "La Loma", "El Mirador",
             "Santa Fe", "Los Pinos", "Industrial", "Moderna", "Ampliacion Sur", "Valle Verde")
_CITIES = (("Guadalajara", "Jalisco"), ("Puebla", "Puebla"), ("Leon", "Guanajuato"), ("Merida", "Yucatan"),
           ("Queretaro", "Queretaro"), ("Morelia", "Michoacan"), ("Toluca", "Mexico"), ("Oaxaca", "Oaxaca"))
_NAMES = ("Maria", "Jose", "Juan", "Guadalupe", "Francisco", "Ana", "Luis", "Rosa", "Carlos", "Patricia",
          "Miguel", "Laura", "Jorge", "Elena", "Ricardo", "Sofia", "Alejandro", "Gabriela", "Fernando")
_SURNAMES = ("Hernandez", "Garcia", "Martinez", "Lopez", "Gonzalez", "Perez", "Rodriguez", "Sanchez",
             "Ramirez", "Cruz", "Flores", "Gomez", "Morales", "Vazquez", "Reyes", "Jimenez", "Torres")
_PAYMENTS = ("efectivo", "tarjeta debito", "tarjeta credito", "transferencia", "vales", "credito")
_UNITS = ("pza", "kg", "lt", "caja", "paq")


class _Maker:
    """Rows of each category from one ``random.Random``; ``write_*`` insert about ``_BATCH_BYTES``."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.n_articulos = 0
        self.n_fotos = 0
        self.n_clientes = 0
        self.n_ventas = 0
        self.day = 0
        # A pool of sentences: notes and addresses vary but stay text-like (compressible like real text).
        self.sentences = [" ".join(rng.choices(_NOTE_WORDS, k=rng.randint(6, 18))).capitalize() + "."
                          for _ in range(3000)]

    # --- catalog -----------------------------------------------------------------------------------
    def departamentos(self, conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO departamentos VALUES (?, ?)",
                         [(i + 1, name.capitalize()) for i, name in enumerate(_WORDS[:40])])

    def _articulo(self) -> tuple:
        rng = self.rng
        self.n_articulos += 1
        desc = " ".join(rng.choices(_WORDS, k=rng.randint(2, 5))).upper()
        price = round(rng.uniform(3, 900), 2)
        ficha = " ".join(rng.choices(self.sentences, k=rng.randint(0, 3))) or None
        return (self.n_articulos, f"750{rng.randrange(10**10):010d}", desc, rng.randint(1, 40), price,
                round(price * rng.uniform(0.55, 0.85), 2), float(rng.randint(0, 500)), rng.choice(_UNITS), ficha)

    def _foto(self) -> tuple[tuple, int]:
        rng = self.rng
        self.n_fotos += 1
        articulo = rng.randint(1, self.n_articulos)  # some products have several photos, many none
        roll = rng.random()
        if roll < 0.82:  # a product photo: JPEG-like, incompressible
            size = rng.randint(20 * 1024, 200 * 1024)
            header = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00H\x00H\x00\x00\xff\xdb\x00C\x00"
                      + bytes(rng.randint(1, 40) for _ in range(64)) + b"\xff\xc0\x00\x11\x08")
            data = header + rng.randbytes(size - len(header) - 2) + b"\xff\xd9"
            kind, w, h = "image/jpeg", rng.choice((640, 800, 1024)), rng.choice((480, 600, 768))
        elif roll < 0.92:  # a small icon: PNG-like rows of a few colours, compressible
            w = h = rng.choice((32, 48, 64, 96))
            palette = [rng.randbytes(3) for _ in range(4)]
            rows = [b"".join(palette[(x // rng.randint(4, 16) + y) % 4] for x in range(w)) for y in range(8)]
            data = b"\x89PNG\r\n\x1a\n" + b"".join(b"\x00" + rows[y % 8] for y in range(h))
            kind = "image/png"
        else:  # a drawing: SVG text
            w, h = 256, 256
            shapes = "".join(f'<rect x="{rng.randint(0, 240)}" y="{rng.randint(0, 240)}" width="{rng.randint(4, 60)}" '
                             f'height="{rng.randint(4, 60)}" fill="#{rng.randrange(16**6):06x}"/>'
                             for _ in range(rng.randint(20, 120)))
            data = f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">{shapes}</svg>'.encode()
            kind = "image/svg+xml"
        return (self.n_fotos, articulo, kind, w, h, data), len(data)

    def write_articulos(self, conn: sqlite3.Connection, count: int) -> None:
        conn.executemany("INSERT INTO articulos VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [self._articulo() for _ in range(count)])

    def write_fotos(self, conn: sqlite3.Connection, budget: int = _BATCH_BYTES) -> int:
        fotos, written = [], 0
        while written < budget:
            row, size = self._foto()
            fotos.append(row)
            written += size
        conn.executemany("INSERT INTO fotos_articulo VALUES (?, ?, ?, ?, ?, ?)", fotos)
        return written

    # --- customers ---------------------------------------------------------------------------------
    def _address(self) -> str:
        rng = self.rng
        city, state = rng.choice(_CITIES)
        extra = f", entre {rng.choice(_STREETS)} y {rng.choice(_STREETS)}" if rng.random() < 0.6 else ""
        return (f"Calle {rng.choice(_STREETS)} {rng.randint(1, 3999)}"
                f"{' Int. ' + str(rng.randint(1, 40)) if rng.random() < 0.3 else ''}{extra}, "
                f"Col. {rng.choice(_COLONIAS)}, C.P. {rng.randint(10000, 99999)}, {city}, {state}, Mexico")

    def write_clientes(self, conn: sqlite3.Connection, budget: int = _BATCH_BYTES) -> int:
        rng, rows, written = self.rng, [], 0
        while written < budget:
            self.n_clientes += 1
            name = f"{rng.choice(_NAMES)} {rng.choice(_SURNAMES)} {rng.choice(_SURNAMES)}"
            notes = "\n".join(rng.choices(self.sentences, k=rng.randint(1, 30)))
            fiscal, delivery = self._address(), (self._address() if rng.random() < 0.5 else None)
            phone = f"{rng.randint(200, 999)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
            row = (self.n_clientes, name.upper(), name, phone, f"{name.split()[0].lower()}{rng.randint(1, 999)}@correo.mx",
                   fiscal, delivery, notes, rng.choice((0, 5000, 10000, 50000)),
                   f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
            rows.append(row)
            written += len(notes) + len(fiscal) + (len(delivery) if delivery else 0) + 120
        conn.executemany("INSERT INTO clientes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return written

    # --- sales -------------------------------------------------------------------------------------
    def _sales(self, budget: int) -> tuple[list, list, dict, int]:
        rng, ventas, renglones, stock, written = self.rng, [], [], {}, 0
        n_art = max(self.n_articulos, 1)
        while written < budget:
            self.n_ventas += 1
            if self.n_ventas % 400 == 0:
                self.day += 1
            folio = self.n_ventas
            fecha = (f"{2015 + self.day // 365}-{(self.day // 30) % 12 + 1:02d}-{self.day % 28 + 1:02d} "
                     f"{rng.randint(8, 21):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}")
            lines, total, ticket = rng.choices(range(1, 13), weights=(20, 16, 13, 11, 9, 7, 6, 5, 4, 3, 3, 3))[0], 0.0, []
            for renglon in range(1, lines + 1):
                articulo = min(int(rng.paretovariate(1.2)), n_art) if rng.random() < 0.5 else rng.randint(1, n_art)
                qty = float(rng.randint(1, 6)) if rng.random() < 0.8 else round(rng.uniform(0.1, 3), 3)
                price = round(rng.uniform(3, 900), 2)
                desc = " ".join(rng.choices(_WORDS, k=3)).upper()
                importe = round(qty * price, 2)
                total += importe
                renglones.append((folio, renglon, articulo, desc, qty, price, importe))
                ticket.append(f"{qty:>7.3f} {desc[:24]:<24} {price:>9.2f} {importe:>10.2f}")
                stock[articulo] = stock.get(articulo, 0.0) + qty
            text = ("ABARROTES LA ESPERANZA SA DE CV\nRFC AES010101AB1\n" + fecha + f"  Folio {folio}\n"
                    + "\n".join(ticket) + f"\nTOTAL {total:.2f}\nGracias por su compra")
            cliente = rng.randint(1, self.n_clientes) if self.n_clientes and rng.random() < 0.3 else None
            ventas.append((folio, fecha, cliente, rng.randint(1, 4), round(total, 2), rng.choice(_PAYMENTS), text))
            written += len(text) + 60 + lines * 70
        return ventas, renglones, stock, written

    def write_ventas(self, conn: sqlite3.Connection, budget: int = _BATCH_BYTES, update_stock: bool = False) -> int:
        ventas, renglones, stock, written = self._sales(budget)
        conn.executemany("INSERT INTO ventas VALUES (?, ?, ?, ?, ?, ?, ?)", ventas)
        conn.executemany("INSERT INTO renglones_venta VALUES (?, ?, ?, ?, ?, ?, ?)", renglones)
        if update_stock:  # what a POS does on each sale: the same catalog pages change again and again
            conn.executemany("UPDATE articulos SET existencia = existencia - ? WHERE clave = ?",
                             [(qty, art) for art, qty in sorted(stock.items())])
        return written

    def write_next(self, conn: sqlite3.Connection, done: dict[str, int], mix: dict[str, float],
                   update_stock: bool = False) -> None:
        """One batch of the category furthest behind its share."""
        category = min(mix, key=lambda c: done[c] / mix[c])
        if category == "fotos":
            done[category] += self.write_fotos(conn)
        elif category == "clientes":
            done[category] += self.write_clientes(conn)
        else:
            done[category] += self.write_ventas(conn, update_stock=update_stock)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def make_other_database(out: Path, size: int, kind: str, seed: int = 0, journal: str | None = None) -> dict:
    """Write the database ``out`` (and, for wal1k, its -wal) of about ``size`` bytes; returns its facts."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", *SIDECARS):
        Path(f"{out}{suffix}").unlink(missing_ok=True)
    rng = random.Random(f"make_other_db:{kind}:{seed}")
    maker = _Maker(rng)
    mix = _MIX[kind]
    done = {c: 0 for c in mix}
    page_size = 4096 if kind == "blobs" else 1024
    main_target = size if kind == "blobs" else int(size * (1 - _WAL_SHARE))

    conn = sqlite3.connect(out, isolation_level=None)
    conn.execute(f"PRAGMA page_size={page_size}")
    # The bulk is written without a journal (fast, nothing to roll back); the journal mode is set after.
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-65536")
    conn.executescript(_SCHEMA)
    maker.departamentos(conn)
    maker.write_articulos(conn, max(2000, size // 50_000))  # 21,000 products in 1 GiB
    while conn.execute("PRAGMA page_count").fetchone()[0] * page_size < main_target:
        conn.execute("BEGIN")
        maker.write_next(conn, done, mix)
        conn.execute("COMMIT")
    final_journal = "wal" if kind == "wal1k" else (journal or "delete")
    conn.execute(f"PRAGMA journal_mode={final_journal}")
    conn.close()

    if kind == "wal1k":
        _write_tail_in_child(out, maker, done, mix, size - _file_size(out))
    facts = database_facts(out)
    facts.update(kind=kind, seed=seed, target=size)
    return facts


def _write_tail_in_child(out: Path, maker: _Maker, done: dict, mix: dict, wal_target: int) -> None:
    """A POS writer that is killed: commits into the -wal with checkpoints off, then ``os._exit(0)``.

    Forked, so the child goes on with the parent's random state (the same seed gives the same rows)."""
    pid = os.fork()
    if pid == 0:  # child: never returns
        status = 1
        try:
            conn = sqlite3.connect(out, isolation_level=None)
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute("PRAGMA synchronous=OFF")
            wal = Path(f"{out}-wal")
            while _file_size(wal) < wal_target:
                conn.execute("BEGIN")
                maker.write_next(conn, done, mix, update_stock=True)
                conn.execute("COMMIT")
            status = 0
        finally:
            os._exit(status)  # no close: no checkpoint, the -wal and -shm stay as they are
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the writer child failed ({status}) on {out}")


def database_facts(db: Path) -> dict:
    """Page size and journal from the header, BLOB and row counts through a read-only connection (which
    does not checkpoint: a leftover -wal stays), sizes of the file and its -wal."""
    db = Path(db)
    with open(db, "rb") as fh:
        header = fh.read(100)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    journal = "wal" if header[18] == 2 else "rollback"
    wal = Path(f"{db}-wal")
    wal_before = _file_size(wal)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        blob_bytes, photos = conn.execute(
            "SELECT coalesce(sum(length(datos)), 0), count(*) FROM fotos_articulo").fetchone()
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("articulos", "clientes", "ventas", "renglones_venta")}
        text_bytes = conn.execute("SELECT coalesce(sum(length(notas) + length(domicilio_fiscal)), 0) "
                                  "FROM clientes").fetchone()[0]
    finally:
        conn.close()
    wal_after = _file_size(wal)
    if wal_after != wal_before:
        raise SystemExit(f"reading {db} changed its -wal ({wal_before} -> {wal_after} bytes)")
    db_bytes = db.stat().st_size
    return {"db_bytes": db_bytes, "wal_bytes": wal_after, "page_size": page_size, "journal": journal,
            "photos": photos, "blob_bytes": blob_bytes, "customer_text_bytes": text_bytes,
            "blob_share": blob_bytes / (db_bytes + wal_after), **counts}


def describe(facts: dict) -> str:
    mib = 1024 * 1024
    lines = [f"  database {facts['db_bytes'] / mib:.1f} MiB, page size {facts['page_size']}, {facts['journal']} journal"]
    if facts["wal_bytes"]:
        lines.append(f"  -wal {facts['wal_bytes'] / mib:.1f} MiB = {facts['wal_bytes'] / facts['db_bytes']:.0%} "
                     "of the database file, not checkpointed")
    lines.append(f"  BLOBs {facts['blob_bytes'] / mib:.1f} MiB in {facts['photos']:,} photos = "
                 f"{facts['blob_share']:.0%} of the bytes; customer text {facts['customer_text_bytes'] / mib:.1f} MiB")
    lines.append(f"  rows: {facts['articulos']:,} products, {facts['clientes']:,} customers, "
                 f"{facts['ventas']:,} sales, {facts['renglones_venta']:,} sale lines")
    return "\n".join(lines)


# --- the cache used by bench/bench_speed.py -------------------------------------------------------------

def prepare_other_database(workdir: Path, size: int, kind: str, seed: int = 0) -> Path:
    """The database in its own folder (the backup's source), generated once per size/kind/seed and reused.

    ``workdir/otra_KIND_SIZE_SEED/datos/tienda.db`` is the source; when there is a -wal, ``pristine/``
    beside it keeps a copy of the files as generated for ``reset_database``; ``facts.json`` is written last."""
    base = Path(workdir) / f"otra_{kind}_{size}_{seed}"
    db, pristine, facts_file = base / "datos" / DB_NAME, base / "pristine", base / "facts.json"
    if facts_file.exists() and db.exists():
        print(f"reusing {db} ({db.stat().st_size / 1024**2:.1f} MiB)")
        reset_database(db)
        return db
    if base.exists():
        shutil.rmtree(base)
    db.parent.mkdir(parents=True)
    print(f"generating {db} ({kind}, {size / 1024**2:.0f} MiB, seed {seed})...", flush=True)
    started = time.perf_counter()
    facts = make_other_database(db, size, kind, seed)
    print(f"  in {time.perf_counter() - started:.1f} s\n{describe(facts)}", flush=True)
    if facts["wal_bytes"]:  # a run that checkpoints would merge the -wal: keep the files to put back
        pristine.mkdir()
        for path in _db_files(db):
            shutil.copy2(path, pristine / path.name)
    facts_file.write_text(json.dumps(facts, indent=1), encoding="utf-8")
    return db


def _db_files(db: Path) -> list[Path]:
    return [p for p in (db, *(Path(f"{db}{s}") for s in SIDECARS)) if p.exists()]


def _signature(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()}


def reset_database(db: Path) -> bool:
    """Put the generated files back when a run changed them (a checkpoint merges and deletes the -wal).
    Returns True when it copied. A database without a pristine copy is left alone."""
    pristine = Path(db).parent.parent / "pristine"
    if not (pristine.parent / "facts.json").exists() or not pristine.is_dir():
        return False
    if _signature(pristine) == _signature(Path(db).parent):
        return False
    for path in Path(db).parent.iterdir():
        path.unlink()
    for path in pristine.iterdir():
        shutil.copy2(path, Path(db).parent / path.name)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="database file to write (replaced if it exists)")
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"), help="database + -wal (1GiB)")
    parser.add_argument("--kind", choices=KINDS, required=True, help="blobs or wal1k")
    parser.add_argument("--journal", choices=("delete", "wal"), default=None,
                        help="blobs only: journal mode at the end (delete)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    args = parser.parse_args(argv)
    if args.journal and args.kind != "blobs":
        parser.error("--journal applies to --kind blobs only (wal1k is always WAL)")
    started = time.perf_counter()
    facts = make_other_database(args.out, args.size, args.kind, args.seed, journal=args.journal)
    total = facts["db_bytes"] + facts["wal_bytes"]
    print(f"{args.out}: {total:,} bytes ({total / args.size:.1%} of the target) "
          f"in {time.perf_counter() - started:.1f} s")
    print(describe(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
