#!/usr/bin/python3
"""Writes fixtures.json: what PIL 9.4, OpenCV 4.6, torchvision 0.14 and imagehash 4.3.2 give on real photos that Debian
packages ship. The C# tests compare DeepRetrieval.Imaging against these values.

Run with Debian's interpreter from this folder:
    PYTHONPATH=/path/to/imagehash-4.3.2 /usr/bin/python3 make_fixtures.py
Needs: python3-pil python3-numpy python3-scipy python3-pywt python3-opencv python3-torch python3-torchvision, the photo packages
python3-skimage (its data/ samples), mate-backgrounds and gnome-backgrounds, and the imagehash package (not in Debian:
github.com/JohannesBuchner/imagehash, tag 4.3.2, only imagehash/__init__.py is needed).

Values are sha256 checksums of whole images plus a few sampled pixels, so the file stays small.
"""
import base64, hashlib, io, json, os
import numpy as np
from PIL import Image, ImageOps
import cv2
import imagehash
import torch
import torchvision.transforms.functional as TF

assert imagehash.__version__ == "4.3.2", imagehash.__version__
SK = "/usr/lib/python3/dist-packages/skimage/data/"
MATE = "/usr/share/backgrounds/mate/"
PHOTOS = {
    # name: (path, Debian package)
    "astronaut": (SK + "astronaut.png", "python3-skimage"),
    "coffee": (SK + "coffee.png", "python3-skimage"),
    "chelsea": (SK + "chelsea.png", "python3-skimage"),
    "camera": (SK + "camera.png", "python3-skimage"),
    "rocket": (SK + "rocket.jpg", "python3-skimage"),
    "meadow": (MATE + "nature/GreenMeadow.jpg", "mate-backgrounds"),
    "aqua": (MATE + "nature/Aqua.jpg", "mate-backgrounds"),
    "arc": (MATE + "abstract/Arc-Colors-Transparent-Wallpaper.png", "mate-backgrounds"),
    "pixels": ("/usr/share/backgrounds/gnome/pixels-l.webp", "gnome-backgrounds"),
}
FILTERS = {"Box": Image.BOX, "Bilinear": Image.BILINEAR, "Hamming": Image.HAMMING, "Bicubic": Image.BICUBIC, "Lanczos": Image.LANCZOS}
RNG = np.random.default_rng(12)


