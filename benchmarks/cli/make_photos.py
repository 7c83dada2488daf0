#!/usr/bin/python3
"""Makes N realistic JPEG photos (1-4 megapixels) for timing `deepretrieval index` end to end.

Sources are the photographs and wallpapers Debian packages ship (74 with all four installed): mate-backgrounds (nature,
abstract), plasma-workspace-wallpapers (the largest image of each theme under /usr/share/wallpapers), gnome-backgrounds
(WebP) and python3-skimage's sample photos. Each output is a seeded variant of a source: a random crop keeping 60-100 % of each side,
resized to a random size of 1 to 4 megapixels, sometimes mirrored, brightness and contrast changed by up to 15 %,
saved as a JPEG of quality 80-95. Usage: /usr/bin/python3 make_photos.py OUT_DIR [N=1000] [SEED=0]
"""
import glob
import os
import random
import sys

from PIL import Image, ImageEnhance

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 0)

sources = sorted(glob.glob("/usr/share/backgrounds/mate/nature/*.jpg") + glob.glob("/usr/share/backgrounds/mate/abstract/*.jpg")
                 + glob.glob("/usr/share/backgrounds/gnome/*.webp"))
for theme in sorted(glob.glob("/usr/share/wallpapers/*/contents")):
    images = glob.glob(theme + "/images*/*.jpg") + glob.glob(theme + "/images*/*.png")
    if images:
        sources.append(max(images, key=os.path.getsize))
skimage = "/usr/lib/python3/dist-packages/skimage/data/"
sources += [skimage + n for n in ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png",
                                  "motorcycle_right.png", "hubble_deep_field.jpg", "retina.jpg", "camera.png", "moon.png",
                                  "coins.png", "grass.png", "gravel.png", "brick.png", "color.png"] if os.path.exists(skimage + n)]
sources = [s for s in sources if os.path.getsize(s) > 10_000]
os.makedirs(out, exist_ok=True)
print(f"{len(sources)} source photos")
loaded = {}
for i in range(count):
    path = sources[i * len(sources) // count]   # consecutive outputs share a source: each is decoded once
    if path not in loaded:
        loaded.clear()
        loaded[path] = Image.open(path).convert("RGB")
    image = loaded[path]
    w, h = image.size
    cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    variant = image.crop((x, y, x + cw, y + ch))
    megapixels = rng.uniform(1.0, 4.0)
    scale = (megapixels * 1e6 / (cw * ch)) ** 0.5
    variant = variant.resize((max(1, round(cw * scale)), max(1, round(ch * scale))), Image.BICUBIC)
    if rng.random() < 0.5:
        variant = variant.transpose(Image.FLIP_LEFT_RIGHT)
    variant = ImageEnhance.Brightness(variant).enhance(rng.uniform(0.85, 1.15))
    variant = ImageEnhance.Contrast(variant).enhance(rng.uniform(0.85, 1.15))
    variant.save(os.path.join(out, f"photo-{i:04d}.jpg"), quality=rng.randint(80, 95))
print(f"wrote {count} photos to {out}")
