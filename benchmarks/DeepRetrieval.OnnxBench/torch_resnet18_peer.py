"""PyTorch side of the ONNX Runtime embedder benchmark (benchmarks/DeepRetrieval.OnnxBench).

torchvision's resnet18 (seeded random weights, fc replaced by Identity: the 512-d average pool, then L2-normalised) in
inference mode. The .NET driver starts this script, which first exports the same network to ONNX (dynamic batch) so both
sides run identical weights, loads the preprocessed images the driver wrote, prints "ready", then answers commands on stdin:

    run <threads> <batch> <count>   embeds images 0..count-1 in batches; prints the elapsed seconds
    dump <count> <path.npy>         writes the embeddings of the first count images (to check both sides agree)
    quit

Run by the driver as  DNNL_MAX_CPU_ISA=AVX /usr/bin/python3 torch_resnet18_peer.py --images X.npy --export Y.onnx
(Debian's python3-torch 1.13 and python3-torchvision; the ISA cap avoids oneDNN's SIGFPE on this machine's CPU).
"""
import argparse
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

parser = argparse.ArgumentParser()
parser.add_argument("--images", required=True, help="float32 .npy, one preprocessed 3 x 224 x 224 image per row")
parser.add_argument("--export", help="write the network to this ONNX file first")
parser.add_argument("--seed", type=int, default=2026)
args = parser.parse_args()

torch.manual_seed(args.seed)
model = torchvision.models.resnet18(weights=None)
model.fc = torch.nn.Identity()
model.eval()
torch.set_num_interop_threads(1)
if args.export:
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), args.export, input_names=["images"], output_names=["embedding"],
                      dynamic_axes={"images": {0: "N"}, "embedding": {0: "N"}}, opset_version=13)
images = torch.from_numpy(np.load(args.images)).reshape(-1, 3, 224, 224).contiguous()


def embed(count, batch):
    outputs = []
    with torch.inference_mode():
        for start in range(0, count, batch):
            outputs.append(F.normalize(model(images[start:min(start + batch, count)]), dim=1))
    return outputs


print("ready", torch.__version__, torchvision.__version__, flush=True)
for line in sys.stdin:
    command = line.split()
    if not command:
        continue
    if command[0] == "run":
        threads, batch, count = (int(v) for v in command[1:4])
        torch.set_num_threads(threads)
        started = time.perf_counter()
        embed(count, batch)
        print(f"{time.perf_counter() - started:.6f}", flush=True)
    elif command[0] == "dump":
        count, path = int(command[1]), command[2]
        np.save(path, torch.cat(embed(count, 8)).numpy())
        print("ok", flush=True)
    elif command[0] == "quit":
        break
    else:
        print(f"unknown command {command[0]}", flush=True)
