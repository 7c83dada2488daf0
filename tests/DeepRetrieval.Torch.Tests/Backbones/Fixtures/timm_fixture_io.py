"""Helpers shared by the timm fixture scripts: key lists, randomised batch-norm statistics and the .tensors format."""
import struct
import torch


def write_keys(model, path):
    with open(path, 'w') as f:
        for k, v in model.state_dict().items():
            if not k.startswith('classifier'):
                f.write(k + ' ' + ','.join(str(d) for d in v.shape) + '\n')


def randomise(model):
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.num_batches_tracked.fill_(7)


def write_tensors(entries, path):
    with open(path, 'wb') as f:
        f.write(struct.pack('<i', len(entries)))
        for name, t in entries:
            b = name.encode('utf-8')
            f.write(struct.pack('<i', len(b)) + b)
            f.write(struct.pack('<i', t.dim()))
            for d in t.shape:
                f.write(struct.pack('<q', d))
            f.write(t.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes())
