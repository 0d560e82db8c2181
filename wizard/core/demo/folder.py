"""A whole POS data folder to try the app on (``respaldos --demo-data``): the database, product images,
CFDI invoices and a PDF, the point of sale's settings. The same bytes every time."""

from __future__ import annotations

import base64
import logging
import struct
import zlib
from pathlib import Path

from wizard.core.demo.pos_database import ascii_upper, make_pos_database

logger = logging.getLogger(__name__)

DEMO_DATABASE = Path("datos") / "punto_de_venta.db"

# A 16x16 baseline JPEG (a red label with a white circle), so no imaging library is needed.
_PRODUCT_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdB"
    "RkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09P"
    "T09PT09PT09PT09PT0//wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABAAD/8QAIhAAAQQBBAIDAAAA"
    "AAAAAAAAAQIDBBEGBRIhMUHwE1Hx/8QAFQEBAQAAAAAAAAAAAAAAAAAABAX/xAAdEQABAwUBAAAAAAAAAAAAAAABAAIRBBIU"
    "MmGh/9oADAMBAAIRAxEAPwDXGseOsFbz6y3FbO0lBG5Sq6H12OfQjI8XGmRhLhOLcYTQdDhG5NmgRQFjkD3ixPX2NMS5EmDa"
    "wtRWHQCSlVAUQPHA6/E5TkkWZBMGAflS7RccKSkJo2AAa5se+CgMs6rjnVOTA18hf//Z"
)

_DEMO_DATABASE_BYTES = 4 * 1024 * 1024

_DEMO_IMAGES = {
    "Refresco de cola 600 ml.png": (200, 30, 40),
    "Jabón Zest 150 g.png": (40, 140, 210),
    "logo tienda.png": (240, 180, 20),
}
_DEMO_PHOTOS = ["Aguacate Hass.jpg", "Tornillo para madera 1 pulgada.jpg"]

_INVOICES = [
    ("A", 1001, "2024-03-15T13:42:10", "Ferretería El Clavo S.A. de C.V.", "FCL950312K21", "601", 1850.00),
    ("A", 1002, "2024-03-16T10:05:44", "María Guadalupe Hernández Núñez", "HENG850704QW3", "605", 436.50),
    ("A", 1003, "2024-03-18T18:21:02", "Cocina económica Doña Lupita S.C.", "CED120930PL8", "612", 2712.35),
]


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid RGB PNG: a diagonal shade of ``rgb`` (product photos compress, but not to nothing)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            shade = (x + y) * 96 // (width + height)
            rows.extend(min(255, c + shade) for c in rgb)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF with ``lines`` of text (ASCII), with a correct cross-reference table."""
    text = "BT /F1 11 Tf 50 780 Td 14 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines
    ) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
         b" /Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d >>\nstream\n" % len(text) + text.encode("ascii") + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _cfdi(series: str, folio: int, when: str, name: str, rfc: str, regime: str, total: float) -> str:
    """A CFDI 4.0-shaped invoice (not stamped by a real PAC: the seal is a placeholder)."""
    subtotal = round(total / 1.16, 2)
    tax = round(total - subtotal, 2)
    uuid = f"{zlib.crc32(f'{series}{folio}'.encode()):08X}-6F2A-4C1B-9E37-{folio:012X}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" xmlns:tfd="http://www.sat.gob.mx/TimbreFiscalDigital"
  Version="4.0" Serie="{series}" Folio="{folio}" Fecha="{when}" FormaPago="01" MetodoPago="PUE"
  SubTotal="{subtotal:.2f}" Moneda="MXN" Total="{total:.2f}" TipoDeComprobante="I" Exportacion="01"
  LugarExpedicion="37000" NoCertificado="00001000000509846663" Sello="U2VsbG8gZGUgZGVtb3N0cmFjacOzbg==">
  <cfdi:Emisor Rfc="AGU160104T52" Nombre="ABARROTES LA GÜERA" RegimenFiscal="612"/>
  <cfdi:Receptor Rfc="{rfc}" Nombre="{name.upper()}" DomicilioFiscalReceptor="37000"
    RegimenFiscalReceptor="{regime}" UsoCFDI="G03"/>
  <cfdi:Conceptos>
    <cfdi:Concepto ClaveProdServ="01010101" Cantidad="1" ClaveUnidad="ACT" Descripcion="Venta"
      ValorUnitario="{subtotal:.2f}" Importe="{subtotal:.2f}" ObjetoImp="02">
      <cfdi:Impuestos><cfdi:Traslados>
        <cfdi:Traslado Base="{subtotal:.2f}" Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.160000"
          Importe="{tax:.2f}"/>
      </cfdi:Traslados></cfdi:Impuestos>
    </cfdi:Concepto>
  </cfdi:Conceptos>
  <cfdi:Impuestos TotalImpuestosTrasladados="{tax:.2f}">
    <cfdi:Traslados><cfdi:Traslado Base="{subtotal:.2f}" Impuesto="002" TipoFactor="Tasa"
      TasaOCuota="0.160000" Importe="{tax:.2f}"/></cfdi:Traslados>
  </cfdi:Impuestos>
  <cfdi:Complemento>
    <tfd:TimbreFiscalDigital Version="1.1" UUID="{uuid}" FechaTimbrado="{when}"
      RfcProvCertif="SAT970701NN3" SelloCFD="U2VsbG8=" NoCertificadoSAT="00001000000505142236"
      SelloSAT="U2VsbG8gU0FU"/>
  </cfdi:Complemento>
</cfdi:Comprobante>
"""


