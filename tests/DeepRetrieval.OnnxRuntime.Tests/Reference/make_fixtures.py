"""Writes the small ONNX models and expected values the ONNX Runtime embedder tests read.

Run from this folder with Debian's PyTorch (python3-torch 1.13, python3-torchvision, python3-pil, python3-numpy):
    DNNL_MAX_CPU_ISA=AVX /usr/bin/python3 make_fixtures.py
Everything is seeded, so a rerun rewrites the same values (the .onnx bytes may differ between PyTorch versions).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

torch.manual_seed(2026)
OUT = os.path.dirname(os.path.abspath(__file__))


class TinyCnn(torch.nn.Module):
    """Two strided 3 x 3 convolutions with ReLU: a 16-channel feature map at 1/4 of the input size, and its average pool."""

    def __init__(self, channels=3):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(channels, 8, 3, stride=2, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)

    def stages(self, x):
        first = F.relu(self.conv1(x))
        return first, F.relu(self.conv2(first))

    def forward(self, x):
        _, features = self.stages(x)
        return torch.flatten(F.adaptive_avg_pool2d(features, 1), 1), features


class TwoInputs(torch.nn.Module):
    def forward(self, a, b):
        return torch.flatten(a + b, 1)


class Tokens(torch.nn.Module):
    """Rank-3 output (N x T x D), as a vision transformer's token sequence."""

    def forward(self, x):
        return torch.flatten(x, 2).transpose(1, 2)


class ToFloat(torch.nn.Module):
    """Takes int64 images."""

    def forward(self, x):
        return torch.flatten(x.float(), 1)


class Flat(torch.nn.Module):
    def forward(self, x):
        return torch.flatten(x, 1) * 2


def export(model, example, name, input_names, output_names, dynamic_axes):
    torch.onnx.export(model, example, os.path.join(OUT, name), input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=13)


def gem(maps, p=3.0, eps=1e-6):
    """cirtorch gem in float64 from the float32 maps."""
    maps = maps.double()
    return maps.clamp(min=eps).pow(p).mean(dim=(2, 3)).pow(1.0 / p)


def save(name, array):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(array, dtype=np.float32))


model = TinyCnn().eval()
grey = TinyCnn(channels=1).eval()
example = torch.rand(2, 3, 32, 32)
export(model, example, "tiny_cnn.onnx", ["images"], ["embedding", "features"],
       {"images": {0: "N"}, "embedding": {0: "N"}, "features": {0: "N"}})
export(model, example, "tiny_cnn_any_size.onnx", ["images"], ["embedding", "features"],
       {"images": {0: "N", 2: "H", 3: "W"}, "embedding": {0: "N"}, "features": {0: "N", 2: "h", 3: "w"}})
export(model, example, "tiny_cnn_batch2.onnx", ["images"], ["embedding", "features"], None)
export(grey, torch.rand(2, 1, 32, 32), "tiny_grey_cnn.onnx", ["images"], ["embedding", "features"],
       {"images": {0: "N"}, "embedding": {0: "N"}, "features": {0: "N"}})
export(TwoInputs(), (torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4)), "two_inputs.onnx", ["a", "b"], ["sum"], None)
export(Tokens(), torch.rand(1, 3, 4, 4), "tokens.onnx", ["images"], ["tokens"], {"images": {0: "N"}, "tokens": {0: "N"}})
export(ToFloat(), torch.zeros(1, 3, 4, 4, dtype=torch.int64), "int_images.onnx", ["images"], ["embedding"], {"images": {0: "N"}, "embedding": {0: "N"}})
export(Flat(), torch.rand(1, 3, 32), "rank3_input.onnx", ["signal"], ["embedding"], {"signal": {0: "N"}, "embedding": {0: "N"}})

# Five normalised-looking images (values around 0, both signs) and their outputs.
images = torch.randn(5, 3, 32, 32)
with torch.no_grad():
    first, features = model.stages(images)
    embedding, _ = model(images)
    save("images.npy", images.reshape(5, -1).numpy())
    save("expected_embedding.npy", embedding.numpy())                               # the graph's first output, as is
    save("expected_gem3_l2.npy", F.normalize(gem(features), dim=1).numpy())         # GeM p=3 then L2
    save("expected_gem2_raw.npy", gem(features, p=2.0).numpy())                     # GeM p=2, no L2
    save("expected_mac_raw.npy", features.double().amax(dim=(2, 3)).numpy())        # MAC, no L2
    save("expected_first_stage_spoc_raw.npy", first.double().mean(dim=(2, 3)).numpy())  # SPoC of the first ReLU, no L2
    # The any-size model at 48 x 40 (features 12 x 10).
    wide = torch.randn(2, 3, 48, 40)
    _, wide_features = model.stages(wide)
    save("images_48x40.npy", wide.reshape(2, -1).numpy())
    save("expected_48x40_gem3_raw.npy", gem(wide_features).numpy())
    # The grey model.
    grey_images = torch.randn(3, 1, 32, 32)
    _, grey_features = grey.stages(grey_images)
    save("grey_images.npy", grey_images.reshape(3, -1).numpy())
    save("expected_grey_gem3_raw.npy", gem(grey_features).numpy())

# torchvision's ToTensor + Normalize(ImageNet) on a small RGB image, for the normalisation's bit-for-bit check.
rng = np.random.default_rng(7)
pixels = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
pixels[0, 0] = [0, 128, 255]
np.save(os.path.join(OUT, "pixels_5x7_rgb.npy"), pixels.astype(np.float32).reshape(5, 21))
normalize = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
save("expected_imagenet_planes.npy", normalize(Image.fromarray(pixels, "RGB")).numpy().reshape(3, 35))
print("written to", OUT)
