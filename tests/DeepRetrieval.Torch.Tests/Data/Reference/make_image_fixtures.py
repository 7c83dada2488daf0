#!/usr/bin/python3
"""Expected values for the Torch package's image preprocessing and per-image augmentation, from torchvision 0.14 and
PIL 9.4 (Debian's python3-torchvision and python3-pil). Run from this folder:

    DNNL_MAX_CPU_ISA=AVX /usr/bin/python3 make_image_fixtures.py

Writes preprocessing_*.npy and augmentation_*.npy (float32 C x H x W tensors exactly as torchvision's transforms give
them, stored as C x (H * W)) and crop_params.json (RandomResizedCrop.get_params boxes for scripted random draws). The photos come from scikit-image's
samples (Debian package python3-skimage)."""
import json
import os

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
IMAGENET = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def save(name, tensor):
    # C x H x W saved as C x (H * W): the library's .npy reader takes one or two dimensions.
    array = tensor.numpy().astype(np.float32)
    np.save(name, array.reshape(array.shape[0], -1))
    print(name, array.shape)


def rgb(name):
    return Image.open(os.path.join(SKIMAGE, name)).convert("RGB")


# ImagePreprocessing: ShorterSide 64 + CenterCrop 56 + ImageNet mean/std (torchvision's eval transform, scaled down).
save("preprocessing_chelsea_shorter64_crop56_imagenet.npy",
     T.Compose([T.Resize(64), T.CenterCrop(56), T.ToTensor(), IMAGENET])(rgb("chelsea.png")))
# A JPEG photo the same way (PIL and the image package both decode with libjpeg-turbo's accurate integer IDCT).
save("preprocessing_rocket_shorter64_crop56_imagenet.npy",
     T.Compose([T.Resize(64), T.CenterCrop(56), T.ToTensor(), IMAGENET])(rgb("rocket.jpg")))
# Grey (PIL's convert("L")) resized to a 40 x 40 square, no normalisation.
save("preprocessing_chelsea_gray_square40.npy",
     T.Compose([T.Resize((40, 40)), T.ToTensor()])(Image.open(os.path.join(SKIMAGE, "chelsea.png")).convert("L")))
# Longer side 50 (cirtorch's imsize): 451 x 300 -> 50 x int(50 * 300 / 451) = 50 x 33.
image = rgb("chelsea.png")
w, h = image.size
size = (50, int(50 * h / w)) if w >= h else (int(50 * w / h), 50)
save("preprocessing_chelsea_longer50.npy", T.ToTensor()(image.resize(size, Image.BILINEAR)))
# ImageRandomResizedCrop's cut and resize: box (left 37, top 21, 200 x 150) resized to 48 x 32 (w x h), antialiased bilinear.
save("augmentation_chelsea_box37_21_200x150_to48x32.npy",
     T.ToTensor()(T.functional.resized_crop(image, 21, 37, 150, 200, [32, 48], T.InterpolationMode.BILINEAR)))


# RandomResizedCrop.get_params with scripted draws: torch.empty(1).uniform_(a, b) returns a + (b - a) * u for the next u,
# torch.randint returns the next scripted integer.
class Script:
    def __init__(self, doubles, ints):
        self.doubles, self.ints = list(doubles), list(ints)


def get_params(width, height, scale, ratio, script):
    real_empty, real_randint = torch.empty, torch.randint

    class Uniform:
        def uniform_(self, a, b):
            u = script.doubles.pop(0)
            return torch.tensor([float(a) + (float(b) - float(a)) * u], dtype=torch.float64)

    torch.empty = lambda *args, **kwargs: Uniform()
    def randint(low, high, size):
        value = script.ints.pop(0)
        assert low <= value < high, (value, low, high)
        return torch.tensor([value])

    torch.randint = randint
    try:
        image = torch.zeros(3, height, width)
        return T.RandomResizedCrop.get_params(image, scale, ratio)
    finally:
        torch.empty, torch.randint = real_empty, real_randint


cases = []
for width, height, scale, ratio, doubles, ints in [
    (451, 300, (0.08, 1.0), (3 / 4, 4 / 3), [0.5, 0.25], [7, 101]),
    (451, 300, (0.08, 1.0), (3 / 4, 4 / 3), [0.999, 0.999, 0.3, 0.7] + [0.5] * 16, [0, 0]),  # the first attempt is too tall
    (64, 48, (0.5, 1.0), (0.5, 2.0), [0.1, 0.9], [5, 3]),
    # The first attempt is too tall (ratio 1/2), the second fits.
    (64, 48, (0.5, 1.0), (0.5, 2.0), [0.99, 0.0, 0.0, 0.5] + [0.5] * 16, [4, 20]),
    # Nothing fits in ten attempts: torchvision's central fallback (ratio clamped to 4/3).
    (100, 10, (0.9, 1.0), (3 / 4, 4 / 3), [0.5] * 20, []),
    # A tall strip: the fallback narrows the height to width / (3/4).
    (10, 100, (0.9, 1.0), (3 / 4, 4 / 3), [0.5] * 20, []),
]:
    script = Script(doubles, ints)
    top, left, h, w = get_params(width, height, scale, ratio, script)
    used = len(doubles) - len(script.doubles)
    cases.append({"width": width, "height": height, "scale": list(scale), "ratio": list(ratio), "doubles": doubles[:used],
                  "ints": ints[:len(ints) - len(script.ints)], "left": left, "top": top, "boxWidth": w, "boxHeight": h})
with open("crop_params.json", "w") as f:
    json.dump(cases, f, indent=1)
print("crop_params.json", len(cases), "cases")
