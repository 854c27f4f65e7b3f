"""Reads baked badges the way other software would (driven by e2e/tests/e2e/open_badges.rs).

    python baked_check.py FILE...   → [{file, format, width, height, credential}] as JSON

PNG through Pillow (it decodes the pixels and collects iTXt chunks into Image.text);
SVG through the standard library's ElementTree (the element in the Open Badges 3.0
namespace: its text, or its verify attribute for a JWS).
"""
import json
import sys
import xml.etree.ElementTree as ElementTree

from PIL import Image

OB = "{https://purl.imsglobal.org/ob/v3p0}credential"

out = []
for path in sys.argv[1:]:
    if path.endswith(".png"):
        with Image.open(path) as image:
            image.load()
            out.append({"file": path, "format": image.format, "width": image.width,
                        "height": image.height,
                        "credential": image.text.get("openbadgecredential")})
    else:
        root = ElementTree.parse(path).getroot()
        found = root.findall(f".//{OB}")
        credential = None
        if len(found) == 1:
            credential = found[0].get("verify") or (found[0].text or "").strip()
        out.append({"file": path, "format": "SVG", "root": root.tag,
                    "credentials": len(found), "credential": credential})
print(json.dumps(out))
