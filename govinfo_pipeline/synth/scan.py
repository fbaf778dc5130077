"""Scanned renderings of the generator's PDFs (``pdf-scan``): each page printed and scanned, as far as a test can.

Each page is rendered to an image, turned by up to ±1° (as a sheet lies on a scanner), speckled with noise,
JPEG-compressed, and the pages are put back together as a PDF with no text layer at all.
"""

from __future__ import annotations

import io
import random

DPI = 200
MAX_DEGREES = 1.0
JPEG_QUALITY = 70


def scan(pdf: bytes, rng: random.Random, dpi: int = DPI) -> bytes:
    """An image-only PDF of ``pdf``'s pages, each skewed, noisy and JPEG-compressed."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    doc = pdfium.PdfDocument(pdf)
    pages: list[Image.Image] = []
    try:
        for page in doc:
            img = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            img = img.rotate(rng.uniform(-MAX_DEGREES, MAX_DEGREES), resample=Image.Resampling.BICUBIC, fillcolor=255)
            noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 12, (img.height, img.width))
            img = Image.fromarray(np.clip(np.asarray(img, dtype=np.float64) + noise, 0, 255).astype(np.uint8))
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=JPEG_QUALITY)
            pages.append(Image.open(io.BytesIO(buf.getvalue())))
    finally:
        doc.close()
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=float(dpi))
    return out.getvalue()
