# Makes the checkpoint fixtures of WeightsTests with PyTorch 1.13 (python3 make_fixtures.py in this folder).
# The safetensors files are written by the hand-rolled writer below (no safetensors module), independently of the C# writer.
import argparse, collections, json, struct
import torch

torch.manual_seed(7)


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


net = Tiny()
with torch.no_grad():
    net.bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3, 0.05]))
    net.bn.running_var.copy_(torch.tensor([1.5, 0.7, 1.1, 0.9]))
    net.bn.weight.copy_(torch.tensor([1.2, 0.8, 1.0, 0.5]))
    net.bn.bias.copy_(torch.tensor([0.1, 0.0, -0.1, 0.2]))
net.eval()
sd = net.state_dict()
torch.save(sd, "tiny.pt")
torch.save({"epoch": 3, "state_dict": collections.OrderedDict(("module." + k, v) for k, v in sd.items())}, "nested.pt")
torch.save({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, "tiny_half.pt")
torch.save(sd, "legacy.pt", _use_new_zipfile_serialization=False)
torch.save({"weights": sd["fc.weight"], "args": argparse.Namespace(lr=0.1)}, "foreign_global.pt")

# Views into one storage: a transpose, an offset slice with a stride, and the base itself.
base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
torch.save({"base": base, "transposed": base.t(), "corner": base[1:, 1::2], "row": base[2]}, "views.pt")
torch.save({
    "f64": torch.tensor([1.5, -2.25], dtype=torch.float64),
    "bf16": torch.tensor([1.0, -0.5, 3.0], dtype=torch.bfloat16),
    "f16": torch.tensor([[0.5, 2.0]], dtype=torch.float16),
    "i64": torch.tensor([-3, 2**40], dtype=torch.int64),
}, "dtypes.pt")

# Parameters (torch._utils._rebuild_parameter), bool and uint8 storages, pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL).
torch.save({"w": torch.nn.Parameter(torch.arange(6, dtype=torch.float32).reshape(2, 3)),
            "mask": torch.tensor([True, False, True]), "u8": torch.tensor([0, 200], dtype=torch.uint8)},
           "protocol4.pt", pickle_protocol=4)

x = torch.linspace(-1, 1, 2 * 3 * 5 * 5).reshape(2, 3, 5, 5)
with torch.no_grad():
    y = net(x)
json.dump({"output": y.flatten().tolist()}, open("tiny_output.json", "w"))

CODES = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64", torch.float64: "F64", torch.bfloat16: "BF16"}


def write_safetensors(path, tensors, metadata=None):
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": CODES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


write_safetensors("tiny.safetensors", sd, {"source": "make_fixtures.py"})
write_safetensors("dtypes.safetensors", {"bf16": torch.tensor([1.0, -0.5, 3.0], dtype=torch.bfloat16), "i64": torch.tensor([-3, 2**40])})
