"""Makes the timm reference fixtures of EfficientNetTimmAgreementTests / DenseNetTimmAgreementTests.

Run with PyTorch 1.13+ and the timm source (github.com/huggingface/pytorch-image-models, commit aa4b5850) on PYTHONPATH;
torchvision is not needed: tvstub.py (next to this file) satisfies timm's torchvision imports with dummies, which the
network code never calls.

    PYTHONPATH=/path/to/pytorch-image-models:. python3 make_timm_fixtures.py

Writes (helpers in timm_fixture_io.py)
- *_keys.txt: every state-dict key of timm's efficientnet_b0 / densenet121 without the classifier, with its shape;
- *.tensors: a small timm network's full state dict (random weights and batch-norm statistics), an input batch, and
  the outputs of forward_features and of every feature stage in eval mode. Format (little endian): int32 count, then per
  tensor int32 name length, UTF-8 name, int32 rank, int64 shape[rank], float32 data.
"""
import torch
import tvstub  # noqa: F401
import timm
from timm_fixture_io import randomise, write_keys, write_tensors
from timm.models.efficientnet import _gen_efficientnet
from timm.models.densenet import DenseNet


torch.manual_seed(0)
write_keys(timm.create_model('efficientnet_b0'), 'timm_efficientnet_b0_keys.txt')
write_keys(timm.create_model('densenet121'), 'timm_densenet121_keys.txt')

# EfficientNet at width 0.25, depth 1.1: stage depths 2, 3, 3, 4, 4, 5, 2, so stage 0 has a depthwise-separable block
# with a skip; drop path 0.2 must be the identity in eval mode.
net = _gen_efficientnet('efficientnet_tiny', channel_multiplier=0.25, depth_multiplier=1.1, drop_path_rate=0.2, num_classes=0)
randomise(net)
net.eval()
x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
entries = [(k, v) for k, v in net.state_dict().items() if not k.startswith('classifier')]
with torch.no_grad():
    entries.append(('input', x))
    y = net.bn1(net.conv_stem(x))
    for i, stage in enumerate(net.blocks):
        y = stage(y)
        if i in (0, 1, 2, 4):
            entries.append((f'stage.blocks.{i}', y))
    entries.append(('stage.blocks.6', net.bn2(net.conv_head(y))))
    entries.append(('output', net.forward_features(x)))
write_tensors(entries, 'timm_efficientnet_w025_d11.tensors')

# DenseNet with growth 8, blocks 2, 3, 2, 16 stem channels, bottleneck 2.
dn = DenseNet(growth_rate=8, block_config=(2, 3, 2), bn_size=2, num_classes=0)  # timm: stem = 2 × growth = 16
randomise(dn)
dn.eval()
entries = [(k, v) for k, v in dn.state_dict().items() if not k.startswith('classifier')]
with torch.no_grad():
    entries.append(('input', x))
    f = dn.features
    y = f.norm0(f.conv0(x))
    entries.append(('stage.norm0', y))
    y = f.denseblock1(f.pool0(y))
    entries.append(('stage.denseblock1', y))
    y = f.denseblock2(f.transition1(y))
    entries.append(('stage.denseblock2', y))
    y = f.norm5(f.denseblock3(f.transition2(y)))
    entries.append(('stage.norm5', y))
    entries.append(('output', dn.forward_features(x)))
write_tensors(entries, 'timm_densenet_g8_b232.tensors')