def sha(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def samples(array, count=24):
    """[x, y, channel, value] at seeded positions."""
    a = array if array.ndim == 3 else array[:, :, None]
    h, w, c = a.shape
    out = []
    for _ in range(count):
        y, x, ch = int(RNG.integers(h)), int(RNG.integers(w)), int(RNG.integers(c))
        out.append([x, y, ch, int(a[y, x, ch])])
    return out


def resize_entry(im, w, h, name, mode):
    out = np.asarray(im.resize((w, h), FILTERS[name]))
    return {"width": w, "height": h, "filter": name, "mode": mode, "sha256": sha(out), "samples": samples(out, 8)}


def photo_entry(path, package):
    pil = Image.open(path)
    rgb, grey = pil.convert("RGB"), pil.convert("L")
    w, h = rgb.size
    entry = {"path": path, "package": package, "mode": pil.mode, "width": w, "height": h,
             "rgb_sha256": sha(np.asarray(rgb)), "rgb_samples": samples(np.asarray(rgb)),
             "grey_sha256": sha(np.asarray(grey)), "resizes": []}
    if pil.mode == "RGBA":
        rgba = pil.convert("RGBA")
        entry["rgba_resizes"] = [resize_entry(rgba, 300, 200, n, "rgba") for n in ("Bilinear", "Lanczos")]
    if path.endswith(".jpg"):
        # PIL's Image.draft: libjpeg's DCT-domain downscale by 2, 4 or 8 before any resize.
        drafted = Image.open(path)
        drafted.draft("RGB", (224, 224))
        drafted = drafted.convert("RGB")
        entry["draft224"] = {"width": drafted.size[0], "height": drafted.size[1], "sha256": sha(np.asarray(drafted))}
    if w * h > 5_000_000:
        return entry  # decode only: the 4096² WebP
    for (tw, th) in [(224, 224), (9, 8), (333, 517), (w * 3 // 2, h + 7)]:
        for name in FILTERS:
            entry["resizes"].append(resize_entry(rgb, tw, th, name, "rgb"))
    for name in ("Bilinear", "Lanczos"):
        entry["resizes"].append(resize_entry(grey, 100, 61, name, "grey"))
    arr = np.asarray(rgb)
    entry["linear_exact"] = []
    for (tw, th) in [(224, 224), (32, 32), (w * 2 - 3, h // 3)]:
        exact = cv2.resize(arr, (tw, th), interpolation=cv2.INTER_LINEAR_EXACT)
        linear = cv2.resize(arr, (tw, th), interpolation=cv2.INTER_LINEAR)
        # PyTorch's bilinear interpolation (no antialiasing) on the float image, rounded half to even to 8 bits.
        planes = torch.from_numpy(arr.astype(np.float32)).permute(2, 0, 1)[None]
        interpolated = torch.nn.functional.interpolate(planes, size=(th, tw), mode="bilinear", align_corners=False, antialias=False)
        rounded = torch.round(interpolated[0]).clamp(0, 255).permute(1, 2, 0).numpy().astype(np.uint8)
        entry["linear_exact"].append({"width": tw, "height": th, "sha256": sha(exact), "linear_samples": samples(linear, 32),
                                      "torch_samples": samples(rounded, 32)})
    entry["letterbox"] = {"width": 256, "height": 256, "filter": "Bilinear",
                          "sha256": sha(np.asarray(ImageOps.pad(rgb, (256, 256), Image.BILINEAR)))}
    # torchvision's eval transform on a PIL image: Resize(256) (shorter side, bilinear), CenterCrop(224), ToTensor, Normalize.
    resized = TF.resize(rgb, 256, interpolation=TF.InterpolationMode.BILINEAR)
    cropped = TF.center_crop(resized, 224)
    tensor = TF.normalize(TF.to_tensor(cropped), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).numpy()
    picks = [[int(RNG.integers(3)), int(RNG.integers(224)), int(RNG.integers(224))] for _ in range(32)]
    entry["imagenet"] = {"resized_width": resized.size[0], "resized_height": resized.size[1],
                         "crop_sha256": sha(np.asarray(cropped)),
                         "values": [[c, y, x, float(tensor[c, y, x])] for c, y, x in picks]}
    entry["hashes"] = {
        "ahash": str(imagehash.average_hash(pil)), "ahash16": str(imagehash.average_hash(pil, 16)),
        "dhash": str(imagehash.dhash(pil)), "dhash16": str(imagehash.dhash(pil, 16)),
        "dhash_vertical": str(imagehash.dhash_vertical(pil)),
        "phash": str(imagehash.phash(pil)), "phash16": str(imagehash.phash(pil, 16)), "phash6": str(imagehash.phash(pil, 6)),
        "whash": str(imagehash.whash(pil)), "whash16": str(imagehash.whash(pil, 16)),
        "whash_scale64": str(imagehash.whash(pil, 8, image_scale=64)),
        "whash_keep_ll": str(imagehash.whash(pil, remove_max_haar_ll=False)),
    }
    bgr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    entry["hashes"]["opencv_ahash"] = cv2.img_hash.averageHash(bgr).tobytes().hex()
    entry["hashes"]["opencv_phash"] = cv2.img_hash.pHash(bgr).tobytes().hex()
    return entry


def small_files():
    """Tiny files in formats the photo packages lack, and EXIF orientations 1–8, embedded as base64."""
    pattern = np.zeros((6, 10, 3), np.uint8)  # asymmetric, so every orientation differs
    pattern[..., 0] = np.arange(10)[None, :] * 25
    pattern[..., 1] = np.arange(6)[:, None] * 40
    pattern[0, 0] = (255, 255, 255)
    base = Image.fromarray(pattern).resize((40, 24), Image.NEAREST)
    files = {}
    for fmt in ("BMP", "GIF", "PNG", "WEBP"):
        buffer = io.BytesIO()
        base.save(buffer, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
        data = buffer.getvalue()
        decoded = Image.open(io.BytesIO(data)).convert("RGB")
        files[fmt.lower()] = {"base64": base64.b64encode(data).decode(), "width": decoded.size[0], "height": decoded.size[1],
                              "rgb_sha256": sha(np.asarray(decoded))}
    orientations = {}
    for value in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = value
        buffer = io.BytesIO()
        base.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
        data = buffer.getvalue()
        im = Image.open(io.BytesIO(data))
        stored = np.asarray(im.convert("RGB"))
        upright = ImageOps.exif_transpose(im).convert("RGB")
        orientations[str(value)] = {"base64": base64.b64encode(data).decode(), "stored_sha256": sha(stored),
                                    "upright_width": upright.size[0], "upright_height": upright.size[1],
                                    "upright_sha256": sha(np.asarray(upright))}
    return files, orientations


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    files, orientations = small_files()
    fixtures = {"generator": "make_fixtures.py", "pil": Image.__version__, "opencv": cv2.__version__,
                "imagehash": imagehash.__version__,
                "photos": {name: photo_entry(path, package) for name, (path, package) in PHOTOS.items()},
                "files": files, "orientations": orientations}
    with open(os.path.join(here, "fixtures.json"), "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
