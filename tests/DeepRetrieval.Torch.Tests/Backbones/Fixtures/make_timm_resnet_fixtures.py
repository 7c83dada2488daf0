"""Makes the timm reference fixtures of the SE-ResNet and ResNeSt agreement tests (SEResNetAndResNeStTests).

Run with Debian's PyTorch 1.13 (python3-torch) and the timm source (github.com/huggingface/pytorch-image-models, commit
aa4b5850) on PYTHONPATH; tvstub.py (next to this file) satisfies timm's torchvision imports, which the networks never use.
On CPUs whose CPUID hides the cache sizes oneDNN needs DNNL_MAX_CPU_ISA=AVX:

    DNNL_MAX_CPU_ISA=AVX PYTHONPATH=/path/to/pytorch-image-models:. /usr/bin/python3 make_timm_resnet_fixtures.py

Writes (helpers and format in timm_fixture_io.py)
- timm_seresnet50_keys.txt, timm_resnest50d_keys.txt: every state-dict key of timm's seresnet50 / resnest50d without the
  classifier, with its shape;
- timm_seresnet_tiny.tensors, timm_resnest_tiny.tensors: timm's ResNet with the seresnet50 / resnest50d block arguments
  (SE bottlenecks; split-attention bottlenecks with radix 2, avd, deep stem and average-pool shortcuts) but narrow stages
  (planes 8, 16, 32, 64) and 2, 1, 1, 1 blocks, so the whole state dict is small: its random weights and batch-norm
  statistics, an input batch, every stage's output and forward_features in eval mode.
"""
import torch
import tvstub  # noqa: F401
import timm
from timm.models.resnet import ResNet, Bottleneck
from timm.models.resnest import ResNestBottleneck
from timm_fixture_io import randomise, write_keys, write_tensors

torch.manual_seed(0)
write_keys(timm.create_model('seresnet50', num_classes=0), 'timm_seresnet50_keys.txt')
write_keys(timm.create_model('resnest50d', num_classes=0), 'timm_resnest50d_keys.txt')

tiny = dict(layers=(2, 1, 1, 1), channels=(8, 16, 32, 64), num_classes=0)
networks = {
    'timm_seresnet_tiny.tensors': ResNet(block=Bottleneck, block_args=dict(attn_layer='se'), **tiny),
    'timm_resnest_tiny.tensors': ResNet(
        block=ResNestBottleneck, stem_type='deep', stem_width=8, avg_down=True, base_width=64, cardinality=1,
        block_args=dict(radix=2, avd=True, avd_first=False), **tiny),
}
# 40 × 40: the maps shrink 20, 10, 10, 5, 3, 2, so strided convolutions and the ceil-mode shortcut pools meet odd sizes.
x = torch.randn(2, 3, 40, 40, generator=torch.Generator().manual_seed(1))
for path, net in networks.items():
    # timm zero-initialises the last BN of every residual branch; random statistics and affine weights make every
    # branch count.
    randomise(net)
    net.eval()
    entries = list(net.state_dict().items())
    with torch.no_grad():
        entries.append(('input', x))
        y = net.maxpool(net.act1(net.bn1(net.conv1(x))))
        entries.append(('stage.stem', y))
        for name in ('layer1', 'layer2', 'layer3', 'layer4'):
            y = getattr(net, name)(y)
            entries.append((f'stage.{name}', y))
        entries.append(('output', net.forward_features(x)))
    write_tensors(entries, path)
