#!/usr/bin/env python3
"""Writes the sample supporting documents of fixtures/documents (byte-identical on every run).

Small but valid files: one-page PDFs with a line of text, a PNG screenshot placeholder, a CSV list.
The demo attaches them to the Clinique du Parc's statement (fixtures/documents/clinique-parc-d1bis.toml).
"""
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "documents")


def pdf(lines):
    """A one-page PDF (Helvetica, WinAnsi) showing the given lines."""
    def esc(text):
        return text.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    content = b"BT /F1 11 Tf 56 780 Td 14 TL\n"
    for line in lines:
        content += b"(" + esc(line) + b") Tj T*\n"
    content += b"ET\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"endstream",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(i).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objects) + 1).encode() + b"\n0000000000 65535 f \n"
    for off in offsets:
        out += ("%010d 00000 n \n" % off).encode()
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" /Root 1 0 R >>\nstartxref\n" + str(xref).encode() + b"\n%%EOF\n"
    return out


def png(width, height, rgb):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


FILES = {
    "facture-surfacia-FA-2026-0387.pdf": pdf([
        "Surfacia Audit SAS - FACTURE FA-2026-0387 du 31/03/2026",
        "Client : Clinique du Parc Saint-Lazare (FINESS 130004526)",
        "Bon de commande BC-2026-0112 du 20/02/2026",
        "Audits d'exposition internet sur plateforme industrielle, 6 campagnes",
        "Montant TTC : 14 400,00 EUR",
    ]),
    "facture-remedia-2026-118-acquittee.pdf": pdf([
        "Remedia Conseil - FACTURE 2026-118 du 18/05/2026 - ACQUITTEE",
        "Client : Clinique du Parc Saint-Lazare (FINESS 130004526)",
        "Correction des vulnerabilites critiques du portail patient",
        "Montant TTC : 9 850,50 EUR - regle par virement le 12/06/2026",
    ]),
    "description-infrastructures-ad.pdf": pdf([
        "Description exhaustive des infrastructures AD - Clinique du Parc Saint-Lazare",
        "5 annuaires : un par etablissement geographique (EG1 a EG5)",
    ]),
    "rapports-audits-ads-2026.pdf": pdf([
        "Rapports des audits ADS (ORADAD) realises durant la phase operationnelle",
        "EG1 a EG5 : audits bimestriels, scores avant-dernier / dernier du Cas #1 (seed 003)",
    ]),
    "rapport-exercice-crise-cyber.pdf": pdf([
        "Rapport de realisation de l'exercice de crise cyber (modele des kits ANS)",
        "Etablissements : EG1 a EG5 (FINESS PMSI) - scenario, deroule, RETEX",
    ]),
    "capture-osis.png": png(32, 20, (0x2e, 0x5c, 0x8a)),
    "domaines-exposes.csv": "domaine;adresse IP;site\r\nclinique-parc.fr;203.0.113.10;EG1\r\nportail.clinique-parc.fr;203.0.113.11;EG1\r\n".encode("utf-8"),
}

os.makedirs(OUT, exist_ok=True)
for name, data in FILES.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")