_SETTINGS = """; Ajustes del punto de venta (demostración de Respaldos)
[tienda]
nombre = Abarrotes La Güera
rfc = AGU160104T52
direccion = Calle Hidalgo 214, Centro, León, Gto.
telefono = 477 712 3456

[base_de_datos]
ruta = datos/punto_de_venta.db
modo_diario = wal

[caja]
cajas = 2
moneda = MXN
iva = 0.16
imprimir_ticket = sí

[impresora]
nombre = EPSON TM-T20III
ancho_papel_mm = 80
"""


def make_demo_folder(folder) -> Path:
    """Write a small, realistic POS data folder into ``folder`` (created if needed) and return it.

    Contents: ``datos/punto_de_venta.db`` (a ~4 MB SQLite database in WAL mode), product images in
    ``imagenes/`` (PNG and JPEG), CFDI-style XML invoices and a PDF in ``facturas/`` and
    ``config/ajustes.ini``. Some names carry spaces, accents and ñ, as real shops' files do. The
    same files are written every time; existing files with those names are replaced.
    """
    folder = Path(folder)
    make_pos_database(folder / DEMO_DATABASE, _DEMO_DATABASE_BYTES, seed=0, journal_mode="wal")

    images = folder / "imagenes"
    images.mkdir(parents=True, exist_ok=True)
    for name, rgb in _DEMO_IMAGES.items():
        (images / name).write_bytes(_png(96, 96, rgb))
    for name in _DEMO_PHOTOS:
        (images / name).write_bytes(_PRODUCT_JPEG)

    invoices = folder / "facturas" / "2024 marzo"
    invoices.mkdir(parents=True, exist_ok=True)
    for series, folio, when, name, rfc, regime, total in _INVOICES:
        xml = _cfdi(series, folio, when, name, rfc, regime, total)
        (invoices / f"{series}-{folio} {name.rstrip('.')}.xml").write_text(xml, encoding="utf-8")
    series, folio, when, name, rfc, _regime, total = _INVOICES[0]
    pdf_lines = [
        "ABARROTES LA GUERA - RFC AGU160104T52",
        f"Factura {series}-{folio}   Fecha {when}",
        f"Cliente: {ascii_upper(name)}   RFC {rfc}",
        f"Total: ${total:,.2f} MXN",
    ]
    (invoices / f"Factura {series}-{folio}.pdf").write_bytes(_pdf(pdf_lines))

    config = folder / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "ajustes.ini").write_text(_SETTINGS, encoding="utf-8")
    logger.info("Demo POS folder written to %s", folder)
    return folder
