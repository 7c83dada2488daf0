#!/usr/bin/python3
"""Decode + resize throughput: PIL (Debian's python3-pil) against DeepRetrieval.Imaging, one thread each, rounds
interleaved in this script (the .NET side is a long-lived worker process answering one pass per request).

    dotnet build benchmarks/DeepRetrieval.ImagingBench -c Release
    /usr/bin/python3 benchmarks/DeepRetrieval.ImagingBench/pil_vs_imaging.py [--rounds 7] [--size 224] [files...]

Default photos: the JPEGs of Debian's mate-backgrounds (/usr/share/backgrounds/mate/nature). Pipelines:
  full   Image.open(f).convert("RGB").resize((s, s), BILINEAR)            vs decode + PIL-exact bilinear resize
  draft  im.draft("RGB", (s, s)) first (libjpeg DCT scaling), then same   vs ImageDecodeOptions.DraftSize
Prints images/second (median) and the speed ratio ours / PIL with its spread (median, min, max over rounds), from
wall-clock time and from process CPU time (the latter is steadier when other jobs share the cores).
"""
import argparse, glob, os, statistics, subprocess, sys, time
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "bin", "Release", "net10.0", "DeepRetrieval.ImagingBench")


def pil_pass(files, size, draft):
    start, cpu = time.perf_counter(), time.process_time()
    for f in files:
        with Image.open(f) as im:
            if draft:
                im.draft("RGB", (size, size))
            out = im.convert("RGB").resize((size, size), Image.BILINEAR)
            out.getpixel((size // 2, size // 2))
    return time.perf_counter() - start, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    files = args.files or sorted(glob.glob("/usr/share/backgrounds/mate/nature/*.jpg"))
    if not files:
        sys.exit("no photos: install mate-backgrounds or pass files")
    pixels = sum(Image.open(f).size[0] * Image.open(f).size[1] for f in files)
    print(f"{len(files)} JPEGs, {pixels / 1e6:.1f} Mpixel in all, resize to {args.size}x{args.size}, one thread each")
    for pipeline in ("full", "draft"):
        worker = subprocess.Popen([WORKER, pipeline, str(args.size)] + files, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, bufsize=1)
        assert worker.stdout.readline().strip() == "ready"
        pil_pass(files, args.size, pipeline == "draft")  # warm the file cache and PIL's imports
        ratios, cpu_ratios, ours_rate, pil_rate = [], [], [], []
        for r in range(args.rounds):
            # Alternate who goes first so drift in machine load hits both sides alike.
            order = ("pil", "ours") if r % 2 == 0 else ("ours", "pil")
            times = {}
            for side in order:
                if side == "pil":
                    times["pil"] = pil_pass(files, args.size, pipeline == "draft")
                else:
                    worker.stdin.write("round\n")
                    worker.stdin.flush()
                    times["ours"] = tuple(float(v) for v in worker.stdout.readline().split())
            pil_rate.append(len(files) / times["pil"][0])
            ours_rate.append(len(files) / times["ours"][0])
            ratios.append(times["pil"][0] / times["ours"][0])
            cpu_ratios.append(times["pil"][1] / times["ours"][1])
        worker.stdin.close()
        worker.wait()
        print(f"{pipeline:5s} PIL {statistics.median(pil_rate):7.1f} img/s   ours {statistics.median(ours_rate):7.1f} img/s   "
              f"speed ratio ours/PIL: wall-clock median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}), "
              f"CPU time median {statistics.median(cpu_ratios):.2f} (min {min(cpu_ratios):.2f}, max {max(cpu_ratios):.2f}), {args.rounds} rounds")


if __name__ == "__main__":
    main()
