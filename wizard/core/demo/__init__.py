"""Realistic point-of-sale data to try the app on and to measure it with.

``pos_database.py`` writes a SQLite database shaped like a small Mexican shop's POS of a requested size
(``make_pos_database``); ``folder.py`` writes a whole POS data folder around a small one (database, product
images, CFDI invoices, settings) for ``respaldos --demo-data`` (``make_demo_folder``).
"""

from wizard.core.demo.folder import DEMO_DATABASE, make_demo_folder
from wizard.core.demo.pos_database import make_pos_database

__all__ = ["DEMO_DATABASE", "make_demo_folder", "make_pos_database"]
